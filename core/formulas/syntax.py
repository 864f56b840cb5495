"""How formulas are written: what makes an object a formula, templates, where locators hide."""

from __future__ import annotations

import contextlib
from typing import Any


class TemplateError(ValueError):
    """A `$tpl` template has an unbalanced brace or an empty placeholder."""


def formula_name(value: dict[str, Any]) -> str | None:
    """The formula an object is, or None for a plain object.

    A formula is an object whose only key starts with `$`; `$eval` also carries its operator
    beside it (`{"$eval": ..., "isEmpty": true}`).
    """
    if "$eval" in value:
        return "$eval"
    if len(value) == 1:
        key = next(iter(value))
        if isinstance(key, str) and key.startswith("$"):
            return key
    return None


def parse_template(template: str) -> list[tuple[bool, str]]:
    """Split a template into `(is_placeholder, text)` parts.

    `{locator}` is a placeholder; `{{` and `}}` are literal braces.

    Raises:
        TemplateError: An unclosed `{`, a stray `}` or an empty `{}`.
    """
    parts: list[tuple[bool, str]] = []
    text: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char in "{}" and template[i + 1 : i + 2] == char:
            text.append(char)
            i += 2
            continue
        if char == "}":
            raise TemplateError(f'stray "}}" at position {i}')
        if char == "{":
            end = template.find("}", i)
            if end == -1:
                raise TemplateError(f'unclosed "{{" at position {i}')
            locator = template[i + 1 : end].strip()
            if not locator:
                raise TemplateError(f"empty placeholder at position {i}")
            if text:
                parts.append((False, "".join(text)))
                text = []
            parts.append((True, locator))
            i = end + 1
            continue
        text.append(char)
        i += 1
    if text:
        parts.append((False, "".join(text)))
    return parts


def locators_in(value: Any) -> tuple[str, ...]:
    """Every input locator a piece of formula reads (`$var`, `$tpl` placeholders, filters)."""
    found: list[str] = []
    _collect_locators(value, found)
    return tuple(found)


def _collect_locators(value: Any, found: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect_locators(item, found)
        return
    if not isinstance(value, dict):
        return
    if isinstance(value.get("$var"), str):
        found.append(value["$var"])
    elif isinstance(value.get("$tpl"), str):
        with contextlib.suppress(TemplateError):
            found.extend(text for is_locator, text in parse_template(value["$tpl"]) if is_locator)
    elif isinstance(value.get("field"), str) and "operator" in value:
        found.append(value["field"])
    for item in value.values():
        _collect_locators(item, found)


def contains_key(value: Any, key: str) -> bool:
    """Whether `key` is used as an object key anywhere inside `value`."""
    if isinstance(value, dict):
        return key in value or any(contains_key(item, key) for item in value.values())
    if isinstance(value, list):
        return any(contains_key(item, key) for item in value)
    return False
