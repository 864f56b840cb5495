"""OAuth 1.0a three-legged flow and request signing, through authlib."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth1Client, OAuth1Auth

from connectors.runtime.context import ApiLogSink, ConnectionContext
from connectors.runtime.http_log import logging_hooks
from connectors.runtime.oauth2 import OAuthGrantError
from connectors.runtime.templates import render
from connectors.spec import OAuth1Option


def request_signer(ctx: ConnectionContext, option: OAuth1Option) -> OAuth1Auth:
    """httpx auth that signs each request with the consumer and the customer's token."""
    return OAuth1Auth(
        ctx.client_id or "",
        ctx.client_secret,
        token=ctx.credentials.get("oauth_token"),
        token_secret=ctx.credentials.get("oauth_token_secret"),
        signature_method=option.signature_method,
        # authlib drops non-form bodies unless told to keep them (JSON writes would go out empty).
        force_include_body=True,
    )


class OAuth1Flow:
    """The three legs: request token, authorize redirect, access token."""

    def __init__(
        self,
        sink: ApiLogSink,
        *,
        body_limit: int = 4096,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.sink = sink
        self.body_limit = body_limit
        self.transport = transport
        self.timeout = timeout

    def _client(self, ctx: ConnectionContext, option: OAuth1Option, **kw: Any) -> AsyncOAuth1Client:
        return AsyncOAuth1Client(
            ctx.client_id or "",
            ctx.client_secret,
            signature_method=option.signature_method,
            event_hooks=logging_hooks(ctx, self.sink, self.body_limit),
            transport=self.transport,
            timeout=self.timeout,
            **kw,
        )

    async def request_token(
        self, ctx: ConnectionContext, option: OAuth1Option, callback_uri: str
    ) -> tuple[str, str]:
        url = render(option.request_token_url, ctx.template_context())
        async with self._client(ctx, option, redirect_uri=callback_uri) as client:
            try:
                token = await client.fetch_request_token(url)
            except (OAuthError, ValueError, httpx.HTTPError) as exc:
                raise OAuthGrantError("request_token_failed", str(exc)) from exc
        return token["oauth_token"], token["oauth_token_secret"]

    def authorize_url(self, ctx: ConnectionContext, option: OAuth1Option, oauth_token: str) -> str:
        url = render(option.authorize_url, ctx.template_context())
        return f"{url}{'&' if '?' in url else '?'}{urlencode({'oauth_token': oauth_token})}"

    async def access_token(
        self,
        ctx: ConnectionContext,
        option: OAuth1Option,
        oauth_token: str,
        token_secret: str,
        verifier: str,
    ) -> dict[str, Any]:
        url = render(option.access_token_url, ctx.template_context())
        client = self._client(ctx, option, token=oauth_token, token_secret=token_secret)
        async with client:
            try:
                token = await client.fetch_access_token(url, verifier=verifier)
            except (OAuthError, ValueError, httpx.HTTPError) as exc:
                raise OAuthGrantError("access_token_failed", str(exc)) from exc
        return dict(token)
