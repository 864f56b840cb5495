"""Formulas that choose or test: `$map`, `$case`, `$eval`, `$and`, `$or`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.formulas.filters import Predicate, compile_filter
from core.formulas.operators import EVAL_OPERATORS, UNARY_OPERATORS, OperandTypeError
from core.formulas.scope import Evaluator, Scope
from core.formulas.values import UNDEFINED, json_equal
from core.schemas.paths import join_index, join_key

if TYPE_CHECKING:
    from core.formulas.compiler import Compiler

_SCALARS = (str, int, float, bool, type(None))


def compile_map(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$map": {"value": ..., "mapping": [{"from": "a", "to": "A"}], "default": ...}}`.

    The first entry whose `from` equals the value (JSON equality: `true` is not `1`) gives its
    `to`; otherwise `default`, or undefined without one. `to` and `default` may be formulas.
    """
    if not isinstance(arg, dict) or "value" not in arg:
        return c.problem(here, "expected {value, mapping, default?}")
    mapping = arg.get("mapping")
    if not isinstance(mapping, list):
        return c.problem(join_key(here, "mapping"), "expected a list of {from, to}")
    value = c.compile(arg["value"], join_key(here, "value"))
    default = c.compile(arg["default"], join_key(here, "default")) if "default" in arg else None
    table: dict[tuple[bool, Any], Evaluator] = {}
    others: list[tuple[Any, Evaluator]] = []
    for i, entry in enumerate(mapping):
        path = join_index(join_key(here, "mapping"), i)
        if not isinstance(entry, dict) or "from" not in entry or "to" not in entry:
            c.problem(path, "expected {from, to}")
            continue
        target = c.compile(entry["to"], join_key(path, "to"))
        source = entry["from"]
        if isinstance(source, _SCALARS):
            table.setdefault((isinstance(source, bool), source), target)
        else:
            others.append((source, target))

    def map_value(scope: Scope) -> Any:
        current = value(scope)
        target = None
        if isinstance(current, _SCALARS):
            target = table.get((isinstance(current, bool), current))
        elif current is not UNDEFINED:
            target = next((t for source, t in others if json_equal(source, current)), None)
        if target is not None:
            return target(scope)
        return default(scope) if default is not None else UNDEFINED

    return map_value


def compile_case(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$case": [{"filter": ..., "value": ...}, {"value": ...}]}` or `{cases, default}`.

    The value of the first case whose filter matches; a case without a filter always matches.
    """
    cases, cases_path, default = arg, here, None
    if isinstance(arg, dict):
        cases, cases_path = arg.get("cases"), join_key(here, "cases")
        if "default" in arg:
            default = c.compile(arg["default"], join_key(here, "default"))
    if not isinstance(cases, list) or not cases:
        return c.problem(cases_path, "$case needs a non-empty list of cases")
    compiled: list[tuple[Predicate | None, Evaluator]] = []
    for i, case in enumerate(cases):
        path = join_index(cases_path, i)
        if not isinstance(case, dict) or "value" not in case:
            c.problem(path, "a case must be an object {filter?, value}")
            continue
        for key in sorted(set(case) - {"filter", "value"}):
            c.problem(join_key(path, key), "unknown case attribute (use filter, value)")
        condition = (
            compile_filter(case["filter"], c, join_key(path, "filter"))
            if "filter" in case
            else None
        )
        compiled.append((condition, c.compile(case["value"], join_key(path, "value"))))

    def case_value(scope: Scope) -> Any:
        for condition, result in compiled:
            if condition is None or condition(scope):
                return result(scope)
        return default(scope) if default is not None else UNDEFINED

    return case_value


def compile_eval(node: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$eval": <value>, "<operator>": <operand>}`: a boolean test of one value.

    Operators: is, isNot, oneOf, noneOf, contains, doesNotContain, lt, lte, gt, gte, isEmpty,
    isNotEmpty. The operand may be a formula.
    """
    parent = here.removesuffix("$eval").removesuffix(".")
    names = [key for key in node if key != "$eval"]
    for name in names:
        if name not in EVAL_OPERATORS:
            c.problem(join_key(parent, name), f'unknown $eval operator "{name}"')
    known = [name for name in names if name in EVAL_OPERATORS]
    if len(known) != 1:
        return c.problem(here, f"$eval needs exactly one operator: {', '.join(EVAL_OPERATORS)}")
    (name,) = known
    operator = EVAL_OPERATORS[name]
    subject = c.compile(node["$eval"], here)
    operand = c.compile(node[name], join_key(parent, name)) if name not in UNARY_OPERATORS else None
    site = c.site(here, node)

    def evaluate(scope: Scope) -> bool:
        try:
            return operator(subject(scope), operand(scope) if operand is not None else None)
        except OperandTypeError as error:
            raise site.fail(scope, f"{name}: {error}") from None

    return evaluate


def _compile_junction(arg: Any, c: Compiler, here: str, need_all: bool) -> Evaluator:
    if not isinstance(arg, list):
        return c.problem(here, "expected a list of conditions")
    parts = [c.compile(item, join_index(here, i)) for i, item in enumerate(arg)]

    def junction(scope: Scope) -> bool:
        for part in parts:
            value = part(scope)
            if (value is not UNDEFINED and bool(value)) is not need_all:
                return not need_all
        return need_all

    return junction


def compile_and(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$and": [a, b]}`: true when every value is truthy (stops at the first false)."""
    return _compile_junction(arg, c, here, need_all=True)


def compile_or(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$or": [a, b]}`: true when any value is truthy (stops at the first true)."""
    return _compile_junction(arg, c, here, need_all=False)
