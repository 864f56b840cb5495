"""Formulas that read, copy, combine and iterate values."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from core.formulas.errors import FormulaEvaluationError
from core.formulas.scope import MAX_DEPTH, Evaluator, Scope
from core.formulas.values import UNDEFINED, is_empty
from core.schemas.paths import join_index, join_key

if TYPE_CHECKING:
    from core.formulas.compiler import Compiler


def compile_var(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$var": "$.customer.name"}`: the value at a locator, undefined if absent."""
    read = c.variable_reader(arg, here)
    return read if read is not None else lambda scope: UNDEFINED


def compile_plain(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$plain": {...}}`: the argument as written; formulas inside are not evaluated."""
    return lambda scope: copy.deepcopy(arg)


def compile_copy(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$copy": "fullName"}`: a field of the result being built, by locator from its root."""
    get = c.getter(arg, here)
    if get is None:
        return lambda scope: UNDEFINED

    def copy_field(scope: Scope) -> Any:
        return UNDEFINED if scope.root is None else copy.deepcopy(get(scope.root))

    return copy_field


def _list_of_formulas(arg: Any, c: Compiler, here: str) -> list[Evaluator] | None:
    if not isinstance(arg, list):
        c.problem(here, "expected a list")
        return None
    return [c.compile(item, join_index(here, i)) for i, item in enumerate(arg)]


def compile_first_not_empty(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$firstNotEmpty": [a, b, c]}`: the first value that is not null/undefined/empty."""
    options = _list_of_formulas(arg, c, here)
    if options is None:
        return c.problem(here, "expected a list of values")

    def first_not_empty(scope: Scope) -> Any:
        for option in options:
            value = option(scope)
            if not is_empty(value):
                return value
        return UNDEFINED

    return first_not_empty


def compile_merge_objects(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$mergeObjects": [a, b]}`: shallow merge of objects, later keys win."""
    parts = _list_of_formulas(arg, c, here)
    if parts is None:
        return c.problem(here, "expected a list of objects")
    site = c.site(here, arg)

    def merge(scope: Scope) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for part in parts:
            value = part(scope)
            if type(value) is dict:
                merged.update(value)
            elif value is not None and value is not UNDEFINED:
                raise site.type_error(scope, "object", value)
        return merged

    return merge


def compile_iterate(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$iterate": {"source": ..., "item": ...}}`: map each element of an array.

    Inside `item`, `$.item` is the element, `$.index` its position and `$.parent` the
    variables outside this `$iterate` (so `$.parent.item` is the enclosing element).
    """
    if not isinstance(arg, dict) or "source" not in arg or "item" not in arg:
        return c.problem(here, "expected {source, item}")
    source = c.compile(arg["source"], join_key(here, "source"))
    item = c.compile(arg["item"], join_key(here, "item"))
    site = c.site(join_key(here, "source"), arg["source"])

    def iterate(scope: Scope) -> Any:
        elements = source(scope)
        if elements is None or elements is UNDEFINED:
            return UNDEFINED
        if type(elements) is not list:
            raise site.type_error(scope, "array", elements)
        outer, root = scope.variables, scope.root
        results = []
        try:
            for index, element in enumerate(elements):
                scope.variables = {**outer, "item": element, "parent": outer, "index": index}
                scope.root = root  # with no enclosing object, each item is its own root
                value = item(scope)
                if value is not UNDEFINED:
                    results.append(value)
        finally:
            scope.variables, scope.root = outer, root
        return results

    return iterate


def compile_record(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$record": {"id": ..., "name": ..., "fields": {...}}}`: a reference to a record.

    Undefined when the id is missing; the id is returned as a string.
    """
    if not isinstance(arg, dict) or "id" not in arg:
        return c.problem(here, "expected {id, name?, fields?}")
    unknown = sorted(set(arg) - {"id", "name", "fields"})
    for key in unknown:
        c.problem(join_key(here, key), "unknown record attribute (use id, name, fields)")
    record_id = c.compile(arg["id"], join_key(here, "id"))
    parts = {
        key: c.compile(arg[key], join_key(here, key)) for key in ("name", "fields") if key in arg
    }
    site = c.site(join_key(here, "id"), arg["id"])

    def record(scope: Scope) -> Any:
        identifier = record_id(scope)
        if is_empty(identifier):
            return UNDEFINED
        if type(identifier) not in (str, int):
            raise site.type_error(scope, "string", identifier)
        result: dict[str, Any] = {"id": str(identifier)}
        for key, part in parts.items():
            value = part(scope)
            if value is not UNDEFINED:
                result[key] = value
        return result

    return record


def compile_dynamic_formula(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$formula": {"$var": "$.settings.title"}}`: evaluate a formula held in the data.

    The argument is evaluated first; its value is then compiled (cached) and evaluated with the
    same variables. A value that is not a formula is returned as built.
    """
    source = c.compile(arg, here)
    detached = c.detached

    def formula(scope: Scope) -> Any:
        value = source(scope)
        if value is UNDEFINED:
            return UNDEFINED
        evaluator, problems = detached(value)
        if problems:
            inner = problems[0]
            where = here + ("" if not inner.path or inner.path[0] == "[" else ".") + inner.path
            raise FormulaEvaluationError(where, inner.message)
        if scope.depth >= MAX_DEPTH:
            raise FormulaEvaluationError(here, f"formulas nested deeper than {MAX_DEPTH} levels")
        scope.depth += 1
        try:
            return evaluator(scope)
        finally:
            scope.depth -= 1

    return formula
