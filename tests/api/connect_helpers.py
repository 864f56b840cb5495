"""Drives the connect page over HTTP the way a browser would (without JavaScript).

A "browser" is an `httpx.AsyncClient` with its own cookie jar: the connect page binds its
session and the OAuth `state` to the browser's cookie, so one flow must use one browser.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.conftest import Osmo
from tests.fakes import login_and_consent


def new_browser(osmo: Osmo) -> httpx.AsyncClient:
    """A client with a cookie jar of its own, as a separate browser would have."""
    return httpx.AsyncClient(base_url=osmo.url, timeout=30)


async def create_connect_session(
    osmo: Osmo, tenant: str, integration: str = "crm", **params: str
) -> dict[str, Any]:
    """`POST /connect-sessions` as `tenant`; `params` are the connect page's old query names."""
    body: dict[str, Any] = {"integrationKey": integration}
    for name in ("connectionId", "redirectUri", "authOptionKey"):
        if name in params:
            body[name] = params[name]
    if params.get("allowMultipleConnections") in ("true", "1"):
        body["allowMultipleConnections"] = True
    response = await osmo.call("POST", "/connect-sessions", tenant=tenant, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def start_oauth(
    osmo: Osmo,
    tenant: str,
    integration: str,
    browser: httpx.AsyncClient | None = None,
    **params: str,
) -> httpx.Response:
    """Creates a connect session and opens its page (in `browser`, default `osmo.client`)."""
    created = await create_connect_session(osmo, tenant, integration, **params)
    page = f"/connect?{urlsplit(created['url']).query}"  # the url is on OSMO_PUBLIC_URL
    return await (browser or osmo.client).get(page, follow_redirects=False)


async def connect_oauth2(
    osmo: Osmo,
    tenant: str,
    integration: str = "crm",
    user: tuple[str, str] = ("alice", "wonderland"),
    action: str = "approve",
    **params: str,
) -> httpx.Response:
    """Connect page → provider login → callback in one browser; returns the callback's response."""
    async with new_browser(osmo) as browser:
        start = await start_oauth(osmo, tenant, integration, browser, **params)
        assert start.status_code == 303, start.text
        consent = await login_and_consent(browser, start.headers["location"], *user, action=action)
        assert consent.status_code in (302, 303), consent.text
        return await browser.get(consent.headers["location"], follow_redirects=False)


def query_of(url: str) -> dict[str, Any]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def only_connection(osmo: Osmo, tenant: str) -> dict[str, Any]:
    listing = await osmo.call("GET", "/connections", tenant=tenant)
    assert listing.status_code == 200, listing.text
    items = listing.json()["items"]
    assert len(items) == 1, items
    return dict(items[0])
