"""Drives the connect page over HTTP the way a browser would (without JavaScript)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.conftest import Osmo
from tests.fakes import login_and_consent


async def start_oauth(osmo: Osmo, tenant: str, integration: str, **params: str) -> httpx.Response:
    query = urlencode({"integrationKey": integration, "token": osmo.token(tenant), **params})
    return await osmo.client.get(f"/connect?{query}", follow_redirects=False)


async def connect_oauth2(
    osmo: Osmo,
    tenant: str,
    integration: str = "crm",
    user: tuple[str, str] = ("alice", "wonderland"),
    action: str = "approve",
    **params: str,
) -> httpx.Response:
    """Connect page → provider login → callback; returns the callback's response."""
    start = await start_oauth(osmo, tenant, integration, **params)
    assert start.status_code == 303, start.text
    async with httpx.AsyncClient() as browser:
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
