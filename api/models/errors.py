"""The error body every failure answers with, and its declaration in the OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """`{type, key, message, data}`; `key` is stable (docs/errors.md), `message` for people."""

    type: str = Field(description="Family: auth, bad_request, not_found, conflict, connection, ...")
    key: str = Field(description="Stable machine-readable key, e.g. `connection_not_found`.")
    message: str
    data: dict[str, Any] = Field(
        default_factory=dict, description="Details; 422s list `errors: [{path, message}]`."
    )


MEANINGS = {
    400: "The request is not acceptable as it stands (see `key`).",
    401: "No valid `Authorization: Bearer <token>`.",
    403: "The token may not do this (admin routes, admin-only fields).",
    404: "Not found, or not visible to this customer.",
    409: "Conflicts with the current state (exists, revision changed, not running).",
    422: "Invalid input: `data.errors` lists each problem with its path.",
    429: "Too many requests: retry after `Retry-After` seconds.",
    502: "The external app failed or answered something unusable.",
    503: "A service Osmo depends on (Temporal) is unavailable.",
    504: "The run did not finish in time.",
}

AUTH = (401, 403, 422, 429)
"""Statuses every authenticated route can answer with."""


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: the auth statuses plus `statuses`, each with `ErrorBody`."""
    return {
        status: {"model": ErrorBody, "description": MEANINGS[status]}
        for status in sorted({*AUTH, *statuses})
    }
