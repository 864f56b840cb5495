"""OAuth 2.0 grants (authorization code + PKCE, refresh, client credentials, revocation).

Token endpoint calls go through authlib's httpx client; every call is logged (redacted).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from connectors.runtime.addresses import AddressNotAllowed, PublicOnlyTransport
from connectors.runtime.context import ApiLogSink, ConnectionContext
from connectors.runtime.errors import ConnectorError
from connectors.runtime.http_log import logging_hooks
from connectors.runtime.templates import lookup, render_value
from connectors.runtime.urls import customer_derived, render_url
from connectors.spec import OAuth2ClientCredentialsOption, OAuth2Option
from core.errors import OsmoError
from core.models import utcnow


class OAuthGrantError(Exception):
    """The token endpoint refused a grant (`error` per RFC 6749, e.g. `invalid_grant`)."""

    def __init__(self, error: str, description: str | None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class TokenSet:
    credentials: dict[str, Any]
    expires_at: datetime | None


def new_code_verifier() -> str:
    return generate_token(64)


def scopes_for(ctx: ConnectionContext, option: OAuth2Option | OAuth2ClientCredentialsOption) -> str:
    requested = list(dict.fromkeys([*option.scopes, *ctx.scopes]))
    return option.scope_separator.join(requested)


def authorization_url(
    ctx: ConnectionContext, option: OAuth2Option, redirect_uri: str, state: str, verifier: str
) -> str:
    """The provider URL the customer's browser is sent to."""
    template = ctx.template_context()
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": ctx.client_id or "",
        "redirect_uri": redirect_uri,
        "state": state,
    }
    scope = scopes_for(ctx, option)
    if scope:
        params["scope"] = scope
    if option.pkce:
        params["code_challenge"] = create_s256_code_challenge(verifier)
        params["code_challenge_method"] = "S256"
    params.update(render_value(dict(option.authorize_params), template))
    url = render_url(option.authorize_url, template)
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def check_issuer(ctx: ConnectionContext, option: OAuth2Option, iss: str | None) -> None:
    """Validates the authorization response's `iss` parameter (RFC 9207, mix-up defense).

    An `iss` that differs from the option's declared `issuer` is refused whether or not the
    provider promised to send it; a missing `iss` is refused only when it did. Without a
    declared issuer there is nothing to compare with, so `iss` is ignored.

    Raises:
        OsmoError: `issuer_mismatch` or `issuer_missing`.
    """
    if not option.issuer:
        return
    expected = render_url(option.issuer, ctx.template_context())
    if iss is None:
        if option.authorization_response_iss_parameter_supported:
            raise OsmoError(
                "connection",
                "issuer_missing",
                "The authorization response has no `iss` although the app always sends one.",
            )
        return
    # RFC 9207 2.4: a simple string comparison, no normalization.
    if not hmac.compare_digest(iss.encode(), expected.encode()):
        raise OsmoError(
            "connection",
            "issuer_mismatch",
            "The authorization response came from an unexpected issuer.",
            {"iss": iss},
        )


def _client(
    ctx: ConnectionContext,
    option: OAuth2Option | OAuth2ClientCredentialsOption,
    sink: ApiLogSink,
    body_limit: int,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> AsyncOAuth2Client:
    client_id, client_secret = ctx.client_id, ctx.client_secret
    if isinstance(option, OAuth2ClientCredentialsOption) and option.client_from == "inputs":
        client_id, client_secret = ctx.inputs.get("clientId"), ctx.inputs.get("clientSecret")
    method = "client_secret_basic" if option.client_auth == "basic" else "client_secret_post"
    return AsyncOAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
        event_hooks=logging_hooks(ctx, sink, body_limit),
        transport=transport,
        timeout=timeout,
    )


def _token_set(
    option: OAuth2Option | OAuth2ClientCredentialsOption,
    token: dict[str, Any],
    previous: dict[str, Any] | None = None,
) -> TokenSet:
    credentials = dict(token)
    credentials.pop("expires_at", None)
    if previous and not credentials.get("refresh_token") and previous.get("refresh_token"):
        # Providers that do not rotate refresh tokens omit them from refresh responses.
        credentials["refresh_token"] = previous["refresh_token"]
    if option.token_values:
        for name, path in option.token_values.items():
            value = lookup(token, path)
            if value is None and previous:
                value = previous.get(name)
            if value is not None:
                credentials[name] = value
    expires_in = token.get("expires_in")
    expires_at = utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None
    return TokenSet(credentials, expires_at)


class OAuth2Grants:
    """Runs token requests for one connection context."""

    def __init__(
        self,
        sink: ApiLogSink,
        *,
        body_limit: int = 4096,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        allow_private_http: bool = False,
    ) -> None:
        self.sink = sink
        self.allow_private_http = allow_private_http
        self.body_limit = body_limit
        self.transport = transport
        self.timeout = timeout

    async def _fetch(
        self,
        ctx: ConnectionContext,
        option: OAuth2Option | OAuth2ClientCredentialsOption,
        **params: Any,
    ) -> dict[str, Any]:
        # The request carries the integration's client secret: a host from the customer's
        # inputs keeps the URL's shape and must be public (see `urls.render_url`).
        url = render_url(option.token_url, ctx.template_context())
        transport = self.transport
        if transport is None and not self.allow_private_http and customer_derived(option.token_url):
            transport = PublicOnlyTransport()
        client = _client(ctx, option, self.sink, self.body_limit, transport, self.timeout)
        async with client:
            try:
                if params.get("grant_type") == "refresh_token":
                    params.pop("grant_type")
                    return dict(await client.refresh_token(url, **params))
                return dict(await client.fetch_token(url, **params))
            except OAuthError as exc:
                raise OAuthGrantError(exc.error or "oauth_error", exc.description) from exc
            except AddressNotAllowed as exc:
                raise ConnectorError("address_not_allowed", exc.message, data=exc.data) from exc
            except httpx.HTTPError as exc:
                raise ConnectorError("network_error", f"Token request failed: {exc}") from exc
            except ValueError as exc:
                raise OAuthGrantError("invalid_response", "Token endpoint sent no JSON") from exc

    async def exchange_code(
        self,
        ctx: ConnectionContext,
        option: OAuth2Option,
        code: str,
        redirect_uri: str,
        verifier: str | None,
    ) -> TokenSet:
        params: dict[str, Any] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
        }
        if option.pkce and verifier:
            params["code_verifier"] = verifier
        return _token_set(option, await self._fetch(ctx, option, **params))

    async def refresh(self, ctx: ConnectionContext, option: OAuth2Option) -> TokenSet:
        refresh_token = ctx.credentials.get("refresh_token")
        if not refresh_token:
            raise OAuthGrantError("invalid_grant", "The connection has no refresh token")
        token = await self._fetch(
            ctx, option, grant_type="refresh_token", refresh_token=refresh_token
        )
        return _token_set(option, token, previous=ctx.credentials)

    async def client_credentials(
        self, ctx: ConnectionContext, option: OAuth2ClientCredentialsOption
    ) -> TokenSet:
        params: dict[str, Any] = {"grant_type": "client_credentials"}
        scope = scopes_for(ctx, option)
        if scope:
            params["scope"] = scope
        return _token_set(option, await self._fetch(ctx, option, **params))

    async def revoke(self, ctx: ConnectionContext, option: OAuth2Option) -> bool:
        """Revokes the connection's token at the provider; False when it cannot."""
        if option.revoke is None:
            return False
        token = ctx.credentials.get(option.revoke.token) or ctx.credentials.get("access_token")
        if not token:
            return False
        url = render_url(option.revoke.url, ctx.template_context())
        client = _client(ctx, option, self.sink, self.body_limit, self.transport, self.timeout)
        async with client:
            response = await client.revoke_token(
                url, token=token, token_type_hint=option.revoke.token
            )
        return bool(response.status_code < 400)
