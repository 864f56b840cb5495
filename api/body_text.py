"""JSON request bodies carry no NUL characters.

PostgreSQL cannot store U+0000 in text or JSON, so such a value would fail at the database
with a 500 (SQLite would keep it and hand it to connectors); it is refused at the door with a
422 naming where it is, on every route.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from core.errors import validation_error

_ESCAPED_NUL = b"\\u0000"


def _nul_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _nul_paths(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                found.append(child)
            found += _nul_paths(item, child)
        return found
    return []


async def check_body_text(request: Request) -> None:
    """App-wide dependency: 422 `validation_error` for NUL characters in a JSON body."""
    if "json" not in request.headers.get("content-type", ""):
        return
    body = await request.body()  # cached on the request: the route reads the same bytes
    if _ESCAPED_NUL not in body:  # the common case costs one scan of the bytes
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return  # malformed JSON is the route's 422 to give
    paths = _nul_paths(parsed, "")
    if paths:
        raise validation_error(
            [{"path": path, "message": "must not contain NUL characters"} for path in paths]
        )
