"""Query-parameter types: every value is bounded and well-formed before it reaches a database
or Temporal, so bad input is a 422 naming the parameter, never a 500.

Use them as `name: Annotated[Key | None, Query(alias="connectionId")] = None`; the aliases stay
in the routes, the rules live here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, Request
from pydantic import AfterValidator, BeforeValidator, Field

from core.errors import OsmoError, validation_error

MAX_LIMIT = 500
"""The largest page any list returns; larger `limit`s are served this many items."""

DEFAULT_LIMIT = 50
MAX_KEY_LENGTH = 200
MAX_CURSOR_LENGTH = 4096

# C0 controls and DEL: never part of an id or key, and in a Temporal visibility query or a
# PostgreSQL string (NUL) they fail deep inside the call instead of at the door.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def check_text(value: str) -> str:
    """Refuses control characters (the message names the rule, not a regex)."""
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters")
    return value


def _clamp_limit(value: int) -> int:
    # Clients (the Membrane SDK among them) ask for limit=1000; they get the largest page
    # instead of an error, and the cursor brings the rest.
    return min(value, MAX_LIMIT)


def _start_cursor(value: object) -> object:
    # `cursor=0` and an empty cursor are how several SDKs say "from the start".
    if value in ("", "0"):
        return None
    return value


def invalid_cursor(message: str = "The cursor is malformed or no longer valid") -> OsmoError:
    """The 422 for a cursor that is not one this API handed out (or one gone stale)."""
    return OsmoError(
        "bad_request",
        "invalid_cursor",
        message,
        {"errors": [{"path": "cursor", "message": message}]},
        status=422,
    )


def hex_cursor(cursor: str | None) -> bytes | None:
    """Decodes a hex page token (Temporal's), or raises `invalid_cursor`."""
    if cursor is None:
        return None
    try:
        return bytes.fromhex(cursor)
    except ValueError as exc:
        raise invalid_cursor() from exc


def _aware(value: datetime) -> datetime:
    # A date or time without a zone (`2026-01-01`) is read as UTC rather than refused: it is
    # what callers mean, and comparing naive with aware timestamps is what used to fail.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("must be between 1970-01-01 and 9999-01-01")
    return value.astimezone(UTC)


Key = Annotated[
    str,
    Field(min_length=1, max_length=MAX_KEY_LENGTH),
    AfterValidator(check_text),
]
"""An id, key or selector: 1 to 200 characters, no control characters."""

_CursorText = Annotated[str, Field(max_length=MAX_CURSOR_LENGTH), AfterValidator(check_text)]

Cursor = Annotated[_CursorText | None, BeforeValidator(_start_cursor)]
"""An opaque page cursor from a previous page; `0` or empty means the start."""

UtcDatetime = Annotated[datetime, AfterValidator(_aware)]
"""An ISO 8601 date or date-time; without a zone it is UTC."""

HttpStatus = Annotated[int, Field(ge=100, le=599)]
"""An HTTP status code."""

Limit = Annotated[
    int,
    Query(ge=1, description=f"Page size; values above {MAX_LIMIT} are served {MAX_LIMIT} items."),
    AfterValidator(_clamp_limit),
]
"""Page size, at least 1; larger values are clamped to `MAX_LIMIT`."""


MAX_PATH_PARAM_LENGTH = 4096


async def check_path_params(request: Request) -> None:
    """App-wide dependency: path parameters (ids, keys, proxy paths) carry no control
    characters and stay bounded, on every route, new ones included (`async`: pure checks, no
    threadpool hop).

    Raises:
        OsmoError: 422 `validation_error` naming each bad parameter.
    """
    problems = []
    for name, value in request.path_params.items():
        if not isinstance(value, str):
            continue
        if CONTROL_CHARACTERS.search(value):
            problems.append({"path": name, "message": "must not contain control characters"})
        elif len(value) > MAX_PATH_PARAM_LENGTH:
            problems.append(
                {"path": name, "message": f"must be at most {MAX_PATH_PARAM_LENGTH} characters"}
            )
    if problems:
        raise validation_error(problems)
