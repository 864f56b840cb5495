"""The connector runtime: builds each request under the connector's base URL, authenticates
it, keeps credentials fresh, logs and normalizes every call.

Only the connector's own definitions are templates (`api`, auth `apply`, test and revoke
requests, operation and collection paths): they may use `credentials` and secret inputs. A
path handed to `request` is taken literally, whoever wrote it, and must stay under the base URL
(see `urls.resolve_url`), so a path a customer controls can neither read a secret nor send the
connection's `Authorization` header to another host.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from connectors.registry import ConnectorRegistry
from connectors.runtime.addresses import AddressNotAllowed, PublicOnlyTransport, ensure_public
from connectors.runtime.budget import take_budget
from connectors.runtime.components import load_components
from connectors.runtime.context import ApiLogSink, ConnectionContext, CredentialStore
from connectors.runtime.credentials import CredentialKeeper, ensure_connected
from connectors.runtime.errors import ConnectorError
from connectors.runtime.http_log import describe_request, ended, logs_pending
from connectors.runtime.oauth1 import OAuth1Flow
from connectors.runtime.oauth2 import OAuth2Grants
from connectors.runtime.responses import classify
from connectors.runtime.signing import credentials_mapping, sign
from connectors.runtime.sinks import record, update_record
from connectors.runtime.templates import render, render_value
from connectors.runtime.urls import customer_derived, parse_base_url, render_url, resolve_url
from connectors.spec import OAuth2Option, RequestSpec
from core.errors import OsmoError
from core.models import ConnectionState
from core.stores.connections import StoredConnection


class ConnectorRuntime:
    """Makes authenticated requests to external apps on behalf of connections.

    Args:
        registry: Known connectors.
        store: Credential persistence (None for throwaway contexts, e.g. in benchmarks).
        sink: Where each external call is logged.
        transport: httpx transport override (tests use `httpx.MockTransport`). It replaces
            the network, and with it the address guard, which works where connections open.
        refresh_margin: Seconds before expiry at which tokens are refreshed proactively (at
            most half the token's lifetime).
        allow_private_http: Let connections whose base URL the customer supplied reach
            loopback, private and link-local addresses (`OSMO_ALLOW_PRIVATE_HTTP`). Base URLs
            set only by the connector and the integration's parameters may always.
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
        allow_private_http: bool = False,
    ) -> None:
        self.registry = registry
        self.store = store
        self.sink = sink
        self.body_limit = body_limit
        self.allow_private_http = allow_private_http
        self._transport = transport
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None
        self._public_http: httpx.AsyncClient | None = None
        options = {"body_limit": body_limit, "transport": transport, "timeout": timeout}
        self.grants = OAuth2Grants(
            sink,
            allow_private_http=allow_private_http,
            **options,  # type: ignore[arg-type]
        )
        self.oauth1 = OAuth1Flow(sink, **options)  # type: ignore[arg-type]
        self.credentials = CredentialKeeper(store, self.grants, refresh_margin)

    @property
    def http(self) -> httpx.AsyncClient:
        """The pooled client, created in the event loop that first uses it."""
        if self._http is None:
            self._http = httpx.AsyncClient(transport=self._transport, timeout=self._timeout)
        return self._http

    @property
    def public_http(self) -> httpx.AsyncClient:
        """The pooled client that connects to public addresses only."""
        if self._public_http is None:
            self._public_http = httpx.AsyncClient(
                transport=PublicOnlyTransport(), timeout=self._timeout
            )
        return self._public_http

    async def aclose(self) -> None:
        for client in (self._http, self._public_http):
            if client is not None:
                await client.aclose()

    def guarded(self, ctx: ConnectionContext) -> bool:
        """Whether the connection may reach public addresses only: its base URL comes from
        the customer's inputs or credentials, and the workspace does not allow private ones."""
        if self.allow_private_http or self._transport is not None:
            return False
        return customer_derived(ctx.connector.api.base_url)

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

    def base_url(self, ctx: ConnectionContext) -> httpx.URL:
        """The connection's API base URL, rendered and checked."""
        return parse_base_url(render_url(ctx.connector.api.base_url, ctx.template_context()))

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
        """The authenticated request for `path`, taken literally and kept under the base URL.

        Raises:
            ConnectorError: `url_outside_api` or `invalid_url` for a path that leads off the
                connector's API or is no URL.
        """
        template = ctx.template_context()
        api = ctx.connector.api
        url = resolve_url(self.base_url(ctx), path)
        mapping = credentials_mapping(ctx)
        merged_headers = render_value(dict(api.headers), template)
        merged_headers.update(render_value(dict(mapping.headers), template) if mapping else {})
        merged_headers.update(headers or {})
        query = httpx.QueryParams(render_value(dict(api.query), template))
        if url.query:
            # Keep the query a URL already carries (next-page links) under the connector's own.
            query = httpx.QueryParams(url.query.decode("ascii")).merge(query)
            url = url.copy_with(query=None)
        if mapping and mapping.query:
            query = query.merge(render_value(dict(mapping.query), template))
        try:
            request = self.http.build_request(
                method,
                url,
                params=query.merge(params) if params else query,
                headers=merged_headers,
                json=json,
                content=content,
                data=data,
            )
        except httpx.InvalidURL as exc:
            raise ConnectorError("invalid_url", f"Invalid URL: {exc}") from exc
        return sign(ctx, request, mapping, template)

    async def request(
        self,
        ctx: ConnectionContext,
        method: str,
        path: str,
        *,
        raise_for_status: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Sends one request to `path` (relative to the base URL, or an absolute URL on it;
        never rendered as a template); refreshes before expiry, and once after the app says
        the token expired (a 401, or a body the connector classifies as `access_token_expired`).

        Raises:
            ConnectorError: `connection_disconnected` at once for a disconnected connection;
                `url_outside_api`/`invalid_url`, before the request is sent, for a path off the
                API; network failures; HTTP errors when `raise_for_status`.
        """
        ensure_connected(ctx)
        await self.credentials.ensure_fresh(ctx)
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
            # The app's own words may echo what it was sent (a token, an API key).
            redactor = ctx.redactor()
            error.message = redactor.text(f"{method} {path}: {error.message}")
            if isinstance(error.data.get("appMessage"), str):
                error.data["appMessage"] = redactor.text(error.data["appMessage"])
            raise error
        return response

    def _classify(self, ctx: ConnectionContext, response: httpx.Response) -> ConnectorError | None:
        hooks = load_components(ctx.connector.components)
        return hooks.check_response(response) or classify(response, ctx.connector.api)

    async def _send(self, ctx: ConnectionContext, request: httpx.Request) -> httpx.Response:
        call = describe_request(ctx, request, self.body_limit)
        pending = logs_pending(request)
        await take_budget(self.store, ctx)
        client = self.public_http if self.guarded(ctx) else self.http
        if pending:
            await record(self.sink, call)  # before the write leaves: it may reach the app
        started = time.perf_counter()
        error: ConnectorError | None = None
        response: httpx.Response | None = None
        try:
            response = await client.send(request)
        except AddressNotAllowed as exc:
            error = ConnectorError("address_not_allowed", exc.message, data=exc.data)
        except httpx.TimeoutException as exc:
            error = ConnectorError("timeout", f"{request.method} timed out: {type(exc).__name__}")
        except httpx.LocalProtocolError as exc:
            # We would send something invalid (a header with a line break): retrying cannot help.
            error = ConnectorError("bad_request", f"{request.method} is not valid HTTP: {exc}")
        except httpx.TransportError as exc:
            error = ConnectorError("network_error", f"{request.method} failed: {exc}")
        duration = (time.perf_counter() - started) * 1000
        call = ended(
            ctx,
            call,
            response,
            self.body_limit,
            duration_ms=duration,
            error_key=error.key if error else None,
            error_message=error.message if error else None,
        )
        await (update_record if pending else record)(self.sink, call)
        if error is not None:
            raise error
        assert response is not None
        return response

    async def run_request_spec(self, ctx: ConnectionContext, spec: RequestSpec) -> httpx.Response:
        """Sends one of the connector's own requests (auth test, revoke): the only requests
        whose path is a template over the connection's inputs and credentials."""
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
        """Runs the auth option's test request; returns its JSON body (or None).

        A base URL the customer supplied must be public (unless allowed) even when the
        connector has no test request, so a connection to a private address is never saved.

        Raises:
            ConnectorError: `address_not_allowed`, and whatever the test request fails with.
        """
        if ctx.auth.test is None:
            if self.guarded(ctx):
                await ensure_public(self.base_url(ctx), self._timeout)
            return None
        response = await self.run_request_spec(ctx, ctx.auth.test)
        try:
            return response.json()
        except ValueError:
            return None

    # -- credentials ---------------------------------------------------------------------

    def can_refresh(self, ctx: ConnectionContext) -> bool:
        return self.credentials.can_refresh(ctx)

    async def refresh(self, ctx: ConnectionContext, stale_version: int | None = None) -> None:
        """Gets a new access token unless another caller already did (see `CredentialKeeper`)."""
        await self.credentials.refresh(ctx, stale_version)

    async def revoke(self, ctx: ConnectionContext) -> bool:
        """Revokes credentials at the provider where the connector says how.

        A disconnected connection's tokens are not sent anywhere, not even to be revoked.
        """
        if ctx.state == ConnectionState.disconnected:
            return False
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
