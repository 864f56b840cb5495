"""Evaluate mappings: compile once, then run per set of variables, purely.

Nothing here reads the clock, draws random numbers or does I/O, so it is safe inside Temporal
workflow code. The only shared state is the compile caches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from core.formulas.compiler import Compiler, compile_value
from core.formulas.errors import FormulaEvaluationError, FormulaProblem, InvalidFormulaError
from core.formulas.filters import compile_filter
from core.formulas.lookups import LookupRequest, ResolvedLookups
from core.formulas.registry import IO_FORMULAS
from core.formulas.scope import Evaluator, Scope
from core.formulas.syntax import contains_key
from core.schemas.refs import SchemaResolver

# `$formula` can build any formula at run time, lookups included.
_MAY_LOOK_UP = (*IO_FORMULAS, "$formula")


class CompiledFormula:
    """A mapping compiled into closures, ready to evaluate many times.

    Attributes:
        problems: What is malformed; a formula with problems refuses to evaluate.
        needs_lookups: Whether evaluation may need resolved lookups.
    """

    def __init__(self, value: Any, evaluator: Evaluator, problems: tuple[FormulaProblem, ...]):
        self._evaluator = evaluator
        self.problems = problems
        self.needs_lookups = any(contains_key(value, name) for name in _MAY_LOOK_UP)

    def evaluate(
        self,
        variables: Any,
        *,
        resolved: ResolvedLookups | None = None,
        schemas: SchemaResolver | None = None,
        sensitive: Collection[str] | None = None,
    ) -> Any:
        """Evaluate over one set of variables (see `evaluate`)."""
        if self.problems:
            raise InvalidFormulaError(self.problems)
        scope = Scope(variables, resolved=resolved, schemas=schemas, sensitive=sensitive)
        return self._evaluator(scope)

    def collect_lookups(
        self,
        variables_list: Iterable[Any],
        *,
        resolved: ResolvedLookups | None = None,
        schemas: SchemaResolver | None = None,
    ) -> list[LookupRequest]:
        """The distinct lookups still needed to evaluate over every set of variables.

        Lookups that depend on other lookups appear once those are in `resolved`. A set of
        variables whose evaluation fails is skipped here: `evaluate` will report the error.
        """
        if self.problems:
            raise InvalidFormulaError(self.problems)
        if not self.needs_lookups:
            return []
        pending: dict[LookupRequest, None] = {}
        for variables in variables_list:
            scope = Scope(variables, resolved=resolved, pending=pending, schemas=schemas)
            try:
                self._evaluator(scope)
            except FormulaEvaluationError:
                continue
        return list(pending)


def compile_formula(value: Any) -> CompiledFormula:
    """Compile a mapping (any JSON with formulas); equal mappings share one compilation."""
    evaluator, problems = compile_value(value)
    return CompiledFormula(value, evaluator, problems)


def evaluate(
    value: Any,
    variables: Any,
    *,
    resolved: ResolvedLookups | None = None,
    schemas: SchemaResolver | None = None,
    sensitive: Collection[str] | None = None,
) -> Any:
    """Evaluate a mapping over variables.

    Args:
        value: The mapping: formulas, objects and arrays to build, constants.
        variables: What locators read, usually an object.
        resolved: Answers to the lookups of I/O formulas (see `collect_lookups`).
        schemas: Resolver for `$dataSchemaRef`.
        sensitive: Paths (`credentials.apiKey`, `tokens[].secret`) or keys (`password`) whose
            values must never appear in error messages; matched against the formula's path and
            the locators it reads.

    Returns:
        The built value; `UNDEFINED` if the mapping itself is a formula without a result.

    Raises:
        InvalidFormulaError: The mapping is malformed (its `problems` list every problem).
        FormulaEvaluationError: A formula failed, e.g. on a value of the wrong type.
    """
    return compile_formula(value).evaluate(
        variables, resolved=resolved, schemas=schemas, sensitive=sensitive
    )


def collect_lookups(
    value: Any, variables_list: Iterable[Any], *, resolved: ResolvedLookups | None = None
) -> list[LookupRequest]:
    """The de-duplicated lookups a mapping needs over many sets of variables.

    Pass what was resolved so far to get the lookups that depend on earlier answers.
    """
    return compile_formula(value).collect_lookups(variables_list, resolved=resolved)


def matches_filter(filter: Any, variables: Any) -> bool:
    """Whether `variables` satisfy a filter: a condition `{field, operator, value}` or a list.

    Raises:
        InvalidFormulaError: The filter is malformed.
        FormulaEvaluationError: An operand has a type the operator cannot compare.
    """
    compiler = Compiler()
    predicate = compile_filter(filter, compiler, "")
    if compiler.problems:
        raise InvalidFormulaError(compiler.problems)
    return predicate(Scope(variables))
