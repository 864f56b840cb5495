"""The Temporal UI's codec server, so operators read encrypted runs in the UI.

Every payload Osmo hands Temporal is encrypted (`core/payload_codec.py`); the Temporal UI shows
them decoded by POSTing them to `{endpoint}/decode` (and `/encode` when it sends a signal), the
UI's documented remote codec protocol: `{"payloads": [{"metadata": {k: base64}, "data":
base64}]}` in and out, an `X-Namespace` header, and a cross-origin `fetch` from the UI's origin.

Only admins may decode. The UI's `fetch` cannot carry Osmo's bearer token (it can pass its own
OIDC token, which Osmo does not issue), but it can send cookies ("include cross-origin
credentials"). So an admin signs in once, from a small page or with
`POST /temporal-ui/session` and the admin token, and gets an HttpOnly cookie scoped to `/codec`
that the codec routes accept in place of the `Authorization` header. CORS answers only
`OSMO_TEMPORAL_UI_ORIGIN`, with credentials; decoding requires a JSON body, so a cross-site form
cannot trigger it without a preflight the origin check refuses.
"""

from __future__ import annotations

import base64
import binascii
import html
import time
from typing import Annotated, Any
from urllib.parse import parse_qsl

import jwt
from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from google.protobuf.message import DecodeError
from pydantic import BaseModel, Field, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from api.deps import ServicesDep
from api.models.errors import ErrorBody
from core.blobs import BlobNotFound, payload_codec
from core.crypto import DecryptionError
from core.errors import OsmoError, validation_error
from core.settings import Settings
from core.tokens import verify_token

router = APIRouter(tags=["temporal-ui"])

COOKIE = "osmo_temporal_ui"
COOKIE_PATH = "/codec"
SESSION_MAX_SECONDS = 12 * 3600
"""A UI session ends after this long even if the admin token lives longer."""

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        401: "No admin token or session cookie, or an invalid one",
        403: "The token is not an admin's, or the origin is not the Temporal UI's",
        415: "The body is not sent as application/json",
        422: "The body is not a list of base64 payloads",
    }.items()
}


class CodecPayload(BaseModel):
    """One Temporal payload in the codec protocol's JSON form."""

    metadata: dict[str, str] = Field(default_factory=dict, description="Values in base64.")
    data: str = Field("", description="Payload bytes in base64.")


class CodecBody(BaseModel):
    """The body of `/codec/encode` and `/codec/decode`, in and out."""

    payloads: list[CodecPayload]


def _cors_headers(request: Request, settings: Settings) -> dict[str, str]:
    """CORS headers for the Temporal UI's origin; none for any other origin."""
    origin = request.headers.get("origin", "").rstrip("/")
    if origin not in settings.temporal_ui_origins:
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def _admin_token(request: Request, settings: Settings) -> None:
    """Checks the bearer header, or else the UI session cookie, holds a valid admin token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or request.cookies.get(COOKIE, "")
    if not token:
        raise OsmoError(
            "auth",
            "not_authenticated",
            "Sign in at /temporal-ui/login or send `Authorization: Bearer <admin token>`",
            status=401,
        )
    claims = verify_token(token, settings.workspace_secret, settings.workspace_key)
    if not claims.is_admin:
        raise OsmoError("auth", "forbidden", "Decoding runs needs an admin token", status=403)


def _codec(request: Request, settings: Settings) -> PayloadCodec:
    """The app's codec, built once: a blob store client is not free to create."""
    codec: PayloadCodec | None = getattr(request.app.state, "payload_codec", None)
    if codec is None:
        codec = payload_codec(settings)
        request.app.state.payload_codec = codec
    return codec


def _payloads(body: bytes) -> list[Payload]:
    try:
        parsed = CodecBody.model_validate_json(body)
        return [
            Payload(
                metadata={k: base64.b64decode(v, validate=True) for k, v in p.metadata.items()},
                data=base64.b64decode(p.data, validate=True),
            )
            for p in parsed.payloads
        ]
    except (ValidationError, binascii.Error, ValueError) as exc:
        raise validation_error([{"path": "payloads", "message": str(exc)[:500]}]) from exc


def _as_json(payloads: list[Payload]) -> dict[str, Any]:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return {
        "payloads": [
            {"metadata": {k: b64(v) for k, v in p.metadata.items()}, "data": b64(p.data)}
            for p in payloads
        ]
    }


UNDECODABLE = (DecryptionError, BlobNotFound, DecodeError, KeyError, ValueError)
"""A retired key, a pruned blob, a malformed reference: shown as they are, not a 500."""


async def _decode_each(codec: PayloadCodec, payloads: list[Payload]) -> list[Payload]:
    """Decodes one by one: a payload that cannot be decoded stays as it is, the rest show."""
    decoded = []
    for payload in payloads:
        try:
            decoded += await codec.decode([payload])
        except UNDECODABLE:
            decoded.append(payload)
    return decoded


async def _run(request: Request, services: ServicesDep, decode: bool) -> Response:
    settings = services.settings
    cors = _cors_headers(request, settings)
    try:
        _admin_token(request, settings)
        if "application/json" not in request.headers.get("content-type", ""):
            # A JSON content type makes any cross-origin caller preflight first, which only
            # the UI's origin passes: no other page gets a cookie-authenticated call through.
            raise OsmoError(
                "bad_request",
                "unsupported_media_type",
                "Send the payloads as application/json",
                status=415,
            )
        payloads = _payloads(await request.body())
        codec = _codec(request, settings)
        result = await (_decode_each(codec, payloads) if decode else codec.encode(payloads))
    except OsmoError as error:
        # With CORS headers, so the UI shows the 401 instead of an opaque network error.
        return JSONResponse(error.to_dict(), status_code=error.status, headers=cors)
    return JSONResponse(_as_json(result), headers=cors)


# The body is read by hand (so even a malformed one gets the CORS headers); declared here.
BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CodecBody"}}},
    }
}


@router.post("/codec/decode", response_model=CodecBody, responses=ERRORS, openapi_extra=BODY)
async def decode(
    request: Request,
    services: ServicesDep,
    x_namespace: Annotated[str | None, Header()] = None,
) -> Response:
    """Decodes payloads for the Temporal UI (admin bearer token or UI session cookie)."""
    return await _run(request, services, decode=True)


@router.post("/codec/encode", response_model=CodecBody, responses=ERRORS, openapi_extra=BODY)
async def encode(
    request: Request,
    services: ServicesDep,
    x_namespace: Annotated[str | None, Header()] = None,
) -> Response:
    """Encodes payloads the Temporal UI sends (signals), as Osmo's clients would."""
    return await _run(request, services, decode=False)


@router.options("/codec/{operation}", include_in_schema=False)
async def preflight(operation: str, request: Request, services: ServicesDep) -> Response:
    """Answers the UI's CORS preflight; other origins get no CORS headers (browser refuses)."""
    cors = _cors_headers(request, services.settings)
    if operation not in ("encode", "decode") or "Access-Control-Allow-Origin" not in cors:
        return Response(status_code=403, headers=cors)
    allowed = {
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Namespace",
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers={**cors, **allowed})


@router.post("/temporal-ui/session", status_code=204, responses=ERRORS)
async def start_session(request: Request, services: ServicesDep) -> Response:
    """Sets the codec session cookie from an admin token.

    The token comes in `Authorization: Bearer …` (204) or as the `token` field of the sign-in
    page's form (303 to the Temporal UI). Never in the URL: URLs end up in logs and history.
    """
    settings = services.settings
    from_form = "form-urlencoded" in request.headers.get("content-type", "")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if from_form:
        token = dict(parse_qsl((await request.body()).decode(errors="replace"))).get("token", "")
    elif scheme.lower() != "bearer":
        token = ""
    token = token.strip()
    if not token:
        raise OsmoError("auth", "not_authenticated", "Send an admin token", status=401)
    claims = verify_token(token, settings.workspace_secret, settings.workspace_key)
    if not claims.is_admin:
        raise OsmoError("auth", "forbidden", "The Temporal UI needs an admin token", status=403)
    # Already verified; read again only for `exp`, which bounds the cookie's life.
    expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
    lifetime = SESSION_MAX_SECONDS if expires is None else int(expires - time.time())
    max_age = max(0, min(SESSION_MAX_SECONDS, lifetime))
    response: Response = (
        RedirectResponse(settings.temporal_ui_origins[0], status_code=303)
        if from_form
        else Response(status_code=204)
    )
    secure = settings.public_url.startswith("https://")
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        secure=secure,
        # Cross-site UIs need SameSite=None, which browsers accept only with Secure; over plain
        # http (the dev setup, UI and API on one host) the UI is same-site and Lax suffices.
        samesite="none" if secure else "lax",
    )
    return response


@router.delete("/temporal-ui/session", status_code=204)
async def end_session() -> Response:
    """Removes the codec session cookie."""
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.get("/temporal-ui/login", response_class=HTMLResponse)
async def login_page(services: ServicesDep) -> HTMLResponse:
    """A sign-in form: paste an admin token, get the codec cookie, go back to the UI."""
    origins = services.settings.temporal_ui_origins
    ui = html.escape(origins[0])
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Osmo — Temporal UI sign-in</title></head>
<body><h1>Read Osmo's runs in the Temporal UI</h1>
<p>Paste an admin token (<code>make token</code>). In the UI, the codec server
settings must have "Include cross-origin credentials" on.</p>
<form method="post" action="/temporal-ui/session">
<input type="password" name="token" autocomplete="off" required size="60">
<button type="submit">Sign in and open {ui}</button></form></body></html>"""
    csp = f"default-src 'none'; form-action 'self' {' '.join(origins)}; frame-ancestors 'none'"
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(page, headers=headers)
