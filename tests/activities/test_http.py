"""Which addresses `custom-http-request` may reach, and where the product's API path may lead."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import activities.http
from activities.http import PublicOnlyTransport, app_url, is_public
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

    monkeypatch.setattr(activities.http, "is_public", only_loopback_v4)
    with serve(Starlette(routes=[Route("/", echo)])) as url:
        async with httpx.AsyncClient(transport=PublicOnlyTransport()) as client:
            response = await client.get(url)
    assert response.json() == {"host": url.removeprefix("http://")}
    assert checked == ["127.0.0.1"]
