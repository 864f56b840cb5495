"""Flow definitions checked when saved: the variables each node's formulas read, node configs
that are formulas (and those that are not, documented per node)."""

from __future__ import annotations

from typing import Any

import pytest

from core.elements.flows import flow_problems
from core.elements.node_schemas import NODE_SCHEMAS


def flow(**nodes: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": nodes}


def contacts_flow(items: Any) -> dict[str, Any]:
    """trigger → contacts (list) → each (for-each over `items`) → save."""
    return flow(
        trigger={"type": "api-trigger", "links": [{"key": "contacts"}]},
        contacts={
            "type": "list-data-records",
            "config": {"collectionKey": "contacts"},
            "links": [{"key": "each"}],
        },
        each={"type": "for-each", "config": {"items": items}, "links": [{"key": "save"}]},
        save={
            "type": "transform-data",
            "config": {"value": {"email": {"$var": "input.each.email"}}},
        },
    )


def test_a_misspelt_upstream_key_is_an_error_with_the_formula_path() -> None:
    problems = flow_problems(contacts_flow({"$var": "input.contacs.records"}))
    assert len(problems) == 1, problems
    assert problems[0]["path"] == "nodes.each.config.items.$var"
    message = problems[0]["message"]
    assert 'no node "contacs"' in message and "input.contacs.records" in message
    # It says what the node can read instead.
    assert "input.contacts" in message and "input.trigger" in message


def test_every_variable_a_node_sees_is_accepted() -> None:
    definition = contacts_flow(
        {
            "$firstNotEmpty": [
                {"$var": "input.contacts.records"},
                {"$var": "$.input.trigger.records"},
                {
                    "$iterate": {
                        "source": {"$var": "flowInstance.parameters.seed"},
                        "item": {
                            "run": {"$var": "flowRun.id"},
                            "item": {"$var": "item.name"},
                            "connection": {"$var": "connection.id"},
                            "owner": {
                                "$tpl": "{customer.tenantKey}/{customer.id}/{integration.key}"
                            },
                            "instance": {"$var": "flowInstance.id"},
                        },
                    }
                },
            ]
        }
    )
    assert flow_problems(definition) == []


@pytest.mark.parametrize(
    ("locator", "path"),
    [
        ("input.save.email", "nodes.each.config.items.$var"),  # runs after `each`
        ("input.each", "nodes.each.config.items.$var"),  # its own output is not there yet
        ("connection.name", "nodes.each.config.items.$var"),  # only `id` is there
        ("flowRun.startedAt", "nodes.each.config.items.$var"),
        ("inputs.contacts", "nodes.each.config.items.$var"),  # not a variable at all
    ],
)
def test_variables_the_node_cannot_have_are_refused(locator: str, path: str) -> None:
    problems = flow_problems(contacts_flow({"$var": locator}))
    assert [p["path"] for p in problems] == [path], problems


def test_a_node_on_another_branch_is_not_upstream() -> None:
    definition = flow(
        trigger={"type": "api-trigger", "links": [{"key": "left"}, {"key": "right"}]},
        left={"type": "transform-data", "config": {"value": 1}},
        right={"type": "transform-data", "config": {"value": {"$var": "input.left"}}},
    )
    problems = flow_problems(definition)
    assert [p["path"] for p in problems] == ["nodes.right.config.value.$var"]


def test_templates_and_merged_branches() -> None:
    # `join` is reached from both branches: it may read either (one is empty on each path).
    definition = flow(
        trigger={"type": "api-trigger", "links": [{"key": "left"}, {"key": "right"}]},
        left={"type": "transform-data", "config": {"value": 1}, "links": [{"key": "join"}]},
        right={"type": "transform-data", "config": {"value": 2}, "links": [{"key": "join"}]},
        join={
            "type": "transform-data",
            "config": {"value": {"$tpl": "{input.left}-{input.right}-{input.rigth}"}},
        },
    )
    problems = flow_problems(definition)
    assert [p["path"] for p in problems] == ["nodes.join.config.value.$tpl"]
    assert '"rigth"' in problems[0]["message"]


def test_filters_of_links_filter_nodes_and_wait_for_event() -> None:
    definition = flow(
        trigger={
            "type": "api-trigger",
            "links": [
                # A link's filter reads its own node's output.
                {"key": "keep", "filter": {"field": "input.trigger.ok", "operator": "is_not_empty"}}
            ],
        },
        keep={
            "type": "filter",
            "config": {
                "filter": [
                    {"field": "input.trigger.ok", "operator": "is_not_empty"},
                    {"field": "input.trigerr.ok", "operator": "is_not_empty"},
                ]
            },
            "links": [{"key": "wait", "filter": {"field": "input.wait.x", "operator": "is_empty"}}],
        },
        wait={
            "type": "wait-for-event",
            "config": {
                "filter": [
                    {"field": "event.type", "operator": "is", "value": {"$var": "input.keep.t"}},
                    {"field": "evnt.type", "operator": "is", "value": "x"},
                ]
            },
        },
    )
    paths = sorted(p["path"] for p in flow_problems(definition))
    assert paths == [
        "nodes.keep.config.filter[1].field",
        "nodes.keep.links[0].filter.field",
        "nodes.wait.config.filter[1].field",
    ]


def test_a_closed_parameters_schema_names_the_parameters() -> None:
    definition = {
        **contacts_flow({"$var": "flowInstance.parameters.lmit"}),
        "parametersSchema": {
            "type": "object",
            "properties": {"limit": {"type": "integer"}},
            "additionalProperties": False,
        },
    }
    problems = flow_problems(definition)
    assert [p["path"] for p in problems] == ["nodes.each.config.items.$var"]
    # An open schema (or none) lets any parameter through: instances may add their own.
    del definition["parametersSchema"]["additionalProperties"]
    assert flow_problems(definition) == []


def delay_flow(seconds: Any) -> dict[str, Any]:
    return flow(
        trigger={"type": "api-trigger", "links": [{"key": "wait"}]},
        wait={"type": "delay", "config": {"seconds": seconds}},
    )


def test_delay_seconds_is_a_formula_or_a_number() -> None:
    assert flow_problems(delay_flow({"$var": "input.trigger.seconds"})) == []
    assert flow_problems(delay_flow(1.5)) == []
    assert [p["path"] for p in flow_problems(delay_flow(-1))] == ["nodes.wait.config.seconds"]
    assert [p["path"] for p in flow_problems(delay_flow("soon"))] == ["nodes.wait.config.seconds"]
    # The formula's variables are checked like any other.
    assert [p["path"] for p in flow_problems(delay_flow({"$var": "input.trigerr"}))] == [
        "nodes.wait.config.seconds.$var"
    ]


def _accepts_a_formula(schema: dict[str, Any]) -> bool:
    """Whether a config property's schema lets a formula (an object) through."""
    if "enum" in schema or "const" in schema:
        return False
    declared = schema.get("type")
    return declared is None or declared == "object" or "object" in declared


def test_config_values_that_are_not_formulas_say_so() -> None:
    """Node config values are formulas; each exception is documented on the node's schema
    (docs/nodes.md is generated from these descriptions)."""
    undocumented = [
        f"{name}.{prop}"
        for name, node in NODE_SCHEMAS.items()
        for prop, schema in (node.config.get("properties") or {}).items()
        if not _accepts_a_formula(schema)
        and "Fixed" not in schema.get("description", "")
        and prop != "action"
    ]
    assert undocumented == []
    # The ones the README's flow-node table names as plain values are among them.
    assert (
        "Fixed"
        in NODE_SCHEMAS["wait-for-event"].config["properties"]["timeoutSeconds"]["description"]
    )


def test_a_resolved_action_reads_its_own_input() -> None:
    """`config.action` (the API's snapshot of the action) is evaluated over the action's input."""
    definition = flow(
        trigger={"type": "api-trigger", "links": [{"key": "notify"}]},
        notify={
            "type": "run-action",
            "config": {
                "actionKey": "notify",
                "input": {"id": {"$var": "input.trigger.id"}},
                "action": {"config": {"id": {"$var": "input.id"}}},
            },
        },
    )
    assert flow_problems(definition) == []
    definition["nodes"]["notify"]["config"]["input"] = {"$var": "input.notify"}
    assert [p["path"] for p in flow_problems(definition)] == ["nodes.notify.config.input.$var"]
