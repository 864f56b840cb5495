"""OAuth 2.0 endpoints of the fake CRM (RFC 6749, RFC 7636 S256 PKCE, RFC 7009 revocation)."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from demo.fake_crm.grants import (
    NO_STORE,
    authenticate_client,
    form_str,
    oauth_error,
    token_response,
)
from demo.fake_crm.state import AuthCode, OAuthClient
from demo.web import add_query, error_page, login_page, new_token, same

if TYPE_CHECKING:
    from demo.fake_crm.app import FakeCRM

_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")
_FLOW_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _validate_authorize(
    crm: FakeCRM, params: dict[str, str]
) -> tuple[OAuthClient | None, Response | None]:
    """Validate authorize parameters; errors before the redirect URI is trusted render HTML."""
    client = crm.clients.get(params.get("client_id", ""))
    if client is None:
        return None, error_page("Unknown client_id. The application is not registered.")
    redirect_uri = params.get("redirect_uri", "")
    parts = urlsplit(redirect_uri)
    if not redirect_uri or parts.scheme not in ("http", "https") or parts.fragment:
        return None, error_page("A valid absolute redirect_uri is required.")
    if client.redirect_uris is not None and redirect_uri not in client.redirect_uris:
        return None, error_page("redirect_uri is not registered for this client.")

    def fail(error: str, description: str) -> tuple[None, Response]:
        location = add_query(
            redirect_uri,
            {"error": error, "error_description": description, "state": params.get("state")},
        )
        return None, RedirectResponse(location, status_code=302)

    if params.get("response_type") != "code":
        return fail("unsupported_response_type", "Only response_type=code is supported.")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is not None or method is not None:
        if method != "S256":
            return fail("invalid_request", "Transform algorithm not supported; use S256.")
        if challenge is None or not _CHALLENGE_RE.fullmatch(challenge):
            return fail("invalid_request", "code_challenge must be a base64url SHA-256 digest.")
    return client, None


def install(app: FastAPI, crm: FakeCRM) -> None:
    """Add ``/oauth/authorize``, ``/oauth/token`` and ``/oauth/revoke`` to ``app``.

    Args:
        app: The fake's FastAPI app.
        crm: The fake holding the state.
    """

    @app.get("/oauth/authorize")
    async def authorize_page(request: Request) -> Response:
        params = dict(request.query_params)
        crm.authorize_requests.append(params)
        with crm.lock:
            _client, error = _validate_authorize(crm, params)
        if error is not None:
            return error
        hidden = {k: params[k] for k in _FLOW_PARAMS if k in params}
        prompt = f"{params['client_id']} wants access to: {params.get('scope') or '(none)'}"
        return login_page(
            app_name="Fake CRM", action="/oauth/authorize", hidden=hidden, prompt=prompt
        )

    @app.post("/oauth/authorize")
    async def authorize_submit(request: Request) -> Response:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        with crm.lock:
            client, error = _validate_authorize(crm, params)
            if error is not None or client is None:
                return error or error_page("Invalid request.")
            redirect_uri, state = params["redirect_uri"], params.get("state")
            action = params.get("action")
            if action == "deny":
                location = add_query(
                    redirect_uri,
                    {
                        "error": "access_denied",
                        "error_description": "The user denied the request.",
                        "state": state,
                        "iss": _issuer(request),
                    },
                )
                return RedirectResponse(location, status_code=302)
            if action != "approve":
                return error_page("Unknown action.")
            user = crm.users.get(params.get("username", ""))
            if user is None or not same(user.password, params.get("password", "")):
                hidden = {k: params[k] for k in _FLOW_PARAMS if k in params}
                return login_page(
                    app_name="Fake CRM",
                    action="/oauth/authorize",
                    hidden=hidden,
                    prompt=f"{client.client_id} wants access to: {params.get('scope') or '(none)'}",
                    error="Invalid username or password.",
                    username=params.get("username", ""),
                )
            code = AuthCode(
                code=new_token("crm_code"),
                client_id=client.client_id,
                redirect_uri=redirect_uri,
                scope=" ".join(params.get("scope", "").split()),
                user_id=user.id,
                code_challenge=params.get("code_challenge"),
                expires_at=crm.clock() + crm.code_ttl,
                grant_id=new_token("grant", 8),
            )
            crm.codes[code.code] = code
        location = add_query(
            redirect_uri, {"code": code.code, "state": state, "iss": _issuer(request)}
        )
        return RedirectResponse(location, status_code=302)

    @app.post("/oauth/token")
    async def token(request: Request) -> Response:
        form = await request.form()
        entry: dict[str, Any] = {
            "grant_type": form_str(form, "grant_type"),
            "client_id": None,
            "auth_method": None,
            "time": crm.clock(),
            "status": None,
        }
        crm.token_requests.append(entry)
        if crm.token_latency:
            await asyncio.sleep(crm.token_latency)
        with crm.lock:
            response = token_response(crm, request, form, entry)
        entry["status"] = response.status_code
        return response

    @app.post("/oauth/revoke")
    async def revoke(request: Request) -> Response:
        form = await request.form()
        with crm.lock:
            client, _method, error = authenticate_client(crm, request, form)
            if error is not None or client is None:
                return error or oauth_error("invalid_client", "Client authentication failed.")
            value = form_str(form, "token")
            if not value:
                return oauth_error("invalid_request", "Missing token.")
            access = crm.access_tokens.get(value)
            refresh = crm.refresh_tokens.get(value)
            found = access or refresh
            if found is not None and found.client_id != client.client_id:
                return oauth_error("unauthorized_client", "Token was issued to another client.")
            if access is not None:
                access.revoked = True
            if refresh is not None:
                crm.revoke_grant(refresh.grant_id, "The refresh token has been revoked.")
            crm.revoked_tokens.append(value)
        return Response(status_code=200, headers=NO_STORE)


def _issuer(request: Request) -> str:
    """The fake's issuer identifier (its own URL), sent on every redirect as RFC 9207 says."""
    return str(request.base_url).rstrip("/")
