"""HubSpot connector against replayed responses shaped as HubSpot documents them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.registry import BUILTIN, load_connector
from connectors.runtime import ConnectorError
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from core.formulas import evaluate
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = load_connector(BUILTIN / "hubspot" / "connector.yaml")
CREDENTIALS = {
    "access_token": "CKDZpunPLhICAQEYs-old",
    "refresh_token": "na1-6f18-f26a-3e95-4d95-a6e5",
    "token_type": "bearer",
    "hubId": 62515,
}
CONTACTS = "/crm/v3/objects/contacts"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


async def test_contacts_list_follows_paging_next_after() -> None:
    page1, page2 = fixture("contacts_page1"), fixture("contacts_page2")
    replay = Replay().on("GET", CONTACTS, json_response(page1), json_response(page2))
    async with harness(replay, "hubspot", credentials=CREDENTIALS) as (runtime, ctx):
        first = await run_method(runtime, ctx, "contacts", "list")
        second = await run_method(runtime, ctx, "contacts", "list", cursor=first["cursor"])

    assert first["cursor"] is not None and second["cursor"] is None
    opening, following = replay.requests
    assert opening.headers["authorization"] == "Bearer CKDZpunPLhICAQEYs-old"
    assert opening.url.params["limit"] == "100"
    assert "after" not in opening.url.params
    assert {"email", "firstname", "lastname", "lastmodifieddate"} <= set(
        opening.url.params.get_list("properties")
    )
    assert following.url.params["after"] == "202"
    assert following.url.params["limit"] == "100"

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == ["151", "201", "301"]
    ada = records[0]
    assert ada["name"] == "Ada Lovelace"
    assert ada["createdTime"] == "2024-03-04T15:18:21.102Z"
    assert ada["updatedTime"] == "2024-05-20T08:02:11.840Z"
    assert ada["fields"]["email"] == "ada.lovelace@analytical.example"
    assert ada["fields"]["company"] == "Analytical Engines Ltd"
    # A contact without a name is named by its email.
    assert records[2]["name"] == "info@unnamed.example"


async def test_create_contact_sends_the_properties_envelope() -> None:
    replay = Replay().on("POST", CONTACTS, json_response(fixture("contact_created"), 201))
    fields = {"email": "linus@kernel.example", "firstname": "Linus", "lastname": "Torvalds"}
    async with harness(replay, "hubspot", credentials=CREDENTIALS) as (runtime, ctx):
        result = await run_method(runtime, ctx, "contacts", "create", fields=fields)

    (request,) = replay.requests
    assert request.method == "POST"
    assert request.url.path == CONTACTS
    assert replay.body() == {"properties": fields}
    record = result["record"]
    assert record["id"] == "512"
    assert record["name"] == "Linus Torvalds"
    assert record["fields"]["email"] == "linus@kernel.example"
    assert record["createdTime"] == "2024-07-01T10:00:00.000Z"


async def test_match_searches_with_one_equality_filter_per_query_property() -> None:
    replay = Replay().on("POST", f"{CONTACTS}/search", json_response(fixture("contact_search_one")))
    query = {"email": "ada.lovelace@analytical.example"}
    async with harness(replay, "hubspot", credentials=CREDENTIALS) as (runtime, ctx):
        result = await run_method(runtime, ctx, "contacts", "match", query=query)

    body = replay.body()
    assert body["filterGroups"] == [
        {"filters": [{"propertyName": "email", "operator": "EQ", "value": query["email"]}]}
    ]
    assert body["limit"] == 1 and "after" not in body
    assert result["record"]["id"] == "151"


async def test_search_sends_the_cursor_in_the_body() -> None:
    page = {**fixture("contact_search_one"), "paging": {"next": {"after": "1"}}}
    replay = Replay().on("POST", f"{CONTACTS}/search", json_response(page))
    async with harness(replay, "hubspot", credentials=CREDENTIALS) as (runtime, ctx):
        first = await run_method(runtime, ctx, "contacts", "search", query={"text": "ada"})
        await run_method(
            runtime, ctx, "contacts", "search", query={"text": "ada"}, cursor=first["cursor"]
        )

    assert replay.body(0)["query"] == "ada" and "after" not in replay.body(0)
    assert replay.body(1)["after"] == "1" and replay.body(1)["limit"] == 100


async def test_private_app_token_rejected_is_access_token_expired() -> None:
    replay = Replay().on("GET", f"{CONTACTS}/151", json_response(fixture("error_expired"), 401))
    async with harness(
        replay,
        "hubspot",
        auth_key="private-app",
        inputs={"accessToken": "pat-na1-11111111-2222-3333-4444-555555555555"},
        expires_in=None,
    ) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "contacts", "find_by_id", id="151")

    assert caught.value.key == "access_token_expired"
    assert "expired 2 minute(s) ago" in caught.value.message
    (request,) = replay.requests
    assert request.headers["authorization"] == (
        "Bearer pat-na1-11111111-2222-3333-4444-555555555555"
    )


async def test_rate_limit_uses_retry_after_or_one_ten_second_window() -> None:
    headers = {
        "Retry-After": "4",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Max": "100",
        "X-HubSpot-RateLimit-Remaining": "0",
    }
    replay = Replay().on(
        "GET",
        CONTACTS,
        json_response(fixture("error_rate_limit"), 429, headers),
        json_response(fixture("error_rate_limit"), 429, {"X-HubSpot-RateLimit-Remaining": "0"}),
    )
    async with harness(replay, "hubspot", credentials=CREDENTIALS) as (runtime, ctx):
        with pytest.raises(ConnectorError) as with_header:
            await run_method(runtime, ctx, "contacts", "list")
        with pytest.raises(ConnectorError) as without_header:
            await run_method(runtime, ctx, "contacts", "list")

    assert with_header.value.key == "rate_limit_exceeded"
    assert with_header.value.retry_after == 4
    assert without_header.value.key == "rate_limit_exceeded"
    assert without_header.value.retry_after == 10


async def test_create_note_associates_only_the_given_records() -> None:
    def created(request: httpx.Request) -> httpx.Response:
        return json_response(
            {"id": "9001", "properties": json.loads(request.content)["properties"]}
        )

    replay = Replay().on("POST", "/crm/v3/objects/notes", created)
    note = {"body": "Called about renewal", "timestamp": "2024-07-01T10:00:00Z", "dealId": "77"}
    async with harness(replay, "hubspot", credentials=CREDENTIALS) as (runtime, ctx):
        output = await run_operation(runtime, ctx, "create-note", note)

    assert replay.body() == {
        "properties": {"hs_note_body": "Called about renewal", "hs_timestamp": note["timestamp"]},
        "associations": [
            {
                "to": {"id": "77"},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}],
            }
        ],
    }
    assert output["id"] == "9001"


def test_contacts_map_to_the_unified_model_and_back() -> None:
    udm = SPEC.collection("contacts").udm  # type: ignore[union-attr]
    assert udm is not None and udm.model == "contacts"
    fields = fixture("contacts_page1")["results"][0]["properties"]

    unified = evaluate(udm.to_udm, {"fields": fields})

    assert unified == {
        "id": "151",
        "fullName": "Ada Lovelace",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada.lovelace@analytical.example",
        "phone": "+44 20 7946 0958",
        "companyName": "Analytical Engines Ltd",
        "jobTitle": "Chief Mathematician",
        "createdTime": "2024-03-04T15:18:21.102Z",
        "updatedTime": "2024-05-20T08:02:11.840Z",
    }
    back = evaluate(udm.from_udm, {"udm": {"fullName": "Grace Brewster Hopper", "email": "g@x.io"}})
    assert back == {"email": "g@x.io", "firstname": "Grace", "lastname": "Brewster Hopper"}


def test_deal_amounts_become_numbers_in_the_unified_model() -> None:
    udm = SPEC.collection("deals").udm  # type: ignore[union-attr]
    assert udm is not None
    fields = {"dealname": "Renewal 2025", "amount": "1500.50", "dealstage": "contractsent"}

    assert evaluate(udm.to_udm, {"fields": fields}) == {
        "name": "Renewal 2025",
        "amount": 1500.5,
        "stage": "contractsent",
    }
    assert evaluate(udm.from_udm, {"udm": {"name": "X", "amount": 20}})["amount"] == "20"
