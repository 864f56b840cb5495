"""Airtable connector against replayed Web API responses shaped as Airtable documents them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.runtime import ConnectorError
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from core.formulas import evaluate
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "appLkNDICXNqxSDhG"
TABLE = "Launch Tasks"
RECORDS_PATH = f"/v0/{BASE}/{TABLE}"
PARAMETERS = {"baseId": BASE, "tableIdOrName": TABLE}
CREDENTIALS = {
    "access_token": "oaaYEPyTWXWr3ggpH.v1.eyJ1c2VySWQiOiJ1c3JMMlBOQzVvM0g0bEJFaSJ9.old",
    "refresh_token": "oaaWGa9HzmMNo0yRa.v1.eyJ1c2VySWQiOiJ1c3JMMlBOQzVvM0g0bEJFaSJ9.old",
    "token_type": "Bearer",
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


async def test_records_list_passes_the_offset_token() -> None:
    page1, page2 = fixture("records_page1"), fixture("records_page2")
    replay = Replay().on("GET", RECORDS_PATH, json_response(page1), json_response(page2))
    parameters = {**PARAMETERS, "view": "Grid view"}
    async with harness(replay, "airtable", credentials=CREDENTIALS) as (runtime, ctx):
        first = await run_method(runtime, ctx, "records", "list", parameters=parameters)
        second = await run_method(
            runtime, ctx, "records", "list", parameters=parameters, cursor=first["cursor"]
        )

    opening, following = replay.requests
    # Table names are path segments, URL-encoded.
    assert opening.url.raw_path.startswith(b"/v0/appLkNDICXNqxSDhG/Launch%20Tasks?")
    assert opening.headers["authorization"] == f"Bearer {CREDENTIALS['access_token']}"
    assert opening.url.params["pageSize"] == "100"
    assert opening.url.params["view"] == "Grid view"
    assert "offset" not in opening.url.params
    assert following.url.params["offset"] == "itrZbKqzvNPnlNCyt/recP0ObZbLkQsaTKL"
    # No offset in the last page.
    assert first["cursor"] is not None and second["cursor"] is None

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == [
        "rec560UJdUtocSouk",
        "recP0ObZbLkQsaTKL",
        "recwPQIfs4wKPyc9D",
    ]
    assert [r["name"] for r in records] == ["Launch landing page", "Press kit", "Pricing FAQ"]
    assert records[0]["createdTime"] == "2022-09-12T21:03:48.000Z"
    assert records[0]["fields"]["Estimate (h)"] == 12
    assert records[2]["fields"] == {"Name": "Pricing FAQ", "Status": "Done", "Done": True}


async def test_search_sends_the_offset_in_the_listrecords_body() -> None:
    page1, page2 = fixture("records_page1"), fixture("records_page2")
    replay = Replay().on(
        "POST", f"{RECORDS_PATH}/listRecords", json_response(page1), json_response(page2)
    )
    formula = "FIND('launch', LOWER({Name}))"
    async with harness(replay, "airtable", credentials=CREDENTIALS) as (runtime, ctx):
        first = await run_method(
            runtime, ctx, "records", "search", parameters=PARAMETERS, query={"formula": formula}
        )
        await run_method(
            runtime,
            ctx,
            "records",
            "search",
            parameters=PARAMETERS,
            query={"formula": formula},
            cursor=first["cursor"],
        )

    assert replay.body(0) == {"filterByFormula": formula, "pageSize": 100}
    assert replay.body(1) == {
        "filterByFormula": formula,
        "pageSize": 100,
        "offset": "itrZbKqzvNPnlNCyt/recP0ObZbLkQsaTKL",
    }
    assert not replay.requests[1].url.params


async def test_match_builds_an_equality_formula() -> None:
    replay = Replay().on("GET", RECORDS_PATH, json_response(fixture("records_page2")))
    query = {"Name": 'Pricing "FAQ"', "Done": True, "Estimate (h)": 3}
    async with harness(replay, "airtable", credentials=CREDENTIALS) as (runtime, ctx):
        matched = await run_method(
            runtime, ctx, "records", "match", parameters=PARAMETERS, query=query
        )

    params = replay.requests[0].url.params
    assert (
        params["filterByFormula"]
        == 'AND({Name}="Pricing \\"FAQ\\"",{Done}=TRUE(),{Estimate (h)}=3)'
    )
    assert params["maxRecords"] == "1"
    assert matched["record"]["id"] == "recwPQIfs4wKPyc9D"


async def test_create_record_posts_the_fields_envelope() -> None:
    replay = Replay().on("POST", RECORDS_PATH, json_response(fixture("record_created")))
    fields = {
        "Name": "Write the release notes",
        "Status": "Todo",
        "Due": "2024-06-21",
        "Estimate (h)": 3,
    }
    async with harness(replay, "airtable", credentials=CREDENTIALS) as (runtime, ctx):
        result = await run_method(
            runtime, ctx, "records", "create", parameters=PARAMETERS, fields=fields
        )

    request = replay.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.airtable.com/v0/appLkNDICXNqxSDhG/Launch%20Tasks"
    assert replay.body() == {"fields": fields}
    record = result["record"]
    assert record["id"] == "recB3CzTwGTBnJYJg"
    assert record["name"] == "Write the release notes"
    assert record["createdTime"] == "2024-06-13T10:00:00.000Z"
    assert record["fields"] == fields


async def test_missing_records_and_tables_are_not_found() -> None:
    replay = (
        Replay()
        .on(
            "GET",
            f"{RECORDS_PATH}/recAAAAAAAAAAAAAA",
            json_response(fixture("error_not_found"), 404),
        )
        .on(
            "GET",
            "/v0/appLkNDICXNqxSDhG/Nope",
            json_response(fixture("error_model_not_found"), 403),
        )
    )
    async with harness(replay, "airtable", credentials=CREDENTIALS) as (runtime, ctx):
        with pytest.raises(ConnectorError) as record:
            await run_method(
                runtime, ctx, "records", "find_by_id", parameters=PARAMETERS, id="recAAAAAAAAAAAAAA"
            )
        with pytest.raises(ConnectorError) as table:
            await run_method(
                runtime,
                ctx,
                "records",
                "list",
                parameters={"baseId": BASE, "tableIdOrName": "Nope"},
            )

    assert record.value.key == "not_found"
    # Airtable answers 403 for a base or table that does not exist (or is out of reach).
    assert table.value.key == "not_found"
    assert "requested model was not found" in table.value.message


async def test_create_records_operation_posts_the_fields_envelope() -> None:
    replay = Replay().on(
        "POST", RECORDS_PATH, json_response({"records": [fixture("record_created")]})
    )
    async with harness(replay, "airtable", credentials=CREDENTIALS) as (runtime, ctx):
        output = await run_operation(
            runtime,
            ctx,
            "create-records",
            {
                "baseId": BASE,
                "tableIdOrName": TABLE,
                "records": [{"Name": "Write the release notes", "Status": "Todo"}],
                "typecast": True,
            },
        )

    assert replay.body() == {
        "records": [{"fields": {"Name": "Write the release notes", "Status": "Todo"}}],
        "typecast": True,
    }
    assert output[0]["id"] == "recB3CzTwGTBnJYJg"


async def test_comments_map_to_unified_notes() -> None:
    replay = Replay().on(
        "GET", f"{RECORDS_PATH}/rec560UJdUtocSouk/comments", json_response(fixture("comments"))
    )
    parameters = {**PARAMETERS, "recordId": "rec560UJdUtocSouk"}
    async with harness(replay, "airtable", credentials=CREDENTIALS) as (runtime, ctx):
        listed = await run_method(runtime, ctx, "comments", "list", parameters=parameters)
        mapping = ctx.connector.collection("comments").udm  # type: ignore[union-attr]

    assert listed["cursor"] is None
    comment = listed["records"][0]
    assert comment["updatedTime"] == "2021-03-01T09:30:00.000Z"
    assert mapping is not None and mapping.model == "notes"
    assert evaluate(mapping.to_udm, {"fields": comment["fields"]}) == {
        "id": "comB5z37Mg9zaEPw6",
        "content": "Copy is approved, waiting on @[usrsOEchC9xuwRgKk] for the hero image.",
        "authorId": "usrL2PNC5o3H4lBEi",
        "createdTime": "2021-03-01T09:00:00.000Z",
        "updatedTime": "2021-03-01T09:30:00.000Z",
    }
