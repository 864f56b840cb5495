"""Data link, HTTP and wait-for-event nodes end to end: dev server, worker, runs through the API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.testing import WorkflowEnvironment

from core.errors import OsmoError
from core.tokens import verify_token
from tests.conftest import WORKSPACE_SECRET, Osmo
from tests.fakes import serve
from tests.workflows.flow_fixtures import (
    crm_connection,
    define,
    finished,
    flow_worker,
    node,
    run_flow,
)


@pytest.fixture
async def connected(osmo_sqlite: Osmo, crm) -> str:
    """acme's connection to the fake CRM (flows run for a connection)."""
    _, url = crm
    return await crm_connection(osmo_sqlite, url)


LIMIT_ACTIVITIES = {"acquire_run_slot", "release_run_slot"}


async def activity_attempts(env: WorkflowEnvironment, run_id: str) -> list[int]:
    """The attempt number each node activity of the run ended on (1 = never retried).

    The connection limit's own steps (taking and giving back a slot) are not counted.
    """
    handle = env.client.get_workflow_handle(run_id)
    attempts = []
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_started_event_attributes"):
            attempts.append(event.activity_task_started_event_attributes.attempt)
        elif event.marker_recorded_event_attributes.marker_name == "core_local_activity":
            # Local activities (short HTTP steps) record each result as a marker.
            data = event.marker_recorded_event_attributes.details["data"].payloads[0].data
            marker = json.loads(data)
            if marker["activity_type"] not in LIMIT_ACTIVITIES:
                attempts.append(marker["attempt"])
    return attempts


# -- data links ----------------------------------------------------------------------------

TABLE = "contacts"
APP_ID = {"$var": "input.trigger.appId"}
EXTERNAL_ID = {"$var": "input.trigger.externalId"}
LINK_FLOW: dict[str, Any] = {
    "key": "link-contact",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "link"}]},
        "link": {
            "type": "create-data-link",
            "config": {
                "dataLinkTable": TABLE,
                "appRecordId": APP_ID,
                "externalRecordId": EXTERNAL_ID,
                "direction": "export",
            },
            "links": [{"key": "byApp"}],
        },
        "byApp": {
            "type": "find-data-link",
            "config": {"dataLinkTable": TABLE, "appRecordId": APP_ID},
            "links": [{"key": "byExternal"}],
        },
        "byExternal": {
            "type": "find-data-link",
            "config": {"dataLinkTable": TABLE, "externalRecordId": EXTERNAL_ID},
            "links": [{"key": "stranger"}],
        },
        "stranger": {
            "type": "find-data-link",
            "config": {"dataLinkTable": TABLE, "appRecordId": "app-never-linked"},
            "links": [
                {
                    "key": "unlinked",
                    "filter": {"field": "input.stranger.externalRecordId", "operator": "is_empty"},
                }
            ],
        },
        "unlinked": {"type": "transform-data", "config": {"value": "not linked"}},
    },
}
UNLINK_FLOW: dict[str, Any] = {
    "key": "unlink-contact",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "unlink"}]},
        "unlink": {
            "type": "delete-data-link",
            "config": {"dataLinkTable": TABLE, "appRecordId": APP_ID},
            "links": [{"key": "check"}],
        },
        "check": {
            "type": "find-data-link",
            "config": {"dataLinkTable": TABLE, "appRecordId": APP_ID},
        },
    },
}


async def test_data_link_is_created_found_refused_twice_and_deleted(
    osmo_sqlite: Osmo, connected: str, env: WorkflowEnvironment
) -> None:
    osmo, connection_id = osmo_sqlite, connected
    assert (await osmo.call("POST", "/data-link-tables", json={"key": TABLE})).status_code == 201
    await define(osmo, LINK_FLOW)
    await define(osmo, UNLINK_FLOW)
    links = f"/connections/{connection_id}/data-link-tables/{TABLE}/links"
    async with flow_worker(osmo, env):
        first = {"appId": "a1", "externalId": "e1"}
        run = await finished(osmo, await run_flow(osmo, connection_id, "link-contact", first))
        assert run["state"] == "completed", run
        created = node(run, "link")["outputs"][0]
        assert created == {
            "id": created["id"],
            "appRecordId": "a1",
            "externalRecordId": "e1",
            "direction": "export",
        }
        assert node(run, "byApp")["outputs"] == [created]
        assert node(run, "byExternal")["outputs"] == [created]
        assert node(run, "stranger")["outputs"] == [{}]
        assert node(run, "unlinked")["outputs"] == ["not linked"]
        stored = (await osmo.call("GET", links, tenant="acme")).json()["items"]
        assert [(s["id"], s["appRecordId"], s["externalRecordId"]) for s in stored] == [
            (created["id"], "a1", "e1")
        ]

        # a1 is linked (export): linking it to another record fails, without retries
        clash = {"appId": "a1", "externalId": "e2"}
        clash_id = await run_flow(osmo, connection_id, "link-contact", clash)
        failed = await finished(osmo, clash_id)
        assert failed["state"] == "failed" and failed["failedNodeKey"] == "link"
        assert node(failed, "link")["error"]["key"] == "data_link_exists"
        assert await activity_attempts(env, clash_id) == [1]

        unlink_id = await run_flow(osmo, connection_id, "unlink-contact", {"appId": "a1"})
        unlinked = await finished(osmo, unlink_id)
        assert unlinked["state"] == "completed", unlinked
        assert node(unlinked, "unlink")["outputs"] == [{"deleted": 1}]
        assert node(unlinked, "check")["outputs"] == [{}]
        assert (await osmo.call("GET", links, tenant="acme")).json()["items"] == []


async def test_data_link_table_must_exist(osmo_sqlite: Osmo, connected: str) -> None:
    await define(osmo_sqlite, UNLINK_FLOW)  # no data link table `contacts` is defined
    # Refused when the run starts, naming the first node that needs it (nothing runs).
    started = await osmo_sqlite.call(
        "POST",
        f"/connections/{connected}/flows/unlink-contact/run",
        tenant="acme",
        json={"input": {"appId": "a1"}},
    )
    assert started.status_code == 404, started.text
    assert started.json()["key"] == "data_link_table_not_found"
    assert started.json()["data"]["path"] == "nodes.unlink.config.dataLinkTable"


# -- custom-http-request ---------------------------------------------------------------------


def contact_request_flow(url: str) -> dict[str, Any]:
    return {
        "key": "post-contact",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "call"}]},
            "call": {
                "type": "custom-http-request",
                "retry": {"initialIntervalSeconds": 0.2},
                "config": {
                    "method": "POST",
                    "url": f"{url}/api/v1/contacts",
                    "query": {"source": "osmo"},
                    "headers": {
                        "Authorization": {"$concat": ["Bearer ", {"$var": "input.trigger.token"}]}
                    },
                    "body": {"properties": {"email": {"$var": "input.trigger.email"}}},
                },
            },
        },
    }


async def test_custom_request_to_loopback_is_refused_by_default(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    fake, url = crm
    # by name, so the check covers what the name resolves to
    await define(osmo_sqlite, contact_request_flow(url.replace("127.0.0.1", "localhost")))
    requests_before = len(fake.api_requests)
    async with flow_worker(osmo_sqlite, env):
        run_id = await run_flow(osmo_sqlite, connected, "post-contact", {"email": "a@b.c"})
        run = await finished(osmo_sqlite, run_id)
    assert run["state"] == "failed" and run["failedNodeKey"] == "call", run
    error = node(run, "call")["error"]
    assert error["key"] == "address_not_allowed"
    assert {"127.0.0.1", "::1"} & set(error["data"]["addresses"])
    assert await activity_attempts(env, run_id) == [1]
    assert len(fake.api_requests) == requests_before  # nothing reached the CRM


async def test_custom_request_reaches_loopback_when_allowed_and_retries_like_connectors(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    osmo, fake, url = osmo_sqlite, crm[0], crm[1]
    token = fake.issue_tokens(
        client_id="osmo-client", subject="client:osmo-client", scope="", grant_id="g", refresh=None
    )["access_token"]
    await define(osmo, contact_request_flow(url))
    requests_before = len(fake.api_requests)
    async with flow_worker(osmo, env, allow_private_http=True):
        run = await finished(
            osmo,
            await run_flow(osmo, connected, "post-contact", {"email": "a@b.c", "token": token}),
        )
        assert run["state"] == "completed", run
        output = node(run, "call")["outputs"][0]
        assert output["status"] == 201
        assert output["headers"]["content-type"] == "application/json"
        assert fake.contacts[output["body"]["id"]]["properties"]["email"] == "a@b.c"
        sent = fake.api_requests[requests_before]
        assert sent["query"] == {"source": "osmo"}
        assert sent["authorization"] == f"Bearer {token}"

        fake.arm_rate_limit(1, retry_after=1)  # 429 is retried after Retry-After
        limited_id = await run_flow(
            osmo, connected, "post-contact", {"email": "d@e.f", "token": token}
        )
        limited = await finished(osmo, limited_id)
        assert limited["state"] == "completed"
        assert await activity_attempts(env, limited_id) == [2]
        # The run's own view counts them per node run (pure nodes have none).
        assert [(r["nodeKey"], r["attempts"]) for r in limited["nodeRuns"]] == [
            ("trigger", 0),
            ("call", 2),
        ]

        duplicate_id = await run_flow(
            osmo, connected, "post-contact", {"email": "a@b.c", "token": token}
        )
        duplicate = await finished(osmo, duplicate_id)  # 409 is not retried
        assert duplicate["state"] == "failed"
        assert node(duplicate, "call")["error"]["key"] == "conflict"
        assert await activity_attempts(env, duplicate_id) == [1]
        assert node(duplicate, "call")["attempts"] == 1


# -- api-request-to-your-app ------------------------------------------------------------------


def product_api() -> Starlette:
    """The product's API: it accepts only tokens signed with the workspace secret."""

    async def things(request: Request) -> JSONResponse:
        _, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            claims = verify_token(token, WORKSPACE_SECRET, "test")
        except OsmoError as exc:
            return JSONResponse({"error": exc.key}, status_code=401)
        return JSONResponse(
            {
                "tenantKey": claims.tenant_key,
                "isAdmin": claims.is_admin,
                "path": request.url.path,
                "query": dict(request.query_params),
                "body": await request.json(),
            }
        )

    return Starlette(routes=[Route("/api/things/{id}", things, methods=["POST"])])


async def test_request_to_your_app_carries_a_token_for_the_customer(
    osmo_sqlite: Osmo, connected: str, env: WorkflowEnvironment
) -> None:
    flow = {
        "key": "tell-the-app",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "tell"}]},
            "tell": {
                "type": "api-request-to-your-app",
                "config": {
                    "method": "POST",
                    "path": {"$concat": ["/things/", {"$var": "input.trigger.id"}]},
                    "query": {"notify": "yes"},
                    "headers": {"authorization": "Bearer forged"},
                    "body": {"name": {"$var": "input.trigger.name"}},
                },
            },
        },
    }
    await define(osmo_sqlite, flow)
    with serve(product_api()) as url:
        forged = httpx.post(
            f"{url}/api/things/1", headers={"Authorization": "Bearer forged"}, json={}
        )
        assert forged.status_code == 401  # the app really checks
        async with flow_worker(osmo_sqlite, env, app_api_url=f"{url}/api/"):
            run_id = await run_flow(
                osmo_sqlite, connected, "tell-the-app", {"id": 42, "name": "Ada"}
            )
            run = await finished(osmo_sqlite, run_id)
    assert run["state"] == "completed", run
    output = node(run, "tell")["outputs"][0]
    assert output["status"] == 200
    assert output["body"] == {
        "tenantKey": "acme",
        "isAdmin": False,
        "path": "/api/things/42",
        "query": {"notify": "yes"},
        "body": {"name": "Ada"},
    }


# -- wait-for-event --------------------------------------------------------------------------

APPROVAL_FLOW: dict[str, Any] = {
    "key": "await-approval",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "approval"}]},
        "approval": {
            "type": "wait-for-event",
            "config": {
                "filter": [
                    {"field": "event.type", "operator": "is", "value": "approved"},
                    {
                        "field": "event.requestId",
                        "operator": "is",
                        "value": {"$var": "input.trigger.requestId"},
                    },
                ],
                "timeoutSeconds": 60,
            },
            "links": [{"key": "after"}],
        },
        "after": {"type": "transform-data", "config": {"value": {"$var": "input.approval.by"}}},
    },
}


async def test_wait_for_event_takes_the_matching_event(
    osmo_sqlite: Osmo, connected: str, env: WorkflowEnvironment
) -> None:
    osmo = osmo_sqlite
    await define(osmo, APPROVAL_FLOW)
    async with flow_worker(osmo, env):
        run_id = await run_flow(osmo, connected, "await-approval", {"requestId": "r1"})
        events = f"/flow-runs/{run_id}/events"
        for ignored in (
            {"type": "approved", "requestId": "r2"},
            {"type": "rejected", "requestId": "r1"},
        ):
            sent = await osmo.call("POST", events, tenant="acme", json=ignored)
            assert sent.status_code == 202, sent.text
        assert (await osmo.call("POST", events, tenant="globex", json={})).status_code == 404
        for _ in range(50):
            run = (await osmo.call("GET", f"/flow-runs/{run_id}", tenant="acme")).json()
            if any(r["nodeKey"] == "approval" for r in run["nodeRuns"]):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # the ignored events have been seen by now
        run = (await osmo.call("GET", f"/flow-runs/{run_id}", tenant="acme")).json()
        assert run["state"] == "running"
        assert node(run, "approval")["state"] == "running"

        match = {"type": "approved", "requestId": "r1", "by": "ada"}
        assert (await osmo.call("POST", events, tenant="acme", json=match)).status_code == 202
        run = await finished(osmo, run_id)
        assert run["state"] == "completed", run
        assert node(run, "approval")["outputs"] == [match]
        assert node(run, "after")["outputs"] == ["ada"]
        late = await osmo.call("POST", events, tenant="acme", json=match)
        assert late.status_code == 409 and late.json()["key"] == "flow_run_not_running"


async def test_wait_for_event_times_out(
    osmo_sqlite: Osmo, connected: str, env: WorkflowEnvironment
) -> None:
    wait = {"type": "wait-for-event", "config": {"timeoutSeconds": 1}}
    flow = {
        "key": "await-briefly",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "lenient"}, {"key": "strict"}]},
            # continue: the run goes on without the node's outputs
            "lenient": {**wait, "onError": "continue", "links": [{"key": "afterLenient"}]},
            "afterLenient": {"type": "transform-data", "config": {"value": 1}},
            "strict": wait,  # stop: the run fails
        },
    }
    await define(osmo_sqlite, flow)
    async with flow_worker(osmo_sqlite, env):
        run = await finished(osmo_sqlite, await run_flow(osmo_sqlite, connected, "await-briefly"))
    assert run["state"] == "failed" and run["failedNodeKey"] == "strict", run
    assert [r["nodeKey"] for r in run["nodeRuns"]] == ["trigger", "lenient", "strict"]
    for key in ("lenient", "strict"):
        assert node(run, key)["state"] == "failed"
        assert node(run, key)["error"]["key"] == "timeout"
        assert node(run, key)["durationMs"] >= 1000
