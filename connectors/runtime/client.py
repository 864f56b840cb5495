"""The connector runtime: renders requests from a connector spec, authenticates them,
keeps credentials fresh (single-flight across processes), logs and normalizes every call."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from connectors.registry import ConnectorRegistry
from connectors.runtime.components import load_components
from connectors.runtime.context import ApiLogSink, ConnectionContext, CredentialStore
from connectors.runtime.errors import ConnectorError
from connectors.runtime.http_log import describe
from connectors.runtime.oauth1 import OAuth1Flow, request_signer
from connectors.runtime.oauth2 import OAuth2Grants, OAuthGrantError, TokenSet
from connectors.runtime.responses import classify
from connectors.runtime.sinks import record
from connectors.runtime.templates import render, render_value
from connectors.spec import (
    BasicOption,
    CredentialsMapping,
    OAuth1Option,
    OAuth2ClientCredentialsOption,
    OAuth2Option,
    RequestSpec,
)
from core.errors import OsmoError
from core.models import ConnectionState, utcnow
from core.stores.connections import StoredConnection

BEARER = CredentialsMapping(headers={"Authorization": "Bearer {{ credentials.access_token }}"})
BASIC = CredentialsMapping.model_validate(
    {"basic": {"username": "{{ inputs.username }}", "password": "{{ inputs.password }}"}}
)
LEASE_SECONDS = 30.0
BUDGET_MAX_WAIT = 30.0


class ConnectorRuntime:
    """Makes authenticated requests to external apps on behalf of connections.

    Args:
        registry: Known connectors.
        store: Credential persistence (None for throwaway contexts, e.g. in benchmarks).
        sink: Where each external call is logged.
        transport: httpx transport override (tests use `httpx.ASGITransport`).
        refresh_margin: Seconds before expiry at which tokens are refreshed proactively.
    """

    def __init__(
        self,
        registry: ConnectorRegistry,
        store: CredentialStore | None,
        sink: ApiLogSink,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        body_limit: int = 4096,
        refresh_margin: float = 300.0,
    ) -> None:
        self.registry = registry
        self.store = store
        self.sink = sink
        self.body_limit = body_limit
        self.refresh_margin = refresh_margin
        self._transport = transport
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None
        options = {"body_limit": body_limit, "transport": transport, "timeout": timeout}
        self.grants = OAuth2Grants(sink, **options)  # type: ignore[arg-type]
        self.oauth1 = OAuth1Flow(sink, **options)  # type: ignore[arg-type]
        self.holder = uuid.uuid4().hex
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def http(self) -> httpx.AsyncClient:
        """The pooled client, created in the event loop that first uses it."""
        if self._http is None:
            self._http = httpx.AsyncClient(transport=self._transport, timeout=self._timeout)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def context_for(self, stored: StoredConnection) -> ConnectionContext:
        connector = self.registry.get(stored.connector_key)
        if connector is None:
            raise OsmoError(
                "not_found", "connector_not_found", f"Unknown connector {stored.connector_key!r}"
            )
        auth = connector.auth_option(stored.auth_option_key)
        if auth is None:
            raise OsmoError(
                "bad_request",
                "auth_option_not_found",
                f"Connector {connector.key!r} has no auth option {stored.auth_option_key!r}",
            )
        return ConnectionContext.from_stored(stored, connector, auth)

    # -- requests -----------------------------------------------------------------------

    def build_request(
        self,
        ctx: ConnectionContext,
        method: str,
        path: str,
        *,
        params: Any = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Request:
        template = ctx.template_context()
        api = ctx.connector.api
        if path.startswith(("http://", "https://")):
            url = render(path, template)
        else:
            url = render(api.base_url, template).rstrip("/") + "/" + path.lstrip("/")
        mapping = self._mapping(ctx)
        merged_headers = render_value(dict(api.headers), template)
        merged_headers.update(render_value(dict(mapping.headers), template) if mapping else {})
        merged_headers.update(headers or {})
        query = httpx.QueryParams(render_value(dict(api.query), template))
        if "?" in url:
            # Keep the query a URL already carries (next-page links): httpx would replace it.
            url, _, carried = url.partition("?")
            query = httpx.QueryParams(carried).merge(query)
        if mapping and mapping.query:
            query = query.merge(render_value(dict(mapping.query), template))
        request = self.http.build_request(
            method,
            url,
            params=query.merge(params) if params else query,
            headers=merged_headers,
            json=json,
            content=content,
            data=data,
        )
        if mapping and mapping.basic:
            user = render(mapping.basic.username, template)
            password = render(mapping.basic.password, template) if mapping.basic.password else ""
            request = next(httpx.BasicAuth(user, password).auth_flow(request))
        if isinstance(ctx.auth, OAuth1Option):
            request = next(request_signer(ctx, ctx.auth).auth_flow(request))
        return request

    def _mapping(self, ctx: ConnectionContext) -> CredentialsMapping | None:
        if ctx.auth.apply is not None:
            return ctx.auth.apply
        if isinstance(ctx.auth, OAuth2Option | OAuth2ClientCredentialsOption):
            return BEARER
        if isinstance(ctx.auth, BasicOption):
            return BASIC
        return None

    async def request(
        self,
        ctx: ConnectionContext,
        method: str,
        path: str,
        *,
        raise_for_status: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Sends one request; refreshes before expiry, and once after the app says the token
        expired (a 401, or a body the connector classifies as `access_token_expired`).

        Raises:
            ConnectorError: For network failures, and for HTTP errors when `raise_for_status`.
        """
        await self._ensure_fresh(ctx)
        version = ctx.credentials_version
        response = await self._send(ctx, self.build_request(ctx, method, path, **kwargs))
        error = self._classify(ctx, response)
        expired = response.status_code == 401 or (
            error is not None and error.key == "access_token_expired"
        )
        if expired and self.can_refresh(ctx):
            await self.refresh(ctx, stale_version=version)
            response = await self._send(ctx, self.build_request(ctx, method, path, **kwargs))
            error = self._classify(ctx, response)
        if raise_for_status and error is not None:
            error.message = f"{method} {path}: {error.message}"
            raise error
        return response

    def _classify(self, ctx: ConnectionContext, response: httpx.Response) -> ConnectorError | None:
        hooks = load_components(ctx.connector.components)
        return hooks.check_response(response) or classify(response, ctx.connector.api)

    async def _take_budget(self, ctx: ConnectionContext) -> None:
        """Waits for room in the connection's request budget (shared by all processes)."""
        budget = ctx.connector.api.budget
        if budget is None or ctx.connection_id is None or self.store is None:
            return
        deadline = time.monotonic() + BUDGET_MAX_WAIT
        while True:
            window = int(time.time() // budget.per_seconds)
            if await asyncio.to_thread(
                self.store.take_budget, ctx.connection_id, window, budget.requests
            ):
                return
            wait = (window + 1) * budget.per_seconds - time.time()
            if time.monotonic() + wait > deadline:
                raise ConnectorError(
                    "rate_limit_exceeded",
                    "The connection's request budget is used up",
                    retry_after=wait,
                )
            await asyncio.sleep(max(wait, 0.01))

    async def _send(self, ctx: ConnectionContext, request: httpx.Request) -> httpx.Response:
        await self._take_budget(ctx)
        started = time.perf_counter()
        error: ConnectorError | None = None
        response: httpx.Response | None = None
        try:
            response = await self.http.send(request)
        except httpx.TimeoutException as exc:
            error = ConnectorError("timeout", f"{request.method} timed out: {type(exc).__name__}")
        except httpx.TransportError as exc:
            error = ConnectorError("network_error", f"{request.method} failed: {exc}")
        duration = (time.perf_counter() - started) * 1000
        call = describe(
            ctx,
            request,
            response,
            self.body_limit,
            duration_ms=duration,
            error_key=error.key if error else None,
            error_message=error.message if error else None,
        )
        await record(self.sink, call)
        if error is not None:
            raise error
        assert response is not None
        return response

    async def run_request_spec(self, ctx: ConnectionContext, spec: RequestSpec) -> httpx.Response:
        template = ctx.template_context()
        return await self.request(
            ctx,
            spec.method,
            render(spec.path, template),
            params=render_value(dict(spec.query), template) or None,
            headers=render_value(dict(spec.headers), template) or None,
            json=render_value(spec.json_body, template),
            data=render_value(spec.form, template) if spec.form else None,
        )

    async def test(self, ctx: ConnectionContext) -> Any:
        """Runs the auth option's test request; returns its JSON body (or None)."""
        if ctx.auth.test is None:
            return None
        response = await self.run_request_spec(ctx, ctx.auth.test)
        try:
            return response.json()
        except ValueError:
            return None

    # -- credentials ---------------------------------------------------------------------

    def can_refresh(self, ctx: ConnectionContext) -> bool:
        if isinstance(ctx.auth, OAuth2ClientCredentialsOption):
            return True
        # Without a refresh token (non-expiring tokens) there is nothing to refresh with.
        return (
            isinstance(ctx.auth, OAuth2Option)
            and ctx.auth.refresh
            and bool(ctx.credentials.get("refresh_token"))
        )

    async def _ensure_fresh(self, ctx: ConnectionContext) -> None:
        if not self.can_refresh(ctx):
            return
        missing = not ctx.credentials.get("access_token")
        expiring = (
            ctx.token_expires_at is not None
            and (ctx.token_expires_at - utcnow()).total_seconds() <= self.refresh_margin
        )
        if missing or expiring:
            await self.refresh(ctx, stale_version=ctx.credentials_version)

    async def refresh(self, ctx: ConnectionContext, stale_version: int | None = None) -> None:
        """Gets a new access token unless another caller already did (single-flight).

        Raises:
            ConnectorError: `connection_is_defunct` when the provider says `invalid_grant`
                (the connection is then marked disconnected), else `access_token_expired`.
        """
        stale = ctx.credentials_version if stale_version is None else stale_version
        if ctx.connection_id is None or self.store is None:
            await self._apply(ctx, await self._new_token(ctx))
            return
        connection_id = ctx.connection_id
        lock = self._locks.setdefault(connection_id, asyncio.Lock())
        async with lock:
            await self._acquire_lease(connection_id)
            try:
                snapshot = await asyncio.to_thread(self.store.load_credentials, connection_id)
                ctx.apply_snapshot(snapshot)
                if snapshot.version != stale:
                    return
                token = await self._new_token(ctx)
                version = await asyncio.to_thread(
                    self.store.save_credentials, connection_id, token.credentials, token.expires_at
                )
                await self._apply(ctx, token, version)
            finally:
                await asyncio.to_thread(self.store.unlock, connection_id, self.holder)

    async def _apply(self, ctx: ConnectionContext, token: TokenSet, version: int = 0) -> None:
        ctx.credentials = token.credentials
        ctx.token_expires_at = token.expires_at
        ctx.credentials_version = version or ctx.credentials_version + 1

    async def _acquire_lease(self, connection_id: str) -> None:
        assert self.store is not None
        deadline = time.monotonic() + LEASE_SECONDS
        while not await asyncio.to_thread(
            self.store.try_lock, connection_id, self.holder, LEASE_SECONDS
        ):
            if time.monotonic() > deadline:
                raise ConnectorError("timeout", "Timed out waiting for a credential refresh")
            await asyncio.sleep(0.05)

    async def _new_token(self, ctx: ConnectionContext) -> TokenSet:
        try:
            if isinstance(ctx.auth, OAuth2ClientCredentialsOption):
                return await self.grants.client_credentials(ctx, ctx.auth)
            assert isinstance(ctx.auth, OAuth2Option)
            return await self.grants.refresh(ctx, ctx.auth)
        except OAuthGrantError as exc:
            message = f"Token refresh failed: {exc}"
            if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client"):
                if ctx.connection_id and self.store is not None:
                    await asyncio.to_thread(
                        self.store.mark_state,
                        ctx.connection_id,
                        ConnectionState.disconnected,
                        exc.error,
                        exc.description or exc.error,
                    )
                raise ConnectorError(
                    "connection_is_defunct", message, data={"reason": exc.error}
                ) from exc
            raise ConnectorError("access_token_expired", message) from exc

    async def revoke(self, ctx: ConnectionContext) -> bool:
        """Revokes credentials at the provider where the connector says how."""
        if isinstance(ctx.auth, OAuth2Option) and ctx.auth.revoke_request is not None:
            try:
                await self.run_request_spec(ctx, ctx.auth.revoke_request)
            except ConnectorError as exc:
                if exc.retryable:
                    raise
                return False  # the app refused (token already gone, or not revocable)
            return True
        if isinstance(ctx.auth, OAuth2Option):
            return await self.grants.revoke(ctx, ctx.auth)
        return False
