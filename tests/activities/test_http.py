"""Which addresses `custom-http-request` may reach, where the product's API path may lead,
and how both nodes' requests land in the external API logs."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from temporalio.exceptions import ApplicationError

import connectors.runtime.addresses
from activities.http import AppRequestInput, HttpActivities, HttpRequestInput, app_url
from connectors.runtime import DatabaseApiLogSink
from connectors.runtime.addresses import PublicOnlyTransport, is_public
from connectors.runtime.redaction import MASK
from core.models import ExternalApiLog
from tests.conftest import Osmo
from tests.fakes import serve

NOT_PUBLIC = [
    "127.0.0.1",  # loopback
    "::1",
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "fd00::1",
    "169.254.169.254",  # link-local (cloud metadata)
    "fe80::1",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "0.0.0.0",
    "::",
    "224.0.0.1",  # multicast
    "ff02::1",
    "240.0.0.1",  # reserved
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(address)


def test_app_paths_stay_on_the_apps_origin() -> None:
    base = "https://app.example.com/api/"
    assert str(app_url(base, "/things/1?x=1")) == "https://app.example.com/api/things/1?x=1"
    assert str(app_url(base, "http://evil.test/x")).startswith("https://app.example.com/api/")
    assert str(app_url(base, "//evil.test/x")) == "https://app.example.com/api/evil.test/x"
    assert app_url("https://app.example.com", "@evil.test/x").host == "app.example.com"


async def test_the_guarded_transport_connects_to_the_address_it_checked(monkeypatch) -> None:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"host": request.headers["host"]})

    checked: list[str] = []

    def only_loopback_v4(address: str) -> bool:
        checked.append(address)
        return address == "127.0.0.1"

    monkeypatch.setattr(connectors.runtime.addresses, "is_public", only_loopback_v4)
    with serve(Starlette(routes=[Route("/", echo)])) as url:
        async with httpx.AsyncClient(transport=PublicOnlyTransport()) as client:
            response = await client.get(url)
    assert response.json() == {"host": url.removeprefix("http://")}
    assert checked == ["127.0.0.1"]


# -- external API logs -----------------------------------------------------------------------

API_KEY = "key-0f9e8d7c6b5a"
BEARER = "custom-bearer-4a5b6c7d"
PASSWORD = "hunter2-correct-horse"


def external_app(authorizations: list[str]) -> Starlette:
    """An app that echoes what it was sent, under names the redactor does not know as secret."""

    async def contacts(request: Request) -> JSONResponse:
        authorization = request.headers.get("authorization", "")
        authorizations.append(authorization)
        seen = {"sent": await request.json(), "bearer": authorization.partition(" ")[2]}
        return JSONResponse(seen, status_code=201)

    async def boom(request: Request) -> PlainTextResponse:
        return PlainTextResponse("upstream broke", status_code=500)

    async def refuse(request: Request) -> JSONResponse:
        """A 422 that echoes the caller's secrets, and a session cookie on a 200."""
        echoed = {
            "error": "bad",
            "password": PASSWORD,
            "sent": request.headers.get("authorization"),
        }
        if request.query_params.get("ok"):
            response = JSONResponse({"fine": True})
            response.set_cookie("session", "sess-5e6f7a8b9c")
            return response
        return JSONResponse(echoed, status_code=422)

    async def slow(request: Request) -> PlainTextResponse:
        await asyncio.sleep(1)
        return PlainTextResponse("too late")

    return Starlette(
        routes=[
            Route("/contacts", contacts, methods=["POST"]),
            Route("/api/things/{id}", contacts, methods=["POST"]),
            Route("/boom", boom),
            Route("/refuse", refuse),
            Route("/slow", slow),
        ]
    )


@pytest.fixture
def app() -> Iterator[tuple[str, list[str]]]:
    """The external app's base URL and the Authorization headers it received."""
    authorizations: list[str] = []
    with serve(external_app(authorizations)) as url:
        yield url, authorizations


@contextlib.asynccontextmanager
async def http_activities(osmo: Osmo, **overrides: Any) -> AsyncIterator[HttpActivities]:
    """The activities as the worker builds them, logging to Osmo's database."""
    settings = osmo.settings.model_copy(update=overrides)
    built = HttpActivities(settings, DatabaseApiLogSink(osmo.services.engine))
    try:
        yield built
    finally:
        await built.aclose()


def logged(osmo: Osmo) -> list[ExternalApiLog]:
    with Session(osmo.services.engine) as session:
        return list(session.exec(select(ExternalApiLog)).all())


def raw_rows(osmo: Osmo) -> str:
    """Every stored column of every log row, as text (what a database dump would show)."""
    with osmo.services.engine.connect() as connection:
        return str(connection.execute(text("SELECT * FROM external_api_logs")).all())


def contact_request(url: str, **ids: str) -> HttpRequestInput:
    return HttpRequestInput(
        method="POST",
        url=f"{url}/contacts",
        query={"api_key": API_KEY, "page": "2"},
        headers={"Authorization": f"Bearer {BEARER}", "X-Trace": "t-1"},
        json={"name": "Ada", "password": PASSWORD},
        **ids,
    )


async def test_custom_request_is_logged_redacted_under_the_runs_ids(
    osmo_sqlite: Osmo, app: tuple[str, list[str]]
) -> None:
    url, _ = app
    async with http_activities(osmo_sqlite, allow_private_http=True) as http:
        output = await http.custom_http_request(
            contact_request(url, customer_id="cus-1", connection_id="con-1")
        )
    assert output.status == 201 and output.body["sent"]["password"] == PASSWORD
    [row] = logged(osmo_sqlite)
    assert (row.method, row.url) == ("POST", f"{url}/contacts?api_key=%5BREDACTED%5D&page=2")
    assert (row.status, row.success, row.error_key) == (201, True, None)
    assert row.duration_ms > 0 and row.request_size > 0 and row.response_size > 0
    assert (row.customer_id, row.connection_id, row.integration_key) == ("cus-1", "con-1", None)
    assert row.request_headers["authorization"] == MASK
    assert row.request_headers["x-trace"] == "t-1"
    assert row.request_body is not None and "Ada" in row.request_body
    assert MASK in row.request_body
    assert row.response_body is not None and MASK in row.response_body  # the echoes
    everything = raw_rows(osmo_sqlite)
    for secret in (API_KEY, BEARER, PASSWORD):
        assert secret not in everything


async def test_request_to_your_app_is_logged_without_its_token(
    osmo_sqlite: Osmo, app: tuple[str, list[str]]
) -> None:
    url, authorizations = app
    request = AppRequestInput(
        tenant_key="acme",
        method="POST",
        path="/things/42",
        query={"notify": "yes"},
        json={"name": "Ada"},
        customer_id="cus-1",
        connection_id="con-1",
    )
    async with http_activities(osmo_sqlite, app_api_url=f"{url}/api/") as http:
        await http.app_api_request(request)
    [row] = logged(osmo_sqlite)
    assert (row.method, row.url) == ("POST", f"{url}/api/things/42?notify=yes")
    assert (row.status, row.success) == (201, True)
    assert (row.customer_id, row.connection_id) == ("cus-1", "con-1")
    assert row.request_headers["authorization"] == MASK
    token = authorizations[0].removeprefix("Bearer ")
    assert token.count(".") == 2  # the JWT the app received...
    assert row.response_body is not None and MASK in row.response_body
    assert token not in raw_rows(osmo_sqlite)  # ...is nowhere in the log, echoed or sent


async def test_refused_private_address_is_logged(
    osmo_sqlite: Osmo, app: tuple[str, list[str]]
) -> None:
    url, authorizations = app
    async with http_activities(osmo_sqlite, allow_private_http=False) as http:
        with pytest.raises(ApplicationError) as refused:
            await http.custom_http_request(
                contact_request(url, customer_id="cus-1", connection_id="con-1")
            )
    assert refused.value.type == "address_not_allowed"
    assert authorizations == []  # nothing reached the app
    [row] = logged(osmo_sqlite)
    assert (row.status, row.success, row.error_key) == (None, False, "address_not_allowed")
    assert row.error_message is not None and "127.0.0.1" in row.error_message
    assert (row.customer_id, row.connection_id) == ("cus-1", "con-1")
    everything = raw_rows(osmo_sqlite)
    for secret in (API_KEY, BEARER, PASSWORD):
        assert secret not in everything


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("target", "error_type", "status", "error_key"),
    [
        ("/boom", "server_error", 500, None),
        ("closed-port", "network_error", None, "network_error"),
        ("/slow", "timeout", None, "timeout"),
    ],
)
async def test_failed_attempts_are_logged_as_failures(
    osmo_sqlite: Osmo,
    app: tuple[str, list[str]],
    target: str,
    error_type: str,
    status: int | None,
    error_key: str | None,
) -> None:
    url, _ = app
    address = f"http://127.0.0.1:{closed_port()}/" if target == "closed-port" else url + target
    settings = {"allow_private_http": True, "http_timeout_seconds": 0.2}
    async with http_activities(osmo_sqlite, **settings) as http:
        with pytest.raises(ApplicationError) as failed:
            await http.custom_http_request(
                HttpRequestInput("GET", address, customer_id="cus-1", connection_id="con-1")
            )
    assert failed.value.type == error_type
    [row] = logged(osmo_sqlite)
    assert (row.url, row.status, row.success, row.error_key) == (address, status, False, error_key)
    assert (row.customer_id, row.connection_id) == ("cus-1", "con-1")


async def test_what_reaches_workflow_history_is_redacted(
    osmo_sqlite: Osmo, app: tuple[str, list[str]]
) -> None:
    """Error bodies and response headers go into history: redacted like the logs."""
    url, _ = app
    request = HttpRequestInput(
        "GET", f"{url}/refuse", headers={"Authorization": f"Bearer {BEARER}"}
    )
    async with http_activities(osmo_sqlite, allow_private_http=True) as http:
        with pytest.raises(ApplicationError) as failed:
            await http.custom_http_request(request)
        ok = await http.custom_http_request(
            HttpRequestInput("GET", f"{url}/refuse", query={"ok": "1"})
        )
    details = str(failed.value.details)
    assert failed.value.type == "bad_request" and '"error":"bad"' in details.replace(" ", "")
    assert PASSWORD not in details and BEARER not in details
    assert ok.headers["set-cookie"] == MASK and "sess-5e6f7a8b9c" not in str(ok.headers)


async def test_a_token_the_app_echoes_is_masked_in_the_output(
    osmo_sqlite: Osmo, app: tuple[str, list[str]]
) -> None:
    """Successful bodies go into history (the node's output) too: no echoed bearer token."""
    url, _ = app
    async with http_activities(osmo_sqlite, allow_private_http=True) as http:
        output = await http.custom_http_request(contact_request(url))
    assert output.status == 201 and output.body["bearer"] == MASK
    assert output.body["sent"]["name"] == "Ada" and BEARER not in str(output)


async def test_logged_bodies_are_cut_at_the_log_body_limit(
    osmo_sqlite: Osmo, app: tuple[str, list[str]]
) -> None:
    url, _ = app
    request = HttpRequestInput("POST", f"{url}/contacts", json={"notes": "x" * 500})
    async with http_activities(osmo_sqlite, allow_private_http=True, log_body_limit=100) as http:
        await http.custom_http_request(request)
    [row] = logged(osmo_sqlite)
    assert row.request_size > 500
    assert row.request_body is not None and "truncated" in row.request_body
    assert len(row.request_body) < 150


async def test_flow_requests_are_listed_by_connection(
    osmo_sqlite: Osmo, app: tuple[str, list[str]]
) -> None:
    url, _ = app
    overrides = {"allow_private_http": True, "app_api_url": f"{url}/api/"}
    async with http_activities(osmo_sqlite, **overrides) as http:
        await http.custom_http_request(contact_request(url, connection_id="con-1"))
        await http.app_api_request(
            AppRequestInput("acme", "POST", "/things/1", json={}, connection_id="con-1")
        )
        await http.custom_http_request(contact_request(url, connection_id="con-2"))
    response = await osmo_sqlite.call("GET", "/external-api-logs?connectionId=con-1")
    items = response.json()["items"]
    assert [item["url"].split("?")[0] for item in items] == [  # newest first
        f"{url}/api/things/1",
        f"{url}/contacts",
    ]
    assert all(item["requestHeaders"]["authorization"] == MASK for item in items)
