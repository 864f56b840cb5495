"""Data paths as users read them: `fields.tags[2]`, `owner.address\\.line`."""

from __future__ import annotations

from collections.abc import Iterable

_ESCAPED = str.maketrans({"\\": "\\\\", ".": "\\.", "[": "\\["})


def join_key(path: str, key: str) -> str:
    """Append an object key to a path, escaping dots and brackets inside the key."""
    escaped = key.translate(_ESCAPED)
    return f"{path}.{escaped}" if path else escaped


def join_index(path: str, index: int) -> str:
    """Append an array index to a path."""
    return f"{path}[{index}]"


def format_path(parts: Iterable[str | int]) -> str:
    """Format a sequence of keys and indices (as jsonschema reports them) as a path."""
    path = ""
    for part in parts:
        path = join_index(path, part) if isinstance(part, int) else join_key(path, part)
    return path
