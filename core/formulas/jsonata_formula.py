"""`$jsonata`: a JSONata expression over the variables, via jsonatapy (Rust, PyO3).

Formulas run inside Temporal workflows, which needs three things jsonatapy does not give as is:

- Determinism. `$now`, `$millis`, `$random` and `$shuffle` would make results depend on when or
  how often a formula ran, and `$eval` parses at run time. In each compiled expression that
  names them they are replaced (`register_override`) by functions that refuse, so calls the
  static check cannot see (`($f := $now; $f())`) fail when reached; `expression_problem`
  reports direct calls before anything runs.
- Thread safety. A jsonatapy expression belongs to the thread that compiled it (a PyO3
  `unsendable` class: evaluating it on another thread panics, dropping it there leaks it).
  `CompiledExpression`, what the engine caches and shares between threads, therefore holds
  only the source; every thread compiles its own copy on first use and keeps it in a bounded
  per-thread cache, so copies are created, used and dropped in one thread.
- Undefined vs null. `evaluate` returns None for undefined, for null and for a function. When
  it does, a companion expression `$type((source))`, compiled on first need, tells them apart.

The library holds the GIL for a whole evaluation: an expression that never ends (an endless
tail-recursive function) stops every thread of the process, not just its own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jsonatapy

from core.formulas.scope import Evaluator, Scope
from core.formulas.values import UNDEFINED

if TYPE_CHECKING:
    from core.formulas.compiler import Compiler

FORBIDDEN_FUNCTIONS = ("now", "millis", "random", "shuffle", "eval")
_FORBIDDEN_NAME = re.compile(r"\$(" + "|".join(FORBIDDEN_FUNCTIONS) + ")")
# A direct call, also with whitespace or comments before the parenthesis.
_FORBIDDEN_CALL = re.compile(_FORBIDDEN_NAME.pattern + r"(?:\s|/\*.*?\*/)*\(", re.DOTALL)
EXPRESSIONS_PER_THREAD = 1024


class JsonataError(Exception):
    """JSONata rejected an expression or failed to evaluate it.

    Attributes:
        code: The JSONata error code (`S0203`, `T2001`, ...); empty when the library gives none.
        message: What went wrong, without the code. May quote data from the variables.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.code = code
        self.message = message


class JsonataUnsupported(JsonataError):
    """Something a `$jsonata` formula may not do; the message quotes no data.

    Calling an impure function, returning a function, or reading variables that are not JSON.
    """

    def __init__(self, message: str) -> None:
        super().__init__("", message)


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.expressions: dict[str, _ThreadExpression] = {}
        self.refused: str | None = None


_thread = _ThreadState()


def _refuser(name: str) -> Callable[..., Any]:
    message = f"${name}() is not allowed: formulas must be deterministic"

    def refuse(*args: Any) -> Any:
        # The library reports a host function's exception as a ValueError naming its type
        # only; the refusal is recorded here so it cannot be confused with (or faked by)
        # an ordinary JSONata error.
        _thread.refused = message
        raise JsonataUnsupported(message)

    return refuse


_REFUSERS = {name: _refuser(name) for name in FORBIDDEN_FUNCTIONS}


def _compile(source: str) -> jsonatapy.JsonataExpression:
    """A jsonatapy expression with the impure built-ins refused (for this thread only).

    Only the built-ins the source names are overridden: each override costs about 0.2 µs per
    evaluation, and a built-in is reachable only through a variable reference to it (`$now`,
    also when passed on as a value); the one way to build such a reference from a string,
    `$eval`, is itself refused whenever its name appears. The test is textual and errs on the
    safe side (`$nowhere`, or `$now` inside a string literal, also gets the override).
    """
    try:
        expression = jsonatapy.compile(source)
    except ValueError as error:
        raise _library_error(str(error)) from None
    for name in sorted({match.group(1) for match in _FORBIDDEN_NAME.finditer(source)}):
        expression.register_override(name, _REFUSERS[name])
    return expression


class _ThreadExpression:
    """One thread's compiled copy of an expression."""

    __slots__ = ("evaluate", "source", "type_of")

    def __init__(self, source: str) -> None:
        self.source = source
        self.evaluate: Callable[[Any], Any] = _compile(source).evaluate
        self.type_of: Callable[[Any], Any] | None = None

    def none_result(self, data: Any) -> Any:
        """What a None from `evaluate` was: undefined, null, or a function (refused)."""
        type_of = self.type_of
        if type_of is None:
            # A block keeps the expression's own bindings (even of `$type`) inside it.
            type_of = self.type_of = _compile(f"$type(({self.source}\n))").evaluate
        kind = type_of(data)
        if kind is None:
            return UNDEFINED
        if kind == "function":
            raise JsonataUnsupported("the expression returned a function")
        return None


def _thread_expression(source: str) -> _ThreadExpression:
    """This thread's compiled copy of `source`, compiling it on first use."""
    expressions = _thread.expressions
    expression = expressions.get(source)
    if expression is None:
        expression = _ThreadExpression(source)
        while expressions and len(expressions) >= EXPRESSIONS_PER_THREAD:
            del expressions[next(iter(expressions))]  # the oldest, dropped in its own thread
        expressions[source] = expression
    return expression


class CompiledExpression:
    """A valid JSONata expression; callable from any thread."""

    __slots__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source
        _thread_expression(source)

    def __call__(self, data: Any) -> Any:
        """Evaluate over `data`; JSONata undefined becomes `UNDEFINED`, null becomes None.

        Raises:
            JsonataError: Evaluation failed (`JsonataUnsupported` for what formulas may not do).
        """
        expression = _thread.expressions.get(self.source) or _thread_expression(self.source)
        try:
            result = expression.evaluate(data)
            return expression.none_result(data) if result is None else result
        except (ValueError, TypeError) as error:
            refused, _thread.refused = _thread.refused, None
            if refused is not None:
                raise JsonataUnsupported(refused) from None
            if isinstance(error, TypeError):  # a value jsonatapy cannot convert
                detail = str(error).removeprefix("TypeError: ")
                raise JsonataUnsupported(
                    f"cannot pass the variables to JSONata: {detail}"
                ) from None
            raise _library_error(str(error)) from None


_CODED = re.compile(r"(?:Parse error: )?(?:Invalid syntax: )?(?:([A-Z]\d{4}): )?(.*)", re.DOTALL)
# jsonatapy names tokens in syntax errors by their Rust names ("Expected RightParen ...");
# the JSONata reference shows the token itself ("Expected ) ...").
_SYMBOLS = {
    "LeftParen": "(",
    "RightParen": ")",
    "LeftBracket": "[",
    "RightBracket": "]",
    "LeftBrace": "{",
    "RightBrace": "}",
    "Comma": ",",
    "Semicolon": ";",
    "Colon": ":",
    "ColonEqual": ":=",
    "Question": "?",
    "Dot": ".",
    "DotDot": "..",
    "Pipe": "|",
    "Arrow": "~>",
    "Ampersand": "&",
    "Caret": "^",
    "Hash": "#",
    "At": "@",
    "Plus": "+",
    "Minus": "-",
    "Star": "*",
    "Slash": "/",
    "Percent": "%",
    "Equal": "=",
    "NotEqual": "!=",
    "LessThan": "<",
    "LessThanOrEqual": "<=",
    "GreaterThan": ">",
    "GreaterThanOrEqual": ">=",
    "Null": "null",
    "True": "true",
    "False": "false",
}
_TOKEN = re.compile(
    r'\b(?:(Number)\(([-+.\deE]+)\)|(String|Identifier|Variable)\("((?:[^"\\]|\\.)*)"\)|('
    + "|".join(_SYMBOLS)
    + r")\b)"
)


def _token(match: re.Match[str]) -> str:
    number, number_value, kind, text, symbol = match.groups()
    if number:
        value = float(number_value)
        return str(int(value)) if value.is_integer() else number_value
    if kind == "String":
        return f'"{text}"'
    if kind == "Variable":
        return f"${text}"
    if kind:
        return str(text)
    return _SYMBOLS[symbol]


def _library_error(text: str) -> JsonataError:
    """A jsonatapy error message as a `JsonataError` (code split off, tokens readable)."""
    match = _CODED.fullmatch(text)
    code, message = (match.group(1) or "", match.group(2)) if match else ("", text)
    if text.startswith("Parse error: "):
        message = _TOKEN.sub(_token, message)
    return JsonataError(code, message)


@lru_cache(maxsize=1024)
def compile_expression(source: str) -> CompiledExpression:
    """Parse a JSONata expression (cached).

    Raises:
        JsonataError: The expression has a syntax error.
    """
    return CompiledExpression(source)


def expression_problem(source: str) -> str | None:
    """Why an expression cannot be used, or None if it can."""
    try:
        compile_expression(source)
    except JsonataError as error:
        return f"invalid JSONata expression: {error.message}"
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
        except JsonataUnsupported as error:
            raise site.fail(scope, error.message) from None
        except JsonataError as error:
            code = f" {error.code}" if error.code else ""
            detail = "" if site.is_sensitive(scope) else f": {error.message}"
            raise site.fail(scope, f"JSONata error{code}{detail}") from None

    return jsonata
