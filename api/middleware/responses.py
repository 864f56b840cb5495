"""The error answers every route can give, declared in the OpenAPI with the error model.

Routes may declare their own error responses precisely; this adds only what a route does not
declare itself: the statuses the API's shared layers produce (authentication, limits, lookups,
validation, back-pressure) and, for routes that need Temporal, 503 `temporal_unavailable`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.middleware.inflight import is_start
from api.models.errors import ErrorBody

_SHARED = {
    "400": "Bad request",
    "401": "Missing, invalid or expired token",
    "403": "The token may not do this",
    "404": "Not found (also someone else's object)",
    "409": "Conflict with the current state",
    "422": "Invalid input; `data.errors` lists `{path, message}`",
    "429": "Rate limit exceeded; see `Retry-After`",
    "503": "This API process is saturated (`database_busy`); see `Retry-After`",
}
_PUBLIC = {"/health", "/oauth/callback", "/openapi.json"}
# Pages answer browsers: errors are HTML pages, success may be a redirect to the provider.
_PAGES = {"/connect"}
_PAGE_STATUSES = {
    "303": "Redirect to the provider or back to the product",
    "400": "Bad parameters (the page explains)",
    "401": "Missing or invalid token",
    "403": "Not a customer token",
    "404": "Unknown integration or connection",
    "429": "Rate limit exceeded; see `Retry-After`",
}


def _needs_temporal(path: str) -> bool:
    return path.startswith("/flow-runs") or path.endswith("/run")


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def declare_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds the shared error responses to each operation of an OpenAPI document (in place)."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())
    for path, item in schema.get("paths", {}).items():
        if path in _PUBLIC:
            continue
        if path in _PAGES:
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, description in _PAGE_STATUSES.items():
                    responses.setdefault(
                        status, {"description": description, "content": {"text/html": {}}}
                    )
            continue
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            statuses = dict(_SHARED)
            if "requestBody" in operation:
                statuses["413"] = "Request body too large"
            if _needs_temporal(path):
                statuses["503"] = (
                    "Temporal is not reachable (`temporal_unavailable`), or this API process is "
                    "saturated (`api_busy`, `database_busy`; see `Retry-After`)"
                )
            elif is_start("GET", path):  # the proxy and passthrough routes, any method
                statuses["503"] = (
                    "This API process is saturated (`api_busy`, `database_busy`); see `Retry-After`"
                )
            for status, description in statuses.items():
                declared = responses.get(status)
                # FastAPI's own 422 describes its `detail` list; Osmo answers with its model.
                if declared is None or "HTTPValidationError" in str(declared):
                    responses[status] = _error(description)
    return schema


def install_error_responses(app: FastAPI) -> None:
    """Makes `app.openapi()` declare the shared error responses."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
