"""Compile a mapping (JSON with formulas) once into nested closures, then run it per record.

Compiling checks every argument and records a `FormulaProblem` for each malformed one, so the
same pass serves `validate_formula` and evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from core.formulas.errors import FormulaProblem, Site
from core.formulas.locators import (
    Getter,
    LocatorError,
    make_getter,
    make_scope_getter,
    parse_locator,
)
from core.formulas.registry import FORMULAS
from core.formulas.scope import Evaluator, Scope
from core.formulas.syntax import contains_key, formula_name, locators_in
from core.formulas.values import UNDEFINED
from core.schemas.paths import join_index, join_key

Filler = Callable[[Scope, dict[str, Any]], None]
Compiled = tuple[Evaluator, tuple[FormulaProblem, ...]]


def _undefined(scope: Scope) -> Any:
    return UNDEFINED


def constant(value: Any) -> Evaluator:
    """An evaluator that always returns `value` (a scalar)."""
    return lambda scope: value


class Compiler:
    """Turns formula JSON into evaluators, collecting problems instead of stopping at one."""

    def __init__(self) -> None:
        self.problems: list[FormulaProblem] = []

    def problem(self, path: str, message: str) -> Evaluator:
        """Record a problem; returns a placeholder evaluator so compilation can go on."""
        self.problems.append(FormulaProblem(path, message))
        return _undefined

    def compile(self, value: Any, path: str) -> Evaluator:
        """Compile any value: a formula, an object or array to build, or a constant."""
        kind = type(value)
        if kind is dict:
            name = formula_name(value)
            if name is not None:
                return self._formula(name, value, path)
            fill = self.filler(value, path)

            def build_object(scope: Scope) -> dict[str, Any]:
                out: dict[str, Any] = {}
                if scope.root is None:
                    scope.root = out
                fill(scope, out)
                return out

            return build_object
        if kind is list:
            items = [self.compile(item, join_index(path, i)) for i, item in enumerate(value)]

            def build_array(scope: Scope) -> list[Any]:
                root = scope.root
                out = []
                for item in items:
                    scope.root = root  # with no enclosing object, each element is its own root
                    result = item(scope)
                    if result is not UNDEFINED:
                        out.append(result)
                scope.root = root
                return out

            return build_array
        return constant(value)

    def filler(self, value: dict[str, Any], path: str) -> Filler:
        """Compile a plain object into a function that fills a given dict in place.

        Filling in place lets `$copy` see the partly built result. Fields using `$copy` run
        after the others, then the declared key order is restored.
        """
        plan: list[tuple[str, Evaluator | None, Filler | None]] = []
        for key, item in value.items():
            here = join_key(path, key)
            if key in FORMULAS:
                self.problem(here, f"formula {key} must be the only key of its object")
            elif type(item) is dict and formula_name(item) is None:
                plan.append((key, None, self.filler(item, here)))
            else:
                plan.append((key, self.compile(item, here), None))
        late = [entry for entry in plan if contains_key(value[entry[0]], "$copy")]
        steps = [entry for entry in plan if entry not in late] + late
        order = [key for key, _, _ in plan] if steps != plan else None

        def fill(scope: Scope, out: dict[str, Any]) -> None:
            for key, evaluate, nested in steps:
                if nested is not None:
                    child: dict[str, Any] = {}
                    out[key] = child
                    nested(scope, child)
                else:
                    result = evaluate(scope)  # type: ignore[misc]
                    if result is not UNDEFINED:
                        out[key] = result
            if order is not None:
                ordered = {key: out[key] for key in order if key in out}
                out.clear()
                out.update(ordered)

        return fill

    def getter(self, locator: Any, path: str) -> Getter | None:
        """Compile a locator; records a problem and returns None when it is malformed."""
        try:
            return make_getter(parse_locator(locator))
        except LocatorError as error:
            self.problem(path, str(error))
            return None

    def variable_reader(self, locator: Any, path: str) -> Evaluator | None:
        """Compile a locator into a reader of the variables; None (and a problem) if malformed."""
        try:
            return make_scope_getter(parse_locator(locator))
        except LocatorError as error:
            self.problem(path, str(error))
            return None

    def site(self, path: str, argument: Any) -> Site:
        """The error site of a formula at `path` with `argument`."""
        return Site(path, locators_in(argument))

    @staticmethod
    def detached(value: Any) -> Compiled:
        """Compile a value on its own (cached), for formulas that build formulas at run time."""
        return compile_value(value)

    def _formula(self, name: str, node: dict[str, Any], path: str) -> Evaluator:
        here = join_key(path, name)
        compile_formula = FORMULAS.get(name)
        if compile_formula is None:
            return self.problem(here, f'unknown formula "{name}"')
        return compile_formula(node if name == "$eval" else node[name], self, here)


def compile_value(value: Any) -> Compiled:
    """Compile `value`, reusing an earlier compilation of equal JSON.

    Returns:
        The root evaluator and the problems found.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return _compile_fresh(value)
    return _compile_text(text)


@lru_cache(maxsize=512)
def _compile_text(text: str) -> Compiled:
    return _compile_fresh(json.loads(text))


def _compile_fresh(value: Any) -> Compiled:
    compiler = Compiler()
    evaluator = compiler.compile(value, "")
    return evaluator, tuple(compiler.problems)
