"""Errors as values: every failure Osmo reports has a type, a key, a message and data."""

from __future__ import annotations

from typing import Any


class OsmoError(Exception):
    """An error the caller can act on.

    Args:
        type: Family of the error (`auth`, `bad_request`, `not_found`, `conflict`,
            `connection`, `internal`).
        key: Stable machine-readable key, e.g. `access_token_expired`.
        message: Human-readable explanation (never contains secrets).
        data: Extra structured details.
        status: HTTP status the API maps the error to.
    """

    def __init__(
        self,
        type: str,
        key: str,
        message: str,
        data: dict[str, Any] | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.type = type
        self.key = key
        self.message = message
        self.data = data or {}
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "key": self.key, "message": self.message, "data": self.data}


def not_found(what: str, ref: str) -> OsmoError:
    return OsmoError("not_found", f"{what}_not_found", f"{what} {ref!r} was not found", status=404)


def bad_request(key: str, message: str, **data: Any) -> OsmoError:
    return OsmoError("bad_request", key, message, data, status=400)


def validation_error(problems: list[dict[str, str]]) -> OsmoError:
    """A 422 listing every problem with the path of the bad field."""
    message = "; ".join(
        f"{p['path']}: {p['message']}" if p["path"] else p["message"] for p in problems
    )
    return OsmoError("bad_request", "validation_error", message, {"errors": problems}, status=422)


def conflict(key: str, message: str, **data: Any) -> OsmoError:
    return OsmoError("conflict", key, message, data, status=409)
