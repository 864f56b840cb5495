"""Pipedrive connector against replayed responses shaped as Pipedrive documents them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import BUILTIN, load_connector
from connectors.runtime import ConnectorError
from connectors.runtime.collections import run_method
from core.formulas import evaluate
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = load_connector(BUILTIN / "pipedrive" / "connector.yaml")
INPUTS = {"companyDomain": "northwind"}
CREDENTIALS = {
    "access_token": "v1u:AQIBAHj+old",
    "refresh_token": "13221304:7717:4d5a3b2c1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b",
    "token_type": "Bearer",
    "api_domain": "https://northwind.pipedrive.com",
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def connected(replay: Replay, **options: Any) -> Any:
    return harness(replay, "pipedrive", credentials=CREDENTIALS, inputs=INPUTS, **options)


async def test_persons_list_follows_the_v2_cursor() -> None:
    page1, page2 = fixture("persons_page1"), fixture("persons_page2")
    replay = Replay().on("GET", "/api/v2/persons", json_response(page1), json_response(page2))
    async with connected(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "persons", "list", parameters={"ownerId": 13221304})
        second = await run_method(
            runtime,
            ctx,
            "persons",
            "list",
            parameters={"ownerId": 13221304},
            cursor=first["cursor"],
        )

    assert first["cursor"] is not None and second["cursor"] is None
    opening, following = replay.requests
    assert opening.url.host == "northwind.pipedrive.com"
    assert opening.headers["authorization"] == "Bearer v1u:AQIBAHj+old"
    assert dict(opening.url.params) == {
        "owner_id": "13221304",
        "sort_by": "update_time",
        "sort_direction": "desc",
        "limit": "100",
    }
    assert following.url.params["cursor"] == "eyJmaWVsZCI6InVwZGF0ZV90aW1lIiwiaWQiOjEwMzl9"
    assert following.url.params["owner_id"] == "13221304"

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == ["1042", "1039", "998"]
    mia = records[0]
    assert mia["name"] == "Mia Kowalski"
    assert mia["createdTime"] == "2024-05-02T08:14:55Z"
    assert mia["updatedTime"] == "2024-06-19T12:03:41Z"
    assert mia["fields"]["org_id"] == 57
    assert mia["fields"]["emails"][1]["value"] == "mia@northwind.example"


async def test_notes_list_pages_with_v1_offsets() -> None:
    page1, page2 = fixture("notes_page1"), fixture("notes_page2")
    replay = Replay().on("GET", "/api/v1/notes", json_response(page1), json_response(page2))
    async with connected(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "notes", "list", parameters={"dealId": 88})
        second = await run_method(
            runtime, ctx, "notes", "list", parameters={"dealId": 88}, cursor=first["cursor"]
        )

    opening, following = replay.requests
    assert opening.url.params["start"] == "0" and opening.url.params["limit"] == "100"
    assert opening.url.params["deal_id"] == "88"
    assert following.url.params["start"] == str(
        page1["additional_data"]["pagination"]["next_start"]
    )
    assert second["cursor"] is None
    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == ["301", "298", "290"]
    assert records[0]["name"] == "Budget approved for Q3."
    assert records[0]["createdTime"] == "2024-06-19T12:00:00Z"
    assert records[0]["updatedTime"] == "2024-06-19T12:05:10Z"


async def test_create_deal_posts_the_fields_and_reads_data() -> None:
    replay = Replay().on("POST", "/api/v2/deals", json_response(fixture("deal_created")))
    fields = {
        "title": "Northwind renewal 2025",
        "value": 18500,
        "currency": "EUR",
        "person_id": 1042,
        "org_id": 57,
        "stage_id": 3,
        "expected_close_date": "2024-09-30",
    }
    async with connected(replay) as (runtime, ctx):
        result = await run_method(runtime, ctx, "deals", "create", fields=fields)

    (request,) = replay.requests
    assert request.method == "POST"
    assert str(request.url) == "https://northwind.pipedrive.com/api/v2/deals"
    assert replay.body() == fields
    record = result["record"]
    assert record["id"] == "2117"
    assert record["name"] == "Northwind renewal 2025"
    assert record["fields"]["status"] == "open"
    assert record["createdTime"] == "2024-07-01T10:00:00Z"


async def test_match_runs_an_exact_search_on_the_queried_field() -> None:
    replay = Replay().on(
        "GET", "/api/v2/persons/search", json_response(fixture("persons_search_exact"))
    )
    async with connected(replay) as (runtime, ctx):
        result = await run_method(
            runtime, ctx, "persons", "match", query={"email": "mia@northwind.example"}
        )

    assert dict(replay.requests[0].url.params) == {
        "term": "mia@northwind.example",
        "fields": "email",
        "exact_match": "true",
        "limit": "1",
    }
    record = result["record"]
    assert record["id"] == "1042" and record["name"] == "Mia Kowalski"
    assert record["fields"]["organization"]["name"] == "Northwind Traders"


async def test_rejected_api_token_is_access_token_expired() -> None:
    replay = Replay().on(
        "GET", "/api/v2/persons/1042", json_response(fixture("error_unauthorized"), 401)
    )
    inputs = {"companyDomain": "northwind", "apiToken": "659c9fddb16335e48cc67114694b52074e812e03"}
    async with harness(
        replay, "pipedrive", auth_key="api-token", inputs=inputs, expires_in=None
    ) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "persons", "find_by_id", id="1042")

    assert caught.value.key == "access_token_expired"
    assert "unauthorized access" in caught.value.message
    (request,) = replay.requests
    assert request.headers["x-api-token"] == inputs["apiToken"]
    assert "authorization" not in request.headers
    assert request.url.host == "northwind.pipedrive.com"


async def test_rate_limit_waits_for_the_reset_window() -> None:
    headers = {"x-ratelimit-limit": "20", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2"}
    replay = Replay().on(
        "GET", "/api/v2/persons", json_response(fixture("error_rate_limit"), 429, headers)
    )
    async with connected(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "persons", "list")

    assert caught.value.key == "rate_limit_exceeded"
    assert caught.value.retry_after == 2


def test_persons_map_to_unified_contacts_from_records_and_search_items() -> None:
    udm = SPEC.collection("persons").udm  # type: ignore[union-attr]
    assert udm is not None and udm.model == "contacts"
    person = fixture("persons_page1")["data"][0]
    item = fixture("persons_search_exact")["data"]["items"][0]["item"]

    unified = evaluate(udm.to_udm, {"fields": person})
    assert unified == {
        "id": "1042",
        "fullName": "Mia Kowalski",
        "firstName": "Mia",
        "lastName": "Kowalski",
        "email": "mia@northwind.example",
        "phone": "+48 22 555 01 23",
        "createdTime": "2024-05-02T08:14:55Z",
        "updatedTime": "2024-06-19T12:03:41Z",
    }
    from_search = evaluate(udm.to_udm, {"fields": item})
    assert from_search["email"] == "mia@northwind.example"
    assert from_search["companyName"] == "Northwind Traders"

    back = evaluate(
        udm.from_udm, {"udm": {"firstName": "Ana", "lastName": "Ruiz", "email": "a@x.io"}}
    )
    assert back == {
        "name": "Ana Ruiz",
        "first_name": "Ana",
        "last_name": "Ruiz",
        "emails": [{"value": "a@x.io", "primary": True, "label": "work"}],
    }


def test_activities_and_deals_unified_values() -> None:
    activities = SPEC.collection("activities").udm  # type: ignore[union-attr]
    deals = SPEC.collection("deals").udm  # type: ignore[union-attr]
    assert activities is not None and deals is not None
    activity = {"id": 7, "subject": "Call Mia", "done": True, "owner_id": 13221304}
    assert evaluate(activities.to_udm, {"fields": activity}) == {
        "id": "7",
        "title": "Call Mia",
        "status": "completed",
        "assigneeId": "13221304",
    }
    assert evaluate(
        deals.from_udm, {"udm": {"name": "Renewal", "stage": "3", "companyId": "57"}}
    ) == {
        "title": "Renewal",
        "stage_id": 3,
        "org_id": 57,
    }
