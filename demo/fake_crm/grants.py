"""Token-endpoint logic of the fake CRM: client authentication and the three grant types."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.fake_crm.state import OAuthClient, RefreshToken
from demo.web import new_token, parse_basic_auth, same

if TYPE_CHECKING:
    from demo.fake_crm.app import FakeCRM

_PKCE_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_ERROR_STATUS = {"invalid_client": 401, "server_error": 500, "temporarily_unavailable": 503}


def oauth_error(error: str, description: str, status_code: int | None = None) -> JSONResponse:
    """Build an RFC 6749 §5.2 JSON error response.

    Args:
        error: OAuth error code.
        description: ``error_description``.
        status_code: HTTP status; derived from ``error`` when omitted.

    Returns:
        The response.
    """
    status = status_code or _ERROR_STATUS.get(error, 400)
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="crm"'
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=headers)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def form_str(form: FormData, key: str) -> str | None:
    value = form.get(key)
    return value if isinstance(value, str) else None


def _basic_client(crm: FakeCRM, user: str, password: str) -> tuple[str, OAuthClient | None]:
    """Resolve Basic credentials, raw or form-urlencoded first (RFC 6749 §2.3.1); both occur."""
    for client_id, secret in ((user, password), (unquote_plus(user), unquote_plus(password))):
        client = crm.clients.get(client_id)
        if client is not None and same(client.client_secret, secret):
            return client_id, client
    return unquote_plus(user), None


def authenticate_client(
    crm: FakeCRM, request: Request, form: FormData
) -> tuple[OAuthClient | None, str | None, Response | None]:
    """Authenticate the client by HTTP Basic or by ``client_id``/``client_secret`` in the body.

    Args:
        crm: The fake.
        request: The request (for the ``Authorization`` header).
        form: The parsed form body.

    Returns:
        ``(client, auth_method, error_response)``; exactly one of client/error is set.
    """
    basic = parse_basic_auth(request.headers.get("authorization"))
    body_id = form_str(form, "client_id")
    body_secret = form_str(form, "client_secret")
    failed = oauth_error("invalid_client", "Client authentication failed.")
    if basic is not None:
        method = "client_secret_basic"
        if body_secret is not None:
            error = oauth_error("invalid_request", "Use only one client authentication method.")
            return None, method, error
        client_id, client = _basic_client(crm, *basic)
        if body_id is not None and body_id != client_id:
            return None, method, oauth_error("invalid_request", "client_id mismatch.")
        return client, method, None if client is not None else failed
    if body_id is None or body_secret is None:
        return None, None, oauth_error("invalid_client", "Client authentication is required.")
    client = crm.clients.get(body_id)
    if client is None or not same(client.client_secret, body_secret):
        return None, "client_secret_post", failed
    return client, "client_secret_post", None


def _code_grant(crm: FakeCRM, client: OAuthClient, form: FormData) -> Response:
    code = form_str(form, "code")
    if not code:
        return oauth_error("invalid_request", "Missing code.")
    grant = crm.codes.get(code)
    if grant is None or grant.client_id != client.client_id:
        return oauth_error("invalid_grant", "The authorization code is invalid.")
    if grant.used:
        crm.revoke_grant(grant.grant_id, "Tokens revoked: authorization code was reused.")
        return oauth_error("invalid_grant", "The authorization code has already been used.")
    grant.used = True
    if grant.expires_at <= crm.clock():
        return oauth_error("invalid_grant", "The authorization code has expired.")
    if form_str(form, "redirect_uri") != grant.redirect_uri:
        return oauth_error("invalid_grant", "redirect_uri does not match the authorization.")
    verifier = form_str(form, "code_verifier")
    if grant.code_challenge is not None:
        if verifier is None or not _PKCE_RE.fullmatch(verifier):
            return oauth_error("invalid_grant", "A valid code_verifier is required.")
        if not same(_s256(verifier), grant.code_challenge):
            return oauth_error("invalid_grant", "PKCE verification failed.")
    elif verifier is not None:
        return oauth_error("invalid_grant", "code_verifier sent but no code_challenge was.")
    body = crm.issue_tokens(
        client_id=client.client_id,
        subject=grant.user_id,
        scope=grant.scope,
        grant_id=grant.grant_id,
        refresh=True,
    )
    return JSONResponse(body, headers=NO_STORE)


def _refresh_grant(crm: FakeCRM, client: OAuthClient, form: FormData) -> Response:
    value = form_str(form, "refresh_token")
    if not value:
        return oauth_error("invalid_request", "Missing refresh_token.")
    old = crm.refresh_tokens.get(value)
    if old is None or old.client_id != client.client_id:
        return oauth_error("invalid_grant", "The refresh token is invalid.")
    if old.invalid_reason is not None:
        return oauth_error("invalid_grant", old.invalid_reason)
    scope = old.scope
    requested = form_str(form, "scope")
    if requested is not None:
        if not set(requested.split()) <= set(old.scope.split()):
            return oauth_error("invalid_scope", "Requested scope exceeds the original grant.")
        scope = " ".join(requested.split())
    refresh: RefreshToken | bool | None = old
    if crm.omit_refresh_token_on_refresh:
        refresh = None
    elif crm.rotate_refresh_tokens:
        old.invalid_reason = "The refresh token has already been used."
        refresh = True
    body = crm.issue_tokens(
        client_id=client.client_id,
        subject=old.user_id,
        scope=scope,
        grant_id=old.grant_id,
        refresh=refresh,
    )
    return JSONResponse(body, headers=NO_STORE)


def _client_credentials_grant(crm: FakeCRM, client: OAuthClient, form: FormData) -> Response:
    scope = " ".join((form_str(form, "scope") or "").split())
    body = crm.issue_tokens(
        client_id=client.client_id,
        subject=f"client:{client.client_id}",
        scope=scope,
        grant_id=new_token("grant", 8),
        refresh=False,
    )
    return JSONResponse(body, headers=NO_STORE)


_GRANTS = {
    "authorization_code": _code_grant,
    "refresh_token": _refresh_grant,
    "client_credentials": _client_credentials_grant,
}


def token_response(
    crm: FakeCRM, request: Request, form: FormData, entry: dict[str, Any]
) -> Response:
    """Handle one token-endpoint call (the caller holds ``crm.lock``).

    Args:
        crm: The fake.
        request: The request (for the ``Authorization`` header).
        form: The parsed form body.
        entry: The ``token_requests`` entry to complete (``client_id``, ``auth_method``).

    Returns:
        The token or error response.
    """
    basic = parse_basic_auth(request.headers.get("authorization"))
    entry["client_id"] = unquote_plus(basic[0]) if basic else form_str(form, "client_id")
    if crm.pending_token_error is not None:
        error, crm.pending_token_error = crm.pending_token_error, None
        return oauth_error(error, "Injected failure (FakeCRM.fail_next_token_exchange).")
    client, method, failure = authenticate_client(crm, request, form)
    entry["auth_method"] = method
    if failure is not None or client is None:
        return failure or oauth_error("invalid_client", "Client authentication failed.")
    entry["client_id"] = client.client_id
    grant_type = entry["grant_type"]
    if not grant_type:
        return oauth_error("invalid_request", "Missing grant_type.")
    handler = _GRANTS.get(grant_type)
    if handler is None:
        return oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")
    return handler(crm, client, form)
