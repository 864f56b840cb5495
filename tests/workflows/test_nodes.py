"""The node registry: implementations match the declared schemas, and nodes fail with keys."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any, get_args

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError, TimeoutError, TimeoutType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.elements.node_schemas import NODE_SCHEMAS
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowSnapshot
from workflows.nodes import NODE_TYPES
from workflows.nodes.errors import NODE_ERRORS, NodeErrorKey, as_node_error


def test_every_declared_node_type_is_implemented_and_nothing_else() -> None:
    assert sorted(NODE_TYPES) == sorted(NODE_SCHEMAS)


def test_triggers_are_the_types_declared_as_triggers() -> None:
    triggers = {name for name, schema in NODE_SCHEMAS.items() if schema.is_trigger}
    assert "api-trigger" in triggers and "transform-data" not in triggers
    assert all(name.endswith("-trigger") for name in triggers)


def test_workflow_code_starts_activities_by_method_reference_only() -> None:
    """A name string is checked by nothing until the run fails; a method reference is checked
    by mypy and carries the activity's argument and result types."""
    workflows = Path(__file__).resolve().parents[2] / "workflows"
    by_name = {"execute_activity", "start_activity"}
    calls = [
        f"{path.name}:{node.lineno}"
        for path in sorted(workflows.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in by_name
    ]
    assert calls == []


def test_every_node_error_key_has_a_meaning() -> None:
    assert sorted(get_args(NodeErrorKey)) == sorted(NODE_ERRORS)
    assert all(info.meaning and 400 <= info.status < 600 for info in NODE_ERRORS.values())


def test_unexpected_exceptions_become_keyed_failures() -> None:
    bug = as_node_error(ValueError("boom"))
    assert (bug.type, bug.details[0]["data"]) == ("internal_error", {"exception": "ValueError"})
    timed_out = as_node_error(
        TimeoutError("timed out", type=TimeoutType.START_TO_CLOSE, last_heartbeat_details=[])
    )
    assert timed_out.type == "activity_timeout"
    assert timed_out.details[0]["data"] == {"timeoutType": "START_TO_CLOSE"}


@pytest.mark.parametrize(
    ("node", "key", "data", "status"),
    [
        (
            {"type": "for-each", "config": {"items": "not a list"}},
            "items_not_a_list",
            {"type": "str"},
            400,
        ),
        (
            {
                "type": "create-data-link",
                "config": {"dataLinkTable": "t", "appRecordId": "", "externalRecordId": "e-1"},
            },
            "data_link_record_missing",
            {"fields": ["appRecordId"]},
            400,
        ),
        (
            {"type": "transform-data", "config": {"value": {"$jsonata": '$number("abc")'}}},
            "formula_evaluation_error",
            {"path": "$jsonata"},
            422,
        ),
    ],
    ids=["for-each", "create-data-link", "formula"],
)
async def test_a_node_failing_in_workflow_code_reports_a_typed_key(
    time_skipping_env: WorkflowEnvironment,
    node: dict[str, Any],
    key: str,
    data: dict[str, Any],
    status: int,
) -> None:
    nodes = {"t": {"type": "api-trigger", "links": [{"key": "n"}]}, "n": node}
    client, queue = time_skipping_env.client, str(uuid.uuid4())
    async with Worker(client, task_queue=queue, workflows=[FlowRunWorkflow]):
        with pytest.raises(WorkflowFailureError) as raised:
            await client.execute_workflow(
                FlowRunWorkflow.run,
                FlowRunInput(
                    FlowSnapshot("f", "i-1", nodes, connection_id="c-1"), connection_limit=None
                ),
                id=f"flow-run-{uuid.uuid4()}",
                task_queue=queue,
            )
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "flow_failed"
    [failed] = [run for run in cause.details[0]["nodeRuns"] if run["node_key"] == "n"]
    error = failed["error"]
    assert (error["type"], error["key"]) == (key, key)
    assert error["data"]["data"] == data and error["data"]["status"] == status
