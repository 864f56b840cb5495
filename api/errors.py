"""Every error leaves the API as `{type, key, message, data}` with a matching status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.middleware.body_limit import RequestTooLarge, too_large_body
from core.errors import OsmoError, validation_error


def _path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


async def _osmo_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OsmoError)
    return JSONResponse(exc.to_dict(), status_code=exc.status)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"path": _path(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
    error = validation_error(problems)
    return JSONResponse(error.to_dict(), status_code=error.status)


# Errors Starlette raises itself (no route, wrong method), as (type, key).
_HTTP_ERRORS = {
    404: ("not_found", "not_found"),
    405: ("bad_request", "method_not_allowed"),
}


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, RequestTooLarge):
        return JSONResponse(too_large_body(exc.limit), status_code=413)
    type_, key = _HTTP_ERRORS.get(exc.status_code, ("bad_request", "http_error"))
    body = {"type": type_, "key": key, "message": str(exc.detail), "data": {}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _pool_timeout(_: Request, exc: Exception) -> JSONResponse:
    """No pooled database connection came free within `OSMO_DB_POOL_TIMEOUT_SECONDS`: the
    process is saturated, so the caller is told to come back instead of waiting longer."""
    assert isinstance(exc, PoolTimeout)
    body = {
        "type": "unavailable",
        "key": "database_busy",
        "message": "Every database connection of this API process is in use; retry in 1 s",
        "data": {"retryAfter": 1},
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OsmoError, _osmo_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
