"""`{{ dotted.path }}` templates, rendered against a connection's context.

Deliberately tiny: no expressions, no code, so a connector file can never execute anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from core.errors import OsmoError

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")


def lookup(context: dict[str, Any], path: str) -> Any:
    """The value at a dotted path, or None when any step is missing."""
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


def render(
    template: str,
    context: dict[str, Any],
    *,
    url_encode: bool = False,
    convert: Callable[[int, str, str], str] | None = None,
) -> str:
    """Renders every placeholder; a missing value is an error naming the path.

    Args:
        url_encode: Percent-encode substituted values (for path segments).
        convert: Called with (placeholder offset, path, value text) for each value, returns
            the text to substitute (URL templates check where in the URL a value lands).
    """

    def replace(match: re.Match[str]) -> str:
        value = lookup(context, match.group(1))
        if value is None:
            raise OsmoError(
                "connection",
                "template_value_missing",
                f"Template needs {match.group(1)!r}, which this connection does not have",
                {"path": match.group(1)},
            )
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if convert is not None:
            return convert(match.start(), match.group(1), text)
        return quote(text, safe="") if url_encode else text

    return _PLACEHOLDER.sub(replace, template)


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Renders templates inside strings of a JSON-like value, recursively."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    return value


def placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)
