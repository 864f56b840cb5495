"""HubSpot-shaped REST API of the fake CRM (bearer auth, rate limiting, contacts CRUD)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.web import base_url, iso, record_request

if TYPE_CHECKING:
    from demo.fake_crm.app import FakeCRM

_DEFAULT_LIMIT = 10
_MAX_LIMIT = 100


def api_error(
    status_code: int, category: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Build a HubSpot-style error response.

    Args:
        status_code: HTTP status.
        category: e.g. ``INVALID_AUTHENTICATION``, ``RATE_LIMITS``, ``OBJECT_NOT_FOUND``.
        message: Human-readable message.
        headers: Extra response headers.

    Returns:
        The response.
    """
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    return JSONResponse(body, status_code=status_code, headers=headers)


def _unauthorized(message: str, error: bool = True) -> JSONResponse:
    challenge = 'Bearer realm="crm"'
    if error:
        challenge += f', error="invalid_token", error_description="{message}"'
    headers = {"WWW-Authenticate": challenge}
    return api_error(401, "INVALID_AUTHENTICATION", message, headers)


def _check_access(crm: FakeCRM, request: Request) -> Response | None:
    """Apply the rate limit, then bearer authentication; stash the token on success."""
    if crm.rate_limit_remaining > 0:
        crm.rate_limit_remaining -= 1
        retry = str(crm.rate_limit_retry_after)
        return api_error(
            429,
            "RATE_LIMITS",
            "You have reached your secondly limit.",
            {"Retry-After": retry, "X-HubSpot-RateLimit-Remaining": "0"},
        )
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return _unauthorized("Authentication credentials not found.", error=False)
    token = crm.access_tokens.get(value.strip())
    if token is None:
        return _unauthorized("The access token is invalid.")
    if token.revoked:
        return _unauthorized("The access token has been revoked.")
    if token.expires_at <= crm.clock():
        return _unauthorized("The access token has expired.")
    request.state.token = token
    return None


def _encode_cursor(contact_id: str) -> str:
    return base64.urlsafe_b64encode(f"c:{contact_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        return int(value) if prefix == "c" else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


async def _properties(request: Request) -> dict[str, Any] | Response:
    try:
        payload = await request.json()
    except ValueError:
        return api_error(400, "VALIDATION_ERROR", "Invalid input JSON.")
    props = payload.get("properties") if isinstance(payload, dict) else None
    if not isinstance(props, dict):
        return api_error(400, "VALIDATION_ERROR", "Body must be {'properties': {...}}.")
    return props


def _not_found(contact_id: str) -> JSONResponse:
    return api_error(404, "OBJECT_NOT_FOUND", f"Object not found. objectId={contact_id}")


def install(app: FastAPI, crm: FakeCRM) -> None:
    """Add the ``/api/...`` guard middleware and routes to ``app``.

    Args:
        app: The fake's FastAPI app.
        crm: The fake holding the state.
    """

    @app.middleware("http")
    async def api_guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith("/api/"):
            return await call_next(request)
        entry = await record_request(request, crm.api_requests)
        with crm.lock:
            rejection = _check_access(crm, request)
        response = rejection or await call_next(request)
        entry["status"] = response.status_code
        return response

    @app.get("/api/v1/me")
    async def me(request: Request) -> Response:
        subject: str = request.state.token.subject
        if subject.startswith("client:"):
            return JSONResponse({"id": subject, "email": None, "name": subject[7:]})
        user = next(u for u in crm.users.values() if u.id == subject)
        return JSONResponse({"id": user.id, "email": user.email, "name": user.name})

    @app.get("/api/v1/contacts")
    async def list_contacts(request: Request) -> Response:
        raw_limit = request.query_params.get("limit", str(_DEFAULT_LIMIT))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= _MAX_LIMIT:
            return api_error(400, "VALIDATION_ERROR", f"limit must be 1..{_MAX_LIMIT}.")
        limit = crm.page_size or int(raw_limit)
        after = request.query_params.get("after")
        start = 0
        if after is not None:
            decoded = _decode_cursor(after)
            if decoded is None:
                return api_error(400, "VALIDATION_ERROR", "Invalid paging cursor 'after'.")
            start = decoded
        with crm.lock:
            ordered = sorted(
                (c for c in crm.contacts.values() if int(c["id"]) >= start),
                key=lambda c: int(c["id"]),
            )
        page = ordered[:limit]
        body: dict[str, Any] = {"results": page}
        if len(ordered) > limit:
            cursor = _encode_cursor(ordered[limit]["id"])
            link = f"{base_url(request)}/api/v1/contacts?limit={limit}&after={cursor}"
            body["paging"] = {"next": {"after": cursor, "link": link}}
        return JSONResponse(body)

    @app.post("/api/v1/contacts")
    async def create_contact(request: Request) -> Response:
        props = await _properties(request)
        if isinstance(props, Response):
            return props
        with crm.lock:
            email = props.get("email")
            dup = next(
                (
                    c
                    for c in crm.contacts.values()
                    if email and c["properties"].get("email") == email
                ),
                None,
            )
            if dup is not None:
                return api_error(
                    409, "CONFLICT", f"Contact already exists. Existing ID: {dup['id']}"
                )
            record = crm.new_contact(props)
        crm.webhooks.emit("contact.created", record)
        return JSONResponse(record, status_code=201)

    @app.post("/api/v1/contacts/search")
    async def search_contacts(request: Request) -> Response:
        """HubSpot's search, its `EQ` filters only: every filter of a group must hold."""
        try:
            payload = await request.json()
            groups = payload.get("filterGroups") or []
            filters = [
                (f["propertyName"], str(f["value"]))
                for group in groups
                for f in group.get("filters") or []
                if f.get("operator", "EQ") == "EQ"
            ]
        except (ValueError, AttributeError, KeyError, TypeError):
            return api_error(400, "VALIDATION_ERROR", "Body must be {'filterGroups': [...]}.")
        with crm.lock:
            found = [
                c
                for c in crm.contacts.values()
                if all(c["properties"].get(name) == value for name, value in filters)
            ]
        found.sort(key=lambda c: int(c["id"]))
        limit = payload.get("limit") or _DEFAULT_LIMIT
        return JSONResponse({"total": len(found), "results": found[:limit]})

    @app.get("/api/v1/contacts/{contact_id}")
    async def get_contact(contact_id: str) -> Response:
        record = crm.contacts.get(contact_id)
        return JSONResponse(record) if record is not None else _not_found(contact_id)

    @app.patch("/api/v1/contacts/{contact_id}")
    async def update_contact(contact_id: str, request: Request) -> Response:
        props = await _properties(request)
        if isinstance(props, Response):
            return props
        with crm.lock:
            record = crm.contacts.get(contact_id)
            if record is None:
                return _not_found(contact_id)
            stamp = iso(crm.clock())
            record["properties"].update(
                {k: (None if v is None else str(v)) for k, v in props.items()}
            )
            record["properties"]["lastmodifieddate"] = stamp
            record["updatedAt"] = stamp
        crm.webhooks.emit("contact.updated", record)
        return JSONResponse(record)

    @app.delete("/api/v1/contacts/{contact_id}")
    async def delete_contact(contact_id: str) -> Response:
        with crm.lock:
            record = crm.contacts.pop(contact_id, None)
            if record is None:
                return _not_found(contact_id)
        crm.webhooks.emit("contact.deleted", record)
        return Response(status_code=204)
