"""Connect sessions: the only way into the connect page outside dev, single-use and expiring."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import text
from sqlmodel import Session, select

from core.models import ConnectSession, utcnow
from tests.api.connect_helpers import (
    connect_oauth2,
    create_connect_session,
    new_browser,
    only_connection,
    query_of,
)
from tests.conftest import Osmo, create_crm_integration
from tests.fakes import login_and_consent


def session_rows(osmo: Osmo) -> list[dict[str, object]]:
    with osmo.services.engine.connect() as db:
        return [dict(r._mapping) for r in db.execute(text("SELECT * FROM connect_sessions"))]


async def test_session_is_created_with_a_url_and_only_its_hash_is_stored(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    before = utcnow()
    created = await create_connect_session(osmo, "acme", redirectUri="https://product.example/x")
    token = created["token"]
    assert created["url"] == f"{osmo.url}/connect?session={token}"
    expires = datetime.fromisoformat(created["expiresAt"])
    ttl = timedelta(seconds=osmo.settings.connect_session_ttl_seconds)
    assert before + ttl - timedelta(seconds=5) <= expires <= utcnow() + ttl
    [row] = session_rows(osmo)
    assert token not in repr(row)
    assert row["redirect_uri"] == "https://product.example/x"


async def test_a_session_is_used_up_by_the_connection_it_makes(osmo: Osmo, crm) -> None:
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    created = await create_connect_session(osmo, "acme")
    async with new_browser(osmo) as browser:
        start = await browser.get(created["url"])
        consent = await login_and_consent(browser, start.headers["location"], "alice", "wonderland")
        done = await browser.get(consent.headers["location"])
        assert done.status_code == 200, done.text
        again = await browser.get(created["url"])
    assert again.status_code == 410
    assert 'data-error-key="connect_session_used"' in again.text
    await only_connection(osmo, "acme")
    assert len(fake.token_requests) == 1


async def test_two_flows_from_one_session_connect_once(osmo: Osmo, crm) -> None:
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    created = await create_connect_session(osmo, "acme", allowMultipleConnections="true")
    async with new_browser(osmo) as browser:
        # the customer reopens the page (allowed while the session lives) and so starts twice
        first = await browser.get(created["url"])
        second = await browser.get(created["url"])
        assert first.status_code == second.status_code == 303
        callbacks = [
            (await login_and_consent(browser, start.headers["location"], "alice", "wonderland"))
            for start in (first, second)
        ]
        done = await browser.get(callbacks[0].headers["location"])
        late = await browser.get(callbacks[1].headers["location"])
    assert done.status_code == 200, done.text
    assert late.status_code == 400
    assert 'data-error-key="connect_session_used"' in late.text
    await only_connection(osmo, "acme")
    assert len(fake.token_requests) == 1


async def test_a_session_belongs_to_the_first_browser_that_opens_it(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    created = await create_connect_session(osmo, "acme")
    async with new_browser(osmo) as customer, new_browser(osmo) as other:
        assert (await customer.get(created["url"])).status_code == 303
        stolen = await other.get(created["url"])
        assert stolen.status_code == 403
        assert 'data-error-key="connect_session_other_browser"' in stolen.text
        assert (await customer.get(created["url"])).status_code == 303


async def test_an_expired_session_is_refused(osmo: Osmo, crm) -> None:
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    created = await create_connect_session(osmo, "acme")
    with Session(osmo.services.engine) as db:
        [row] = db.exec(select(ConnectSession)).all()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
        db.commit()
    page = await osmo.client.get(created["url"])
    assert page.status_code == 410
    assert 'data-error-key="connect_session_expired"' in page.text
    assert fake.authorize_requests == []


async def test_another_customer_cannot_use_or_target_a_session(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    await connect_oauth2(osmo, "acme")
    acme = await only_connection(osmo, "acme")
    # globex cannot aim a session at acme's connection ...
    response = await osmo.call(
        "POST",
        "/connect-sessions",
        tenant="globex",
        json={"integrationKey": "crm", "connectionId": acme["id"]},
    )
    assert response.status_code == 404
    assert response.json()["key"] == "connection_not_found"
    # ... and a session connects whoever created it, whoever's token the browser may carry
    created = await create_connect_session(osmo, "globex")
    async with new_browser(osmo) as browser:
        browser.headers["Authorization"] = f"Bearer {osmo.token('acme')}"
        start = await browser.get(created["url"])
        consent = await login_and_consent(browser, start.headers["location"], "alice", "wonderland")
        done = await browser.get(consent.headers["location"])
    assert done.status_code == 200, done.text
    globex = await only_connection(osmo, "globex")
    assert globex["id"] != acme["id"]
    assert (await only_connection(osmo, "acme"))["id"] == acme["id"]


async def test_bad_session_requests_are_4xx_and_store_nothing(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    osmo.services.settings.allowed_redirect_origins = "https://product.example"
    cases = [
        ({"integrationKey": "crm", "redirectUri": "https://evil.example/x"}, 422),
        ({"integrationKey": "crm", "redirectUri": "javascript:alert(1)"}, 422),
        ({"integrationKey": "nope"}, 404),
        ({"integrationKey": "crm", "authOptionKey": "client-credentials"}, 400),
        ({"integrationKey": "crm", "connectionId": "0" * 32}, 404),
        ({"integrationKey": "crm", "unknown": 1}, 422),
        ({}, 422),
    ]
    for body, status in cases:
        response = await osmo.call("POST", "/connect-sessions", tenant="acme", json=body)
        assert response.status_code == status, (body, response.text)
        assert {"type", "key", "message", "data"} <= set(response.json())
    admin = await osmo.call("POST", "/connect-sessions", json={"integrationKey": "crm"})
    assert admin.status_code == 403
    anonymous = await osmo.client.post("/connect-sessions", json={"integrationKey": "crm"})
    assert anonymous.status_code == 401
    assert session_rows(osmo) == []


async def test_customer_token_in_the_url_is_refused_outside_dev(osmo: Osmo, crm) -> None:
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    query = urlencode({"integrationKey": "crm", "token": osmo.token("acme")})
    for env in ("test", "production"):
        osmo.services.settings.env = env  # type: ignore[assignment]
        refused = await osmo.client.get(f"/connect?{query}")
        assert refused.status_code == 403
        assert 'data-error-key="token_in_url_not_allowed"' in refused.text
        posted = await osmo.client.post("/connect", data={"integrationKey": "crm", "token": "x"})
        assert posted.status_code == 403
    assert fake.authorize_requests == []
    osmo.services.settings.env = "dev"
    async with new_browser(osmo) as browser:
        start = await browser.get(f"/connect?{query}")
        assert start.status_code == 303, start.text
        consent = await login_and_consent(browser, start.headers["location"], "alice", "wonderland")
        done = await browser.get(consent.headers["location"])
    assert done.status_code == 200, done.text
    await only_connection(osmo, "acme")


async def test_session_fixes_the_links_parameters(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    created = await create_connect_session(osmo, "acme", redirectUri="https://product.example/ok")
    # parameters added to the link are ignored: the session says where the page returns to
    url = f"{created['url']}&redirectUri=https://evil.example/&integrationKey=other"
    async with new_browser(osmo) as browser:
        start = await browser.get(url)
        assert start.status_code == 303, start.text
        consent = await login_and_consent(browser, start.headers["location"], "alice", "wonderland")
        done = await browser.get(consent.headers["location"])
    assert done.status_code == 303
    assert done.headers["location"].startswith("https://product.example/ok?connectionId=")
    assert (
        query_of(done.headers["location"])["connectionId"]
        == (await only_connection(osmo, "acme"))["id"]
    )


async def test_form_session_survives_refused_credentials_then_is_used(osmo: Osmo, helpdesk) -> None:
    _, helpdesk_url = helpdesk
    created = await osmo.call(
        "POST",
        "/integrations",
        json={
            "key": "helpdesk",
            "connectorKey": "fake-helpdesk",
            "parameters": {"baseUrl": helpdesk_url},
            "authOptions": ["api-token"],
        },
    )
    assert created.status_code == 201, created.text
    link = await create_connect_session(osmo, "acme", "helpdesk")
    token = query_of(link["url"])["session"]
    form = {"session": token, "inputs.email": "agent@example.com"}
    async with new_browser(osmo) as browser:
        assert (await browser.get(link["url"])).status_code == 200
        wrong = await browser.post("/connect", data={**form, "inputs.apiToken": "wrong-one"})
        assert wrong.status_code == 400
        right = await browser.post(
            "/connect", data={**form, "inputs.apiToken": "helpdesk-token-123"}
        )
        assert right.status_code == 200, right.text
        again = await browser.post(
            "/connect", data={**form, "inputs.apiToken": "helpdesk-token-123"}
        )
        assert again.status_code == 410
    await only_connection(osmo, "acme")


async def test_customers_and_integrations_with_pending_connects_can_be_deleted(
    osmo: Osmo, crm
) -> None:
    """Open connect sessions and OAuth states go with their customer or integration (on
    PostgreSQL their foreign keys made these deletes a 500)."""
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    created = await create_connect_session(osmo, "acme")
    async with new_browser(osmo) as browser:
        start = await browser.get(created["url"])  # leaves a pending OAuth state
        assert start.status_code == 303, start.text
    assert (await osmo.call("DELETE", "/customers/acme")).status_code == 204
    assert session_rows(osmo) == []
    await create_connect_session(osmo, "bob")
    async with new_browser(osmo) as browser:
        assert (await browser.get((await create_connect_session(osmo, "bob"))["url"])).is_redirect
    deleted = await osmo.call("DELETE", "/integrations/crm")
    assert deleted.status_code == 204, deleted.text
    assert session_rows(osmo) == []
