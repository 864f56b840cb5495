"""The hosted connect page in a real headless browser (Chromium), end to end.

The same flows as ``test_oauth2_connect.py``, but clicked through by a browser: redirects,
form posts, the fake provider's login page, and the result page's ``postMessage`` to the
window that opened the connect popup.

Set ``OSMO_TEST_SCREENSHOT_DIR`` to keep a screenshot of the connected page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.async_api import Page, expect

from tests.api.connect_helpers import create_connect_session, start_oauth
from tests.browser import browser_page_fixture, chromium_fixture  # noqa: F401 (fixtures)
from tests.conftest import Osmo, create_crm_integration
from tests.fakes import FakeCRM, FakeHelpdesk, serve

PRODUCT_PAGE = "http://product.example/settings/integrations"
HELPDESK_TOKEN = "helpdesk-token-123"


async def connect_url(osmo: Osmo, integration: str, tenant: str = "acme") -> str:
    """What the product's backend does: create a connect session and take its url."""
    return str((await create_connect_session(osmo, tenant, integration))["url"])


async def connections(osmo: Osmo, tenant: str = "acme") -> list[dict[str, Any]]:
    listing = await osmo.call("GET", "/connections", tenant=tenant)
    assert listing.status_code == 200, listing.text
    return list(listing.json()["items"])


async def attempts(osmo: Osmo, tenant: str = "acme") -> list[dict[str, Any]]:
    listing = await osmo.call("GET", "/connection-attempts", tenant=tenant)
    assert listing.status_code == 200, listing.text
    return list(listing.json()["items"])


async def sign_in_at_crm(page: Page, crm_url: str, username: str, password: str) -> None:
    """On the fake CRM's login page: type the credentials and allow access."""
    assert page.url.startswith(f"{crm_url}/oauth/authorize"), page.url
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#approve")


async def test_oauth2_connect_in_the_browser(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], browser_page: Page
) -> None:
    osmo, page = osmo_sqlite, browser_page
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    await page.goto(await connect_url(osmo, "crm"))
    await expect(page.locator("#prompt")).to_contain_text("contacts.read")

    await sign_in_at_crm(page, crm_url, "alice", "not-the-password")
    await expect(page.locator("#error")).to_have_text("Invalid username or password.")
    assert fake.codes == {} and fake.token_requests == []
    await expect(page.locator("#username")).to_have_value("alice")

    async with page.expect_navigation(url=f"{osmo.url}/oauth/callback?**") as landing:
        await sign_in_at_crm(page, crm_url, "alice", "wonderland")
    response = await landing.value
    assert response is not None and response.status == 200
    await expect(page.locator("h1")).to_have_text("Connected")
    result = page.locator("#result")
    await expect(result).to_have_text("Fake CRM is connected.")
    connection_id = await result.get_attribute("data-connection-id")
    assert connection_id
    # the page's nonce-tagged stylesheet applies under its Content-Security-Policy
    await expect(page.locator("#result")).to_have_css("color", "rgb(27, 94, 32)")
    assert not [text for text in console if "Content Security Policy" in text], console
    await _maybe_screenshot(page, "osmo-connect.png")

    [connection] = await connections(osmo)
    assert connection["id"] == connection_id
    assert connection["state"] == "connected"
    assert connection["integrationKey"] == "crm"
    assert [r["grant_type"] for r in fake.token_requests] == ["authorization_code"]
    assert fake.api_requests[-1]["path"] == "/api/v1/me"


async def test_oauth2_popup_posts_the_result_to_the_opener(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], browser_page: Page
) -> None:
    osmo, page = osmo_sqlite, browser_page
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    opener = _opener_html(await connect_url(osmo, "crm"))
    await page.route(
        PRODUCT_PAGE, lambda route: route.fulfill(body=opener, content_type="text/html")
    )
    await page.goto(PRODUCT_PAGE)

    async with page.expect_popup() as popup_info:
        await page.click("#open-connect")
    popup = await popup_info.value
    await popup.wait_for_url(f"{crm_url}/oauth/authorize?**")
    await sign_in_at_crm(popup, crm_url, "alice", "wonderland")

    await page.wait_for_function("window.__messages.length > 0")
    messages = await page.evaluate("window.__messages")
    [connection] = await connections(osmo)
    assert messages == [
        {
            "origin": osmo.url,
            "data": {"type": "osmo:connect", "success": True, "connectionId": connection["id"]},
        }
    ]
    assert connection["state"] == "connected"
    # on success the result page closes its own popup
    if not popup.is_closed():
        await popup.wait_for_event("close")


async def test_api_token_form_in_the_browser(
    osmo_sqlite: Osmo, helpdesk: tuple[FakeHelpdesk, str], browser_page: Page
) -> None:
    osmo, page = osmo_sqlite, browser_page
    fake, helpdesk_url = helpdesk
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

    response = await page.goto(await connect_url(osmo, "helpdesk"))
    assert response is not None and response.status == 200
    await expect(page.locator("h1")).to_have_text("Connect Fake Helpdesk")
    email, token = page.locator("#input-email"), page.locator("#input-apiToken")
    await expect(token).to_have_attribute("type", "password")
    await expect(email).to_have_attribute("type", "text")
    await expect(page.locator("#form-error")).to_have_count(0)

    # 1. malformed inputs: inline errors, nothing sent to the helpdesk, nothing stored
    status = await _submit(page, "x", "s3cr3t")
    assert status == 422
    await expect(page.locator("#form-error")).to_have_text("Please correct the fields below.")
    await expect(page.locator("#error-email")).to_contain_text("too short")
    await expect(page.locator("#error-apiToken")).to_have_text("is invalid")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(token).to_have_attribute("aria-invalid", "true")
    await expect(email).to_have_value("x")
    await expect(token).to_have_value("")
    assert "s3cr3t" not in await page.content()
    assert fake.api_requests == []
    assert await connections(osmo) == []

    # 2. well-formed but wrong token: the test request gets a 401, the form says so
    status = await _submit(page, "agent@example.com", "wrong-token-456")
    assert status == 400
    await expect(page.locator("#form-error")).to_contain_text("test request")
    await expect(page.locator("#error-email")).to_have_count(0)
    await expect(page.locator("#error-apiToken")).to_have_count(0)
    await expect(email).to_have_value("agent@example.com")
    await expect(token).to_have_value("")
    html = await page.content()
    assert "wrong-token-456" not in html
    assert [r["status"] for r in fake.api_requests] == [401]
    assert await connections(osmo) == []
    failed = await attempts(osmo)
    assert failed[0]["success"] is False
    assert failed[0]["errorKey"] == "connection_test_failed"
    assert "wrong-token-456" not in json.dumps(failed)

    # 3. the right token connects
    status = await _submit(page, "agent@example.com", HELPDESK_TOKEN)
    assert status == 200
    await expect(page.locator("h1")).to_have_text("Connected")
    result = page.locator("#result")
    await expect(result).to_have_text("Fake Helpdesk is connected.")
    connection_id = await result.get_attribute("data-connection-id")
    assert HELPDESK_TOKEN not in await page.content()
    [connection] = await connections(osmo)
    assert connection["id"] == connection_id
    assert connection["state"] == "connected"
    assert connection["integrationKey"] == "helpdesk"
    assert fake.api_requests[-1]["status"] == 200


async def test_provider_denial_in_the_browser(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], browser_page: Page
) -> None:
    osmo, page = osmo_sqlite, browser_page
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    await page.goto(await connect_url(osmo, "crm"))
    assert page.url.startswith(f"{crm_url}/oauth/authorize?"), page.url

    async with page.expect_navigation(url=f"{osmo.url}/oauth/callback?**") as landing:
        await page.click("#deny")
    response = await landing.value
    assert response is not None and response.status == 400
    await expect(page.locator("h1")).to_have_text("Could not connect")
    result = page.locator("#result")
    await expect(result).to_have_attribute("data-error-key", "access_denied")
    await expect(result).to_contain_text("access_denied")
    await expect(result).to_contain_text("The user denied the request.")
    assert await connections(osmo) == []
    assert fake.token_requests == []
    [attempt] = await attempts(osmo)
    assert attempt["success"] is False and attempt["errorKey"] == "access_denied"


async def test_state_from_another_browser_is_refused_in_the_browser(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], browser_page: Page
) -> None:
    """An attacker starts a flow for their customer and lures the victim through the provider."""
    osmo, page = osmo_sqlite, browser_page
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    lure = await start_oauth(osmo, "mallory", "crm")
    assert lure.status_code == 303, lure.text

    await page.goto(lure.headers["location"])
    async with page.expect_navigation(url=f"{osmo.url}/oauth/callback?**") as landing:
        await sign_in_at_crm(page, crm_url, "alice", "wonderland")
    response = await landing.value
    assert response is not None and response.status == 400
    await expect(page.locator("h1")).to_have_text("Could not connect")
    await expect(page.locator("#result")).to_have_attribute(
        "data-error-key", "state_browser_mismatch"
    )
    assert await connections(osmo, "mallory") == []
    assert fake.token_requests == []


async def test_only_allowed_origins_can_frame_the_connect_page(
    osmo_sqlite: Osmo, helpdesk: tuple[FakeHelpdesk, str], browser_page: Page
) -> None:
    osmo, page = osmo_sqlite, browser_page
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
    # The product's page comes from a real loopback server: Chromium keeps pages it cannot
    # place on the local network (such as routed ones) from framing loopback pages at all.
    product = FastAPI()
    frame_html = {"body": ""}

    @product.get("/settings")
    def settings_page() -> HTMLResponse:
        return HTMLResponse(frame_html["body"])

    with serve(product) as product_url:
        for allowed, framed in [(product_url, True), ("https://other.example", False)]:
            osmo.services.settings.allowed_redirect_origins = allowed
            src = await connect_url(osmo, "helpdesk")
            frame_html["body"] = f'<iframe id="osmo" src="{src}"></iframe>'
            async with page.expect_response(lambda r: "/connect?session=" in r.url) as framed_page:
                await page.goto(f"{product_url}/settings")
            assert (await framed_page.value).status == 200
            heading = page.frame_locator("#osmo").locator("h1")
            if framed:
                await expect(heading).to_have_text("Connect Fake Helpdesk")
            else:
                # Chromium replaces a frame its CSP refuses with its own error page
                for _ in range(50):
                    if page.frames[1].url.startswith("chrome-error://"):
                        break
                    await page.wait_for_timeout(100)
                assert page.frames[1].url.startswith("chrome-error://"), page.frames[1].url
                await expect(heading).not_to_have_text("Connect Fake Helpdesk")


async def _submit(page: Page, email: str, api_token: str) -> int:
    """Fills the helpdesk form, submits it and returns the HTTP status of the page it gets."""
    await page.fill("#input-email", email)
    await page.fill("#input-apiToken", api_token)
    async with page.expect_navigation() as navigation:
        await page.click("#connect")
    response = await navigation.value
    assert response is not None
    return response.status


def _opener_html(connect_page: str) -> str:
    """The product's page: opens the connect page in a popup and records its messages."""
    url = json.dumps(connect_page)
    return f"""<!doctype html>
<title>Product settings</title>
<button id="open-connect">Connect Fake CRM</button>
<script>
  window.__messages = [];
  window.addEventListener("message", (event) => {{
    window.__messages.push({{origin: event.origin, data: event.data}});
  }});
  document.getElementById("open-connect").addEventListener("click", () => {{
    window.open({url}, "osmo-connect", "popup,width=520,height=700");
  }});
</script>"""


async def _maybe_screenshot(page: Page, name: str) -> None:
    directory = os.environ.get("OSMO_TEST_SCREENSHOT_DIR")
    if directory:
        await page.screenshot(path=str(Path(directory) / name), full_page=True)
