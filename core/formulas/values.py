"""The value model of formulas: JSON values plus `UNDEFINED`, and how they compare and print."""

from __future__ import annotations

import json
from typing import Any, Final

from core.schemas.types import json_type as _schema_json_type


class _Undefined:
    """Type of `UNDEFINED`: the result of a formula that produced no value.

    Unlike `None` (JSON null, a real value), an undefined field is left out of the object
    being built.
    """

    __slots__ = ()
    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = _Undefined()


def is_missing(value: Any) -> bool:
    """True for null and undefined."""
    return value is None or value is UNDEFINED


def is_empty(value: Any) -> bool:
    """True for null, undefined, the empty string, the empty array and the empty object."""
    if value is None or value is UNDEFINED:
        return True
    kind = type(value)
    if kind is str or kind is list or kind is dict:
        return not value
    return False


def json_type(value: Any) -> str:
    """The JSON type name of a value, `undefined` for `UNDEFINED`."""
    return "undefined" if value is UNDEFINED else _schema_json_type(value)


def is_number(value: Any) -> bool:
    """True for ints and floats, but not booleans."""
    kind = type(value)
    return kind is int or kind is float


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: `1 == 1.0`, but `true != 1`; arrays and objects compare deeply."""
    kind = type(a)
    if kind is type(b) and (kind is str or kind is int or kind is float):
        return bool(a == b)
    if kind is bool or type(b) is bool:
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if is_number(a) and is_number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def to_text(value: Any) -> str:
    """Render a value inside a string: null/undefined as empty, JSON for arrays/objects."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None or value is UNDEFINED:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is float and value.is_integer():
        return str(int(value))
    if kind is list or kind is dict:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
