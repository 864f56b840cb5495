"""A connector error keeps what the app itself said (`data.appMessage`), its secrets masked."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.runtime.errors import APP_MESSAGE_LIMIT, ConnectorError, app_message
from connectors.runtime.redaction import MASK
from tests.connectors.harness import Replay, harness, json_response

SAID = "Contact already exists. Existing ID: 1001"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "error", "message": SAID, "category": "CONFLICT"},  # HubSpot
        {"error": {"type": "invalid_request_error", "message": SAID}},  # Stripe
        {"error": "invalid_grant", "error_description": SAID},  # OAuth
        {"ok": False, "error": SAID},  # Slack
        {"errors": [{"message": SAID, "extensions": {}}]},  # GraphQL
        {"errors": [SAID]},
        {"errorMessages": [SAID], "errors": {}},  # Jira
        {"detail": SAID},  # RFC 9457, FastAPI
    ],
)
def test_common_vendor_shapes(body: dict[str, Any]) -> None:
    assert app_message(body) == SAID


def test_plain_text_but_not_html_nor_nothing() -> None:
    assert app_message(None, f"  {SAID}\n", "text/plain") == SAID
    assert app_message(None, "<html><body>Bad gateway</body></html>", "text/html") is None
    assert app_message(None, "<?xml version='1.0'?><e/>", "application/xml") is None
    assert app_message({"id": "x"}) is None
    assert app_message(None, "", "text/plain") is None


def test_long_messages_are_cut_and_whitespace_collapsed() -> None:
    said = app_message({"message": "word\n\n  " * 1000})
    assert said is not None and len(said) == APP_MESSAGE_LIMIT + 1 and said.endswith("…")
    assert "\n" not in said and "  " not in said


SECRET = "sk_test_abcdefghijklmnop"


async def failure(status: int, body: Any) -> ConnectorError:
    """The error a Stripe connection gets for `body` answered with `status`."""
    replay = Replay().on("POST", "/v1/customers", json_response(body, status))
    async with harness(replay, "stripe", auth_key="api-key", inputs={"apiKey": SECRET}) as (
        runtime,
        ctx,
    ):
        with pytest.raises(ConnectorError) as raised:
            await runtime.request(ctx, "POST", "/customers", json={"email": "a@example.com"})
    return raised.value


async def test_an_unmapped_status_keeps_the_apps_words() -> None:
    error = await failure(422, {"error": {"message": SAID}})
    assert error.key == "bad_request" and error.status == 400
    assert error.data["appMessage"] == SAID
    assert error.data["upstreamStatus"] == 422
    assert error.message == f"POST /customers: The app answered HTTP 422: {SAID}"


async def test_a_mapped_status_keeps_them_too() -> None:
    error = await failure(409, {"error": {"message": SAID}})
    assert error.key == "conflict" and error.data["appMessage"] == SAID
    assert SAID in error.message


async def test_the_connections_secrets_are_masked_in_what_the_app_said() -> None:
    error = await failure(422, {"error": {"message": f"Invalid API Key provided: {SECRET}"}})
    assert SECRET not in error.message and SECRET not in str(error.data)
    assert error.data["appMessage"] == f"Invalid API Key provided: {MASK}"


async def test_a_plain_text_error_page() -> None:
    replay = Replay().on(
        "POST",
        "/v1/customers",
        httpx.Response(418, text=SAID, headers={"content-type": "text/plain"}),
    )
    async with harness(replay, "stripe", auth_key="api-key", inputs={"apiKey": SECRET}) as (
        runtime,
        ctx,
    ):
        with pytest.raises(ConnectorError) as raised:
            await runtime.request(ctx, "POST", "/customers")
    assert raised.value.data["appMessage"] == SAID
