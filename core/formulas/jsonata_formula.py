"""`$jsonata`: a JSONata expression over the variables, via jsonata-python.

Expressions are parsed once and cached. Evaluation goes through the library's `eval` with a
frame built here rather than `Jsonata.evaluate`, for two reasons that matter in workflow code:
`evaluate` reads the clock on every call, and it reads the expression's current frame, which
another thread evaluating the same cached expression may be using. `$now`, `$millis` and
`$random` would make results depend on when they ran, and `$eval` parses (and reads the clock)
at run time, so all four are refused.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jsonata import Jsonata
from jsonata.jexception import JException
from jsonata.utils import Utils

from core.formulas.scope import Evaluator, Scope
from core.formulas.values import UNDEFINED

if TYPE_CHECKING:
    from core.formulas.compiler import Compiler

FORBIDDEN_FUNCTIONS = ("now", "millis", "random", "eval")
_FORBIDDEN_CALL = re.compile(r"\$(" + "|".join(FORBIDDEN_FUNCTIONS) + r")\s*\(")


class JsonataFunctionRefused(RuntimeError):
    """A refused function was called from a JSONata expression."""


def _refuse(name: str) -> Any:
    def refused(*args: Any) -> Any:
        raise JsonataFunctionRefused(f"${name}() is not allowed: formulas must be deterministic")

    return Jsonata.JLambda(refused)


class CompiledExpression:
    """A parsed JSONata expression that evaluates without the clock or shared mutable frames."""

    def __init__(self, source: str) -> None:
        self._expression = Jsonata(source)
        base = self._expression.create_frame(self._expression.environment)
        for name in FORBIDDEN_FUNCTIONS:
            base.bind(name, _refuse(name))
        self._base = base

    def __call__(self, data: Any) -> Any:
        """Evaluate over `data`; JSONata undefined becomes `UNDEFINED`, null becomes None."""
        expression = self._expression
        frame = expression.create_frame(self._base)
        frame.bind("$", data)
        if isinstance(data, list) and not Utils.is_sequence(data):
            data = Utils.create_sequence(data)
            data.outer_wrapper = True
        result = expression.eval(expression.ast, data, frame)
        return UNDEFINED if result is None else _plain(result)


def _plain(value: Any) -> Any:
    """Plain JSON from a JSONata result (its null marker and sequence lists replaced)."""
    if value is Utils.NULL_VALUE:
        return None
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if callable(value):
        raise TypeError("the expression returned a function")
    return value


@lru_cache(maxsize=1024)
def compile_expression(source: str) -> CompiledExpression:
    """Parse a JSONata expression (cached).

    Raises:
        JException: The expression has a syntax error.
    """
    return CompiledExpression(source)


def expression_problem(source: str) -> str | None:
    """Why an expression cannot be used, or None if it can."""
    try:
        compile_expression(source)
    except JException as error:
        return f"invalid JSONata expression: {error}"
    refused = _FORBIDDEN_CALL.search(source)
    if refused:
        return f"${refused.group(1)}() is not allowed: formulas must be deterministic"
    return None


def compile_jsonata(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$jsonata": "$sum(orders.amount)"}`: the expression evaluated over the variables."""
    if not isinstance(arg, str) or not arg.strip():
        return c.problem(here, "expected a JSONata expression string")
    problem = expression_problem(arg)
    if problem is not None:
        return c.problem(here, problem)
    expression = compile_expression(arg)
    site = c.site(here, None)

    def jsonata(scope: Scope) -> Any:
        try:
            return expression(scope.variables)
        except JException as error:
            detail = "" if site.is_sensitive(scope) else f": {error}"
            raise site.fail(scope, f"JSONata error {error.error}{detail}") from None
        except (JsonataFunctionRefused, TypeError) as error:
            raise site.fail(scope, str(error)) from None

    return jsonata
