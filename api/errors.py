"""Every error leaves the API as `{type, key, message, data}` with a matching status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    key = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    body = {"type": "bad_request", "key": key, "message": str(exc.detail), "data": {}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OsmoError, _osmo_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
