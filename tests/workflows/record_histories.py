"""Records FlowRun histories for the replay suite: `python -m tests.workflows.record_histories`.

Each case runs a flow on the time-skipping server with stand-in activities (registered under the
real activity names) and writes its history to `tests/workflows/histories/<case>.json`. Re-record
only on purpose: the point of the suite is that histories recorded by older code keep replaying.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.connectors import (
    ApiRequestInput,
    ApiRequestOutput,
    CollectionMethodInput,
    RunOperationInput,
)
from activities.data_links import CreateDataLinkInput, DataLinkQuery
from activities.http import AppRequestInput, HttpRequestInput
from tests.temporal_env import time_skipping
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import (
    DEFAULT_HISTORY_LIMIT,
    FlowRunInput,
    FlowSnapshot,
    NodeRun,
    lane_from,
)

HISTORIES = Path(__file__).parent / "histories"


@activity.defn(name="collection_method")
async def collection_method(input: CollectionMethodInput) -> dict[str, Any]:
    if input.fields and input.fields.get("fail"):
        raise ApplicationError("conflict", {"key": "conflict"}, type="conflict", non_retryable=True)
    if input.fields and input.fields.get("slow"):
        await asyncio.sleep(0.5)  # in flight when a sibling fails
    if input.method == "list" and input.collection == "paged":  # 4 pages of 2, cursors p1..p3
        page = int((input.cursor or "p0")[1:])
        records = [{"id": str(2 * page + n), "fields": {}} for n in (1, 2)]
        return {"records": records, "cursor": f"p{page + 1}" if page < 3 else None}
    if input.method == "list":
        return {"records": [{"id": "1", "fields": {}}, {"id": "2", "fields": {}}], "cursor": None}
    if input.method == "match":
        return {"record": None}
    return {"record": {"id": "r-1", "fields": input.fields or {}}}


@activity.defn(name="create_data_link")
async def create_data_link(input: CreateDataLinkInput) -> dict[str, Any]:
    return {"id": "l-1", "appRecordId": input.app_record_id, "direction": input.direction}


@activity.defn(name="find_data_link")
async def find_data_link(input: DataLinkQuery) -> dict[str, Any]:
    return {"appRecordId": "a-1", "externalRecordId": "e-1"}


@activity.defn(name="delete_data_link")
async def delete_data_link(input: DataLinkQuery) -> dict[str, Any]:
    return {"deleted": 1}


@activity.defn(name="api_request")
async def api_request(input: ApiRequestInput) -> ApiRequestOutput:
    return ApiRequestOutput(200, {}, {"path": input.path})


@activity.defn(name="custom_http_request")
async def custom_http_request(input: HttpRequestInput) -> ApiRequestOutput:
    return ApiRequestOutput(200, {}, {"url": input.url})


@activity.defn(name="app_api_request")
async def app_api_request(input: AppRequestInput) -> ApiRequestOutput:
    return ApiRequestOutput(200, {}, {"path": input.path})


@activity.defn(name="run_operation")
async def run_operation(input: RunOperationInput) -> dict[str, Any]:
    return {"operation": input.operation_key, "input": input.input}


def node(type_: str, links: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "links": [{"key": k} for k in links or []], **extra}


CASES: dict[str, dict[str, dict[str, Any]]] = {
    "pure-nodes": {
        "t": node("api-trigger", ["items"]),
        "items": node("for-each", ["keep"], config={"items": {"$var": "input.t.list"}}),
        "keep": node(
            "filter",
            ["shape"],
            config={"filter": {"field": "input.items", "operator": "more_than", "value": 1}},
        ),
        "shape": node("transform-data", config={"value": {"n": {"$var": "input.items"}}}),
    },
    "delay": {
        "t": node("schedule-trigger", ["wait"]),
        "wait": node("delay", ["after"], config={"seconds": 60}),
        "after": node("transform-data", config={"value": "done"}),
    },
    "data-records": {
        "t": node("data-record-created-trigger", ["list"]),
        "list": node("list-data-records", ["find"], config={"collectionKey": "contacts"}),
        "find": node(
            "find-or-create-data-record",
            ["update"],
            config={"collectionKey": "contacts", "query": {"email": "a@b.c"}, "fields": {"a": 1}},
        ),
        "update": node(
            "update-data-record",
            ["delete"],
            config={"collectionKey": "contacts", "id": "r-1", "fields": {"a": 2}},
        ),
        "delete": node("delete-data-record", config={"collectionKey": "contacts", "id": "r-1"}),
    },
    "data-links-and-events": {
        "t": node("app-event-trigger", ["link"]),
        "link": node(
            "create-data-link",
            ["find"],
            config={"dataLinkTable": "contacts", "appRecordId": "a-1", "externalRecordId": "e-1"},
        ),
        "find": node(
            "find-data-link", ["drop"], config={"dataLinkTable": "contacts", "appRecordId": "a-1"}
        ),
        "drop": node(
            "delete-data-link",
            ["wait"],
            config={"dataLinkTable": "contacts", "appRecordId": "a-1"},
        ),
        "wait": node(
            "wait-for-event",
            ["after"],
            config={
                "filter": {"field": "event.type", "operator": "is", "value": "x"},
                "timeoutSeconds": 30,
            },
            onError="continue",
        ),
        "after": node("transform-data", config={"value": 1}),
    },
    "api-request-and-errors": {
        "t": node("api-trigger", ["call", "broken"]),
        "call": node("api-request-to-external-app", config={"path": "/me"}),
        "broken": node(
            "create-data-record",
            ["never"],
            config={"collectionKey": "contacts", "fields": {"fail": True}},
            onError="continue",
        ),
        "never": node("transform-data", config={"value": 1}),
    },
    "record-lookups": {
        "t": node("data-record-updated-trigger", ["search"]),
        "search": node(
            "search-data-records",
            ["lookup"],
            config={"collectionKey": "contacts", "query": {"text": "a"}},
        ),
        "lookup": node(
            "lookup-data-record",
            ["byId"],
            config={"collectionKey": "contacts", "query": {"email": "a@b.c"}},
        ),
        "byId": node("find-data-record-by-id", config={"collectionKey": "contacts", "id": "r-1"}),
    },
    "http-requests": {
        "t": node("connector-event-trigger", ["custom"]),
        "custom": node("custom-http-request", ["app"], config={"url": "https://example.com/hook"}),
        "app": node("api-request-to-your-app", config={"method": "POST", "path": "/events"}),
    },
    "actions-and-operations": {
        "t": node("data-record-deleted-trigger", ["operation"]),
        "operation": node(
            "run-operation", ["action"], config={"operationKey": "ping", "input": {"a": 1}}
        ),
        "action": node(
            "run-action",
            config={
                "actionKey": "create-contact",
                "input": {"email": "a@b.c"},
                "action": {
                    "action_key": "create-contact",
                    "action_instance_id": "ai-1",
                    "type": "create-data-record",
                    "config": {
                        "collectionKey": "contacts",
                        "fields": {"email": {"$var": "input.email"}},
                    },
                    "output_mapping": {"id": {"$var": "output.record.id"}},
                    "connection_id": "c-1",
                },
            },
        ),
    },
    "lanes-and-continue-as-new": {
        "t": node("api-trigger", ["each"]),
        "each": node(
            "for-each",
            ["create", "odd"],
            config={"items": {"$var": "input.t.many"}},
            concurrency=3,
        ),
        "create": node(
            "create-data-record",
            config={"collectionKey": "contacts", "fields": {"n": {"$var": "input.each"}}},
        ),
        "odd": node("transform-data", config={"value": {"$var": "input.each"}}),
    },
    # Item 2 fails while item 1's `onError: continue` write is in flight: recorded before
    # CANCELLED_ACTIVITY_PATCH, when the cancelled write counted as failed, its lane went on and
    # started item 3.
    "fan-out-fails-while-writing": {
        "t": node("api-trigger", ["each"]),
        "each": {
            **node("for-each", config={"items": {"$var": "input.t.list"}}, concurrency=2),
            "links": [
                {
                    "key": "lenient",
                    "filter": {"field": "input.each", "operator": "is_not", "value": 2},
                },
                {"key": "strict", "filter": {"field": "input.each", "operator": "is", "value": 2}},
            ],
        },
        "lenient": node(
            "create-data-record",
            ["after"],
            config={"collectionKey": "contacts", "fields": {"slow": True}},
            onError="continue",
        ),
        "strict": node(
            "create-data-record", config={"collectionKey": "contacts", "fields": {"fail": True}}
        ),
        "after": node("transform-data", config={"value": 1}),
    },
    "local-http-steps": {  # recorded since short HTTP steps run as local activities
        "t": node("api-trigger", ["external"]),
        "external": node(
            "api-request-to-external-app",
            ["custom"],
            config={"method": "POST", "path": "/records", "body": {"a": 1}},
        ),
        "custom": node("custom-http-request", ["app"], config={"url": "https://example.com/h"}),
        "app": node("api-request-to-your-app", config={"method": "POST", "path": "/events"}),
    },
    "whole-collection": {
        "t": node("api-trigger", ["list"]),
        "list": node(
            "list-data-records", ["each"], config={"collectionKey": "paged", "pages": "all"}
        ),
        "each": node(
            "for-each",
            ["update"],
            config={"items": {"$var": "input.list.records"}},
            concurrency=2,
        ),
        "update": node(
            "update-data-record",
            config={"collectionKey": "contacts", "id": {"$var": "input.each.id"}, "fields": {}},
        ),
    },
}

_RERUN_WRITE = {"collectionKey": "contacts", "fields": {"n": {"$var": "input.each"}}}
CASES["rerun-from-the-failed-node"] = {
    "t": node("api-trigger", ["each", "done"]),
    "each": node("for-each", ["write"], config={"items": {"$var": "input.t.list"}}, concurrency=2),
    "write": node(
        "create-data-record",
        ["after"],
        config={
            "collectionKey": "contacts",
            "fields": {"slow": True, "fail": {"$eval": {"$var": "input.each"}, "is": 2}},
        },
    ),
    "after": node("transform-data", config={"value": {"$var": "input.write.record.id"}}),
    "done": node("transform-data", config={"value": "done"}),
}
FIXED = {
    "rerun-from-the-failed-node": {
        **CASES["rerun-from-the-failed-node"],
        "write": node("create-data-record", ["after"], config=_RERUN_WRITE),
    }
}
"""Cases recorded as the rerun from the failed node (on these fixed nodes) of a failed run:
the work it left (every item, and the branch after the loop), resumed on its node runs."""

FAILING = {"fan-out-fails-while-writing", *FIXED}
"""Cases whose run fails (by design)."""

HISTORY_LIMITS = {"lanes-and-continue-as-new": 60, "whole-collection": 40}
"""Cases recorded with a small history limit, to record a continue-as-new."""


async def rerun(
    client: Client, queue: str, failure: WorkflowFailureError, nodes: dict[str, Any], name: str
) -> WorkflowHandle[Any, Any]:
    """Runs what the failed run left on `nodes`, as POST /flow-runs/{id}/rerun does."""
    assert isinstance(failure.cause, ApplicationError)
    details = failure.cause.details[0]
    handle = await client.start_workflow(
        FlowRunWorkflow.run,
        FlowRunInput(
            FlowSnapshot(name, f"instance-{name}", nodes, connection_id="c-1", customer_id="cu-1"),
            {"list": [1, 2, 3], "many": list(range(12))},
            resume=lane_from(details["pending"]),
            node_runs=[NodeRun(**run) for run in details["nodeRuns"]],
            inherited=len(details["nodeRuns"]),
            connection_limit=None,
        ),
        id=f"replay-{name}-rerun",
        task_queue=queue,
    )
    await handle.result()
    return handle


async def main() -> None:
    HISTORIES.mkdir(exist_ok=True)
    env = await time_skipping()
    queue = str(uuid.uuid4())
    try:
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[FlowRunWorkflow],
            activities=[
                collection_method,
                api_request,
                create_data_link,
                find_data_link,
                delete_data_link,
                custom_http_request,
                app_api_request,
                run_operation,
            ],
        ):
            for name, nodes in CASES.items():
                if (HISTORIES / f"{name}.json").exists():
                    continue  # recorded by older code: keep it, that is the point
                snapshot = FlowSnapshot(
                    name,
                    f"instance-{name}",
                    nodes,
                    connection_id="c-1",
                    customer_id="cu-1",
                    tenant_key="acme",
                )
                handle = await env.client.start_workflow(
                    FlowRunWorkflow.run,
                    FlowRunInput(
                        snapshot,
                        {"list": [1, 2, 3], "many": list(range(12))},
                        history_limit=HISTORY_LIMITS.get(name, DEFAULT_HISTORY_LIMIT),
                        connection_limit=None,  # the interpreter alone: no limiter here
                    ),
                    id=f"replay-{name}",
                    task_queue=queue,
                )
                try:
                    await handle.result()
                except WorkflowFailureError as failure:
                    if name not in FAILING:
                        raise
                    if name in FIXED:
                        handle = await rerun(env.client, queue, failure, FIXED[name], name)
                # The first execution: with a small limit it is the one that continued as new.
                first = env.client.get_workflow_handle(
                    handle.id, run_id=handle.first_execution_run_id
                )
                history = await first.fetch_history()
                (HISTORIES / f"{name}.json").write_text(history.to_json())
                print(f"recorded {name}")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
