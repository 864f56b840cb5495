"""Formulas that build or take apart strings: `$tpl`, `$concat`, names, dates, email domains."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from core.formulas.scope import Evaluator, Scope
from core.formulas.syntax import TemplateError, parse_template
from core.formulas.values import UNDEFINED, to_text
from core.schemas.paths import join_index, join_key

if TYPE_CHECKING:
    from core.formulas.compiler import Compiler


def compile_tpl(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$tpl": "Hello {firstName}!"}`: placeholders are locators; missing ones render empty."""
    if not isinstance(arg, str):
        return c.problem(here, "expected a template string")
    try:
        parts = parse_template(arg)
    except TemplateError as error:
        return c.problem(here, str(error))
    pieces: list[str | Callable[[Any], Any]] = []
    for is_locator, text in parts:
        get = c.getter(text, here) if is_locator else None
        pieces.append(get if get is not None else text)

    def tpl(scope: Scope) -> str:
        data = scope.variables
        return "".join([p if type(p) is str else to_text(p(data)) for p in pieces])  # type: ignore[operator]

    return tpl


def compile_concat(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$concat": [a, b]}` or `{"$concat": {"values": [...], "delimiter": " "}}`.

    Null, undefined and empty values are skipped; array values contribute their elements.
    """
    delimiter: Any = ""
    values, values_path = arg, here
    if isinstance(arg, dict):
        values, values_path = arg.get("values"), join_key(here, "values")
        delimiter = arg.get("delimiter", "")
        if not isinstance(delimiter, str):
            c.problem(join_key(here, "delimiter"), "expected a string")
    if not isinstance(values, list):
        return c.problem(values_path, "expected a list of values")
    parts = [c.compile(value, join_index(values_path, i)) for i, value in enumerate(values)]
    separator = delimiter if isinstance(delimiter, str) else ""

    def concat(scope: Scope) -> str:
        texts: list[str] = []
        for part in parts:
            value = part(scope)
            if type(value) is list:
                texts.extend(to_text(item) for item in value if item not in (None, "", UNDEFINED))
            elif value is not None and value is not UNDEFINED and value != "":
                texts.append(to_text(value))
        return separator.join(texts)

    return concat


def _string_formula(
    transform: Callable[[str], Any],
) -> Callable[[Any, Compiler, str], Evaluator]:
    """A formula of one string argument; null/undefined give undefined, non-strings fail."""

    def compile_string_formula(arg: Any, c: Compiler, here: str) -> Evaluator:
        source = c.compile(arg, here)
        site = c.site(here, arg)

        def run(scope: Scope) -> Any:
            value = source(scope)
            if value is None or value is UNDEFINED:
                return UNDEFINED
            if type(value) is not str:
                raise site.type_error(scope, "string", value)
            try:
                return transform(value)
            except ValueError as error:
                raise site.fail(scope, str(error), value) from None

        return run

    return compile_string_formula


def _first_name(full_name: str) -> Any:
    words = full_name.split(None, 1)
    return words[0] if words else UNDEFINED


def _last_name(full_name: str) -> Any:
    words = full_name.split(None, 1)
    return words[1].strip() if len(words) == 2 else UNDEFINED


def _parse_date_time(text: str) -> date | datetime:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.upper())
    except ValueError:
        raise ValueError("expected an ISO 8601 date-time") from None


def _extract_date(text: str) -> Any:
    parsed = _parse_date_time(text)
    return (parsed.date() if isinstance(parsed, datetime) else parsed).isoformat()


def _extract_time(text: str) -> Any:
    parsed = _parse_date_time(text)
    return parsed.time().isoformat() if isinstance(parsed, datetime) else UNDEFINED


def _domain_from_email(email: str) -> Any:
    _, at, domain = email.strip().rpartition("@")
    return domain.lower() if at and domain else UNDEFINED


compile_first_name = _string_formula(_first_name)
compile_last_name = _string_formula(_last_name)
compile_extract_date = _string_formula(_extract_date)
compile_extract_time = _string_formula(_extract_time)
compile_domain_from_email = _string_formula(_domain_from_email)
