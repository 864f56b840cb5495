"""Salesforce connector against replayed responses shaped as Salesforce documents them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import BUILTIN, load_connector
from connectors.runtime import ConnectorError
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from core.formulas import evaluate
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = load_connector(BUILTIN / "salesforce" / "connector.yaml")
INSTANCE = "https://acme.my.salesforce.com"
CREDENTIALS = {
    "access_token": "00DRO000000Xw9Y!AQEAQOld",
    "refresh_token": "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJxvDu3PZ",
    "instance_url": INSTANCE,
    "token_type": "Bearer",
}
QUERY = "/services/data/v62.0/query"
COMPOSITE = "/services/data/v62.0/composite"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


async def test_opportunities_list_follows_next_records_url_on_the_instance() -> None:
    page1, page2 = fixture("opportunities_page1"), fixture("opportunities_page2")
    replay = (
        Replay()
        .on("GET", QUERY, json_response(page1))
        .on("GET", f"{QUERY}/01gRO0000016PIAYA2-200", json_response(page2))
    )
    async with harness(replay, "salesforce", credentials=CREDENTIALS, expires_in=None) as (
        runtime,
        ctx,
    ):
        first = await run_method(runtime, ctx, "opportunities", "list")
        second = await run_method(runtime, ctx, "opportunities", "list", cursor=first["cursor"])

    assert first["cursor"] is not None and second["cursor"] is None
    opening, following = replay.requests
    assert opening.url.host == "acme.my.salesforce.com"
    assert opening.headers["authorization"] == "Bearer 00DRO000000Xw9Y!AQEAQOld"
    assert opening.url.params["q"] == (
        "SELECT FIELDS(STANDARD) FROM Opportunity ORDER BY LastModifiedDate DESC"
    )
    assert opening.headers["sforce-query-options"] == "batchSize=200"
    # The next batch is the path Salesforce gave, on the same instance, with nothing added.
    assert str(following.url) == f"{INSTANCE}/services/data/v62.0/query/01gRO0000016PIAYA2-200"
    assert following.headers["sforce-query-options"] == "batchSize=200"

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == [
        "006RO00000F3lXpYAJ",
        "006RO00000F3lXqYAJ",
        "006RO00000F3lXrYAJ",
    ]
    generator = records[0]
    assert generator["name"] == "Edge Emergency Generator"
    assert generator["createdTime"] == "2024-06-03T09:12:45.000+0000"
    assert generator["updatedTime"] == "2024-06-18T14:02:11.000+0000"
    assert generator["fields"]["StageName"] == "Proposal/Price Quote"
    assert generator["fields"]["Amount"] == 75000.0
    assert "attributes" not in generator["fields"]
    assert records[2]["fields"]["IsWon"] is True


async def test_list_narrowed_by_the_data_source_condition() -> None:
    replay = Replay().on("GET", QUERY, json_response(fixture("opportunities_page2")))
    parameters = {"where": "StageName = 'Closed Won'"}
    async with harness(replay, "salesforce", credentials=CREDENTIALS, expires_in=None) as (
        runtime,
        ctx,
    ):
        await run_method(runtime, ctx, "opportunities", "list", parameters=parameters)

    assert replay.requests[0].url.params["q"] == (
        "SELECT FIELDS(STANDARD) FROM Opportunity WHERE StageName = 'Closed Won' "
        "ORDER BY LastModifiedDate DESC"
    )


async def test_create_contact_returns_the_saved_record_in_one_composite_call() -> None:
    replay = Replay().on("POST", COMPOSITE, json_response(fixture("contact_composite_created")))
    fields = {"FirstName": "Rose", "LastName": "Gonzalez", "Email": "rose@edge.example"}
    async with harness(replay, "salesforce", credentials=CREDENTIALS, expires_in=None) as (
        runtime,
        ctx,
    ):
        result = await run_method(runtime, ctx, "contacts", "create", fields=fields)

    (request,) = replay.requests
    assert request.method == "POST"
    assert str(request.url) == f"{INSTANCE}{COMPOSITE}"
    assert replay.body() == {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v62.0/sobjects/Contact",
                "referenceId": "created",
                "body": fields,
            },
            {
                "method": "GET",
                "url": "/services/data/v62.0/sobjects/Contact/@{created.id}",
                "referenceId": "record",
            },
        ],
    }
    record = result["record"]
    assert record["id"] == "003RO00000Cq0eyYAB"
    assert record["name"] == "Rose Gonzalez"
    assert record["fields"]["Title"] == "SVP, Procurement"
    assert record["createdTime"] == "2024-07-01T10:00:00.000+0000"


async def test_update_patches_the_sobject_url_and_reads_it_back() -> None:
    replay = Replay().on("POST", COMPOSITE, json_response(fixture("contact_composite_created")))
    async with harness(replay, "salesforce", credentials=CREDENTIALS, expires_in=None) as (
        runtime,
        ctx,
    ):
        result = await run_method(
            runtime, ctx, "contacts", "update", id="003RO00000Cq0eyYAB", fields={"Title": "CEO"}
        )

    url = "/services/data/v62.0/sobjects/Contact/003RO00000Cq0eyYAB"
    assert replay.body()["compositeRequest"] == [
        {"method": "PATCH", "url": url, "referenceId": "updated", "body": {"Title": "CEO"}},
        {"method": "GET", "url": url, "referenceId": "record"},
    ]
    assert result["record"]["id"] == "003RO00000Cq0eyYAB"


async def test_composite_errors_delivered_with_200_are_bad_requests() -> None:
    replay = Replay().on("POST", COMPOSITE, json_response(fixture("contact_composite_invalid")))
    async with harness(replay, "salesforce", credentials=CREDENTIALS, expires_in=None) as (
        runtime,
        ctx,
    ):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "contacts", "create", fields={"FirstName": "Rose"})

    assert caught.value.key == "bad_request"
    assert "Required fields are missing: [LastName]" in caught.value.message


async def test_instance_url_survives_a_refresh_response_without_it() -> None:
    token = {k: v for k, v in fixture("token_refreshed").items() if k != "instance_url"}
    replay = (
        Replay()
        .on(
            "GET",
            "/services/data/v62.0/limits",
            json_response(fixture("error_invalid_session"), 401),
            json_response({"DailyApiRequests": {"Max": 15000, "Remaining": 14998}}),
        )
        .on("POST", "/services/oauth2/token", json_response(token))
    )
    async with harness(replay, "salesforce", credentials=CREDENTIALS, expires_in=None) as (
        runtime,
        ctx,
    ):
        await run_operation(runtime, ctx, "get-org-limits", {})

    assert str(replay.requests[-1].url) == f"{INSTANCE}/services/data/v62.0/limits"


async def test_request_limit_exceeded_is_a_rate_limit_other_403s_are_not() -> None:
    insufficient = [
        {
            "message": "insufficient access rights on object id",
            "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY",
        }
    ]
    replay = Replay().on(
        "GET",
        QUERY,
        json_response(fixture("error_request_limit"), 403),
        json_response(insufficient, 403),
    )
    async with harness(replay, "salesforce", credentials=CREDENTIALS, expires_in=None) as (
        runtime,
        ctx,
    ):
        with pytest.raises(ConnectorError) as limited:
            await run_method(runtime, ctx, "contacts", "list")
        with pytest.raises(ConnectorError) as refused:
            await run_method(runtime, ctx, "contacts", "list")

    assert limited.value.key == "rate_limit_exceeded"
    # No Retry-After on Salesforce's limit errors: the connector's default wait applies.
    assert limited.value.retry_after == 60
    assert "TotalRequests Limit exceeded." in limited.value.message
    assert refused.value.key == "bad_request"
    assert "insufficient access rights" in refused.value.message


async def test_match_quotes_and_escapes_values_in_soql() -> None:
    page = {"totalSize": 1, "done": True, "records": [fixture("contact")]}
    replay = Replay().on("GET", QUERY, json_response(page))
    query = {"Email": "o'hara\\x@example.com", "IsDeleted": False}
    async with harness(replay, "salesforce", credentials=CREDENTIALS, expires_in=None) as (
        runtime,
        ctx,
    ):
        result = await run_method(runtime, ctx, "contacts", "match", query=query)

    assert replay.requests[0].url.params["q"] == (
        "SELECT FIELDS(STANDARD) FROM Contact WHERE Email = 'o\\'hara\\\\x@example.com' "
        "AND IsDeleted = false LIMIT 1"
    )
    assert result["record"]["id"] == "003RO00000Cq0eyYAB"


def test_opportunities_map_to_unified_deals() -> None:
    udm = SPEC.collection("opportunities").udm  # type: ignore[union-attr]
    assert udm is not None and udm.model == "deals"
    fields = fixture("opportunities_page1")["records"][0]

    assert evaluate(udm.to_udm, {"fields": fields}) == {
        "id": "006RO00000F3lXpYAJ",
        "name": "Edge Emergency Generator",
        "amount": 75000.0,
        "stage": "Proposal/Price Quote",
        "closeDate": "2024-09-30",
        "companyId": "001RO00000LkMCxYAN",
        "createdTime": "2024-06-03T09:12:45.000+0000",
        "updatedTime": "2024-06-18T14:02:11.000+0000",
    }


def test_accounts_and_tasks_unified_values() -> None:
    accounts = SPEC.collection("accounts").udm  # type: ignore[union-attr]
    tasks = SPEC.collection("tasks").udm  # type: ignore[union-attr]
    assert accounts is not None and tasks is not None
    account = {"Name": "Edge Communications", "Website": "https://www.edge.example/about?x=1"}
    assert evaluate(accounts.to_udm, {"fields": account})["domain"] == "edge.example"
    assert evaluate(tasks.to_udm, {"fields": {"Subject": "Call", "IsClosed": True}}) == {
        "title": "Call",
        "status": "completed",
    }
    assert evaluate(tasks.from_udm, {"udm": {"title": "Call", "status": "open"}}) == {
        "Subject": "Call",
        "Status": "Not Started",
    }


async def test_client_credentials_token_comes_from_my_domain_and_names_the_instance() -> None:
    token = {
        "access_token": "00DRO000000Xw9Y!AQEAQClient",
        "signature": "Yx3W2q0v9s8r7p6o5n4m3l2k1j0i9h8g7f6e5d4c3b2=",
        "scope": "api",
        "instance_url": INSTANCE,
        "id": "https://login.salesforce.com/id/00DRO000000Xw9Y2AK/005RO000002DCJbYAO",
        "token_type": "Bearer",
        "issued_at": "1719828000000",
    }
    replay = (
        Replay()
        .on("POST", "/services/oauth2/token", json_response(token))
        .on("GET", "/services/data/v62.0/limits", json_response({"DailyApiRequests": {}}))
    )
    inputs = {
        "myDomain": "acme.my.salesforce.com",
        "clientId": "3MVG9consumer-key",
        "clientSecret": "consumer-secret",
    }
    async with harness(
        replay, "salesforce", auth_key="client-credentials", inputs=inputs, expires_in=None
    ) as (runtime, ctx):
        await run_operation(runtime, ctx, "get-org-limits", {})

    grant, call = replay.requests
    assert str(grant.url) == "https://acme.my.salesforce.com/services/oauth2/token"
    form = replay.body(0)
    assert form["grant_type"] == "client_credentials"
    assert (form["client_id"], form["client_secret"]) == ("3MVG9consumer-key", "consumer-secret")
    assert str(call.url) == f"{INSTANCE}/services/data/v62.0/limits"
    assert call.headers["authorization"] == "Bearer 00DRO000000Xw9Y!AQEAQClient"
