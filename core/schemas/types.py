"""JSON type names of Python values, and short previews of values for messages."""

from __future__ import annotations

import json
from typing import Any

_PREVIEW_LIMIT = 40


def json_type(value: Any) -> str:
    """The JSON Schema type name of a value: `string`, `integer`, `array`, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def preview(value: Any) -> str:
    """A short JSON rendering of a value for messages (only for non-sensitive values)."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        text = repr(value)
    return text if len(text) <= _PREVIEW_LIMIT else text[: _PREVIEW_LIMIT - 1] + "…"
