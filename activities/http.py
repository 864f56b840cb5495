"""Activities for HTTP requests made outside any connection.

The address guard lives in connectors/runtime/addresses.py (connections use it too).

- `custom_http_request` (the `custom-http-request` node) calls any URL, but only public
  addresses unless `OSMO_ALLOW_PRIVATE_HTTP` is set: flows are written by people who must not
  reach services inside the network Osmo runs in (cloud metadata, databases, admin panels).
- `app_api_request` (the `api-request-to-your-app` node) calls the product's own API at
  `OSMO_APP_API_URL` as the run's customer.

Both answer `{status, headers, body}`; errors follow the connector runtime's normalization
(4xx stop, 429/503 wait for `Retry-After`, 5xx and network errors retry). Redirects are not
followed: a redirect could lead to an address the check would have refused. Like connector
calls, every attempt is written to the external API logs, redacted the same way, under the
run's customer and connection.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from temporalio import activity

from activities.connectors import ApiRequestOutput, to_application_error
from activities.heartbeat import heartbeating
from connectors.runtime.addresses import PublicOnlyTransport
from connectors.runtime.bodies import response_body
from connectors.runtime.context import ApiCall, ApiLogSink
from connectors.runtime.errors import (
    ConnectorError,
    app_message,
    error_for_status,
    parse_retry_after,
)
from connectors.runtime.http_log import describe_request, ended, logs_pending
from connectors.runtime.redaction import Redactor, is_secret_name, secret_values
from connectors.runtime.sinks import record, update_record
from core.errors import OsmoError, bad_request
from core.settings import Settings
from core.tokens import mint_token

APP_TOKEN_TTL_SECONDS = 300


@dataclass(frozen=True)
class HttpRequestInput:
    method: str
    url: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    customer_id: str | None = None
    connection_id: str | None = None


@dataclass(frozen=True)
class AppRequestInput:
    tenant_key: str
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    customer_id: str | None = None
    connection_id: str | None = None


@dataclass(frozen=True)
class RequestOwner:
    """The flow run a request is made for, as its external API log entry names it.

    `secrets` are values to mask wherever they appear (a token the request carries), on top
    of the masking of secret-named headers, query parameters and body members.
    """

    customer_id: str | None
    connection_id: str | None
    secrets: frozenset[str] = frozenset()
    integration_key: str | None = None

    def redactor(self) -> Redactor:
        return Redactor(self.secrets)


class HttpActivities:
    """HTTP activities with their own pooled clients (created in the loop that first uses them)."""

    def __init__(self, settings: Settings, sink: ApiLogSink) -> None:
        self.settings = settings
        self.sink = sink
        self._http: httpx.AsyncClient | None = None
        self._app_http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """The client of `custom_http_request`: public addresses only, unless allowed."""
        if self._http is None:
            allowed = self.settings.allow_private_http
            self._http = httpx.AsyncClient(
                transport=None if allowed else PublicOnlyTransport(),
                timeout=self.settings.http_timeout_seconds,
            )
        return self._http

    @property
    def app_http(self) -> httpx.AsyncClient:
        """The client of the product's API, whose address the operator chose."""
        if self._app_http is None:
            self._app_http = httpx.AsyncClient(timeout=self.settings.http_timeout_seconds)
        return self._app_http

    async def aclose(self) -> None:
        for client in (self._http, self._app_http):
            if client is not None:
                await client.aclose()

    @activity.defn(name="custom_http_request")
    @heartbeating
    async def custom_http_request(self, input: HttpRequestInput) -> ApiRequestOutput:
        """Any HTTP request to an absolute http(s) URL.

        Raises:
            ApplicationError: non-retryable `address_not_allowed` for a non-public address
                (unless `OSMO_ALLOW_PRIVATE_HTTP`), `invalid_url`, or a 4xx; retryable on
                429, 5xx and network errors.
        """
        url = _http_url(input.url)
        secrets = _request_secrets(input.headers, input.query)
        owner = RequestOwner(input.customer_id, input.connection_id, secrets)
        return await self._send(
            self.http, owner, input.method, url, input.query, input.headers, input.json
        )

    @activity.defn(name="app_api_request")
    @heartbeating
    async def app_api_request(self, input: AppRequestInput) -> ApiRequestOutput:
        """A request to `OSMO_APP_API_URL` + `path` as the run's customer.

        It carries `Authorization: Bearer <JWT>` signed with the workspace secret (HS256), with
        claims `workspaceKey`, `tenantKey` and an `exp` five minutes ahead — the same kind of
        token the product mints for Osmo, so the product verifies it with the secret it has.
        """
        base = self.settings.app_api_url
        if not base:
            raise to_application_error(
                OsmoError(
                    "bad_request",
                    "app_api_not_configured",
                    "Set OSMO_APP_API_URL to the base URL of your app's API",
                )
            )
        token = mint_token(
            self.settings.workspace_secret,
            self.settings.workspace_key,
            tenant_key=input.tenant_key,
            ttl_seconds=APP_TOKEN_TTL_SECONDS,
        )
        headers = {k: v for k, v in input.headers.items() if k.lower() != "authorization"}
        headers["Authorization"] = f"Bearer {token}"
        url = app_url(base, input.path)
        owner = RequestOwner(input.customer_id, input.connection_id, frozenset([token]))
        return await self._send(
            self.app_http, owner, input.method, url, input.query, headers, input.json
        )

    async def _send(
        self,
        client: httpx.AsyncClient,
        owner: RequestOwner,
        method: str,
        url: httpx.URL,
        query: dict[str, str],
        headers: dict[str, str],
        json: Any,
    ) -> ApiRequestOutput:
        shown = f"{method} {url.copy_with(query=None)}"  # queries may carry keys
        request = client.build_request(
            method, url.copy_merge_params(query), headers=headers, json=json
        )
        call = describe_request(owner, request, self.settings.log_body_limit)
        pending = logs_pending(request)
        if pending:
            await record(self.sink, call)  # before the write leaves: it may reach the app
        started = time.perf_counter()
        try:
            response = await client.send(request)
        except (OsmoError, httpx.TransportError) as exc:
            error = _transport_error(exc, shown)
            await self._log(owner, call, pending, None, started, error)
            raise to_application_error(error) from exc
        await self._log(owner, call, pending, response, started, None)
        redactor = owner.redactor()
        if response.status_code >= 400:
            try:
                parsed: Any = response_body(response)
            except OsmoError:  # an error page that claims JSON: its text may still say why
                parsed = None
            said = app_message(
                parsed if isinstance(parsed, dict | list) else None,
                response.text,
                response.headers.get("content-type", ""),
            )
            error = error_for_status(
                response.status_code,
                f"{shown} returned {response.status_code}",
                parse_retry_after(response.headers.get("retry-after")),
                redactor.text(said) if said else None,
            )
            # Into workflow history: redacted like the logs (an app may echo a token back).
            error.data["body"] = redactor.body(
                response.content,
                response.headers.get("content-type", ""),
                self.settings.log_body_limit,
            )
            raise to_application_error(error)
        try:
            # By content type: JSON parsed, text as text, bytes as {contentType, base64}.
            body = response_body(response)
        except OsmoError as exc:
            raise to_application_error(exc) from exc
        return ApiRequestOutput(
            response.status_code,
            redactor.headers(response.headers.items()),
            redactor.value(body),  # into history: the app may echo the token it was sent
        )

    async def _log(
        self,
        owner: RequestOwner,
        call: ApiCall,
        pending: bool,
        response: httpx.Response | None,
        started: float,
        error: OsmoError | None,
    ) -> None:
        """Writes how one attempt ended to the external API logs, as the connector runtime
        does (updating its pending entry, for a write)."""
        done = ended(
            owner,
            call,
            response,
            self.settings.log_body_limit,
            duration_ms=(time.perf_counter() - started) * 1000,
            error_key=error.key if error else None,
            error_message=error.message if error else None,
        )
        await (update_record if pending else record)(self.sink, done)


def _request_secrets(headers: dict[str, str], query: dict[str, str]) -> frozenset[str]:
    """Values of secret-named headers and query parameters, and the token after a scheme
    (`Bearer <token>`), so the log masks them also where the app echoes them back."""
    values = [v for k, v in {**headers, **query}.items() if is_secret_name(k)]
    return frozenset(secret_values(values, [v.split()[-1] for v in values if v.strip()]))


def _transport_error(exc: OsmoError | httpx.TransportError, shown: str) -> OsmoError:
    """What a request that got no response failed with: a refused address, or the network."""
    if isinstance(exc, OsmoError):
        return exc
    if isinstance(exc, httpx.TimeoutException):
        return ConnectorError("timeout", f"{shown} timed out")
    return ConnectorError("network_error", f"{shown} failed: {exc}")


def _http_url(raw: str) -> httpx.URL:
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as exc:
        raise to_application_error(bad_request("invalid_url", f"Invalid URL: {exc}")) from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise to_application_error(
            bad_request("invalid_url", f"Not an absolute http(s) URL: {raw!r}", url=raw)
        )
    return url


def app_url(base: str, path: str) -> httpx.URL:
    """`base` + `path`. The `/` between them ends the base's authority, so no path (not even
    an absolute URL) can send the customer's token to another host."""
    return httpx.URL(base.rstrip("/") + "/" + path.lstrip("/"))
