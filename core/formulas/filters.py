"""Filter conditions `{field, operator, value}`; a list of conditions means all of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.formulas.errors import Site
from core.formulas.operators import FILTER_OPERATORS, UNARY_OPERATORS, OperandTypeError
from core.formulas.scope import Scope
from core.schemas.paths import join_index, join_key

if TYPE_CHECKING:
    from core.formulas.compiler import Compiler

Predicate = Callable[[Scope], bool]


def compile_filter(spec: Any, c: Compiler, path: str) -> Predicate:
    """Compile one condition or a list of conditions into a predicate over the scope."""
    if isinstance(spec, dict):
        conditions = [_condition(spec, c, path)]
    elif isinstance(spec, list):
        conditions = [_condition(item, c, join_index(path, i)) for i, item in enumerate(spec)]
    else:
        c.problem(path, "a filter must be a condition {field, operator, value} or a list of them")
        return lambda scope: False
    if len(conditions) == 1:
        return conditions[0]

    return lambda scope: all(condition(scope) for condition in conditions)


def _condition(spec: Any, c: Compiler, path: str) -> Predicate:
    if not isinstance(spec, dict):
        c.problem(path, "a condition must be an object {field, operator, value}")
        return lambda scope: False
    operator_name = spec.get("operator")
    operator = FILTER_OPERATORS.get(operator_name) if isinstance(operator_name, str) else None
    if operator is None:
        shown = f'"{operator_name}"' if isinstance(operator_name, str) else "missing"
        c.problem(join_key(path, "operator"), f"unknown operator {shown}")
    if "field" not in spec:
        c.problem(join_key(path, "field"), "a condition needs a field")
    field = spec.get("field")
    read = c.variable_reader(field, join_key(path, "field")) if "field" in spec else None
    if "value" not in spec and operator_name not in UNARY_OPERATORS:
        c.problem(join_key(path, "value"), f"operator {operator_name} needs a value")
    value = c.compile(spec.get("value"), join_key(path, "value"))
    if operator is None or read is None:
        return lambda scope: False
    return _predicate(operator, str(operator_name), read, value, Site(path, (str(field),)))


def _predicate(
    operator: Callable[[Any, Any], bool],
    name: str,
    read: Callable[[Scope], Any],
    value: Callable[[Scope], Any],
    site: Site,
) -> Predicate:
    def matches(scope: Scope) -> bool:
        try:
            return operator(read(scope), value(scope))
        except OperandTypeError as error:
            raise site.fail(scope, f"{name}: {error}") from None

    return matches
