"""Validation of flow definitions: node types, configs, formulas, links, triggers, cycles."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from pydantic import Field

from core.elements.definition import Definition, Problem
from core.elements.flow_variables import variable_problems
from core.elements.node_schemas import NODE_SCHEMAS
from core.events.schedules import schedule_problems
from core.formulas import validate_formula

MAX_PARALLEL_RUNS = 1000
"""The largest `maxParallelRuns`, the largest `OSMO_FLOW_RUNS_PER_CONNECTION`."""


class FlowDefinition(Definition):
    """A flow: nodes by key, parameters within a schema, enabled or not (per instance)."""

    nodes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    parameters_schema: dict[str, Any] | None = None
    enabled: bool = True
    max_parallel_runs: int | None = Field(None, ge=1, le=MAX_PARALLEL_RUNS, strict=True)
    """Runs of this flow running at once for one connection: a cap inside the connection's
    limit (`OSMO_FLOW_RUNS_PER_CONNECTION`), never above it (docs/limits.md)."""


NODE_KEYS = {
    "type", "name", "config", "links", "onError", "concurrency", "retry", "timeoutSeconds",
    "inputSchema", "outputSchema",
}  # fmt: skip

MAX_CONCURRENCY = 50

NODE_SETTINGS = Draft202012Validator(
    {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "concurrency": {"type": "integer", "minimum": 1, "maximum": MAX_CONCURRENCY},
            "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0},
            "retry": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "maximumAttempts": {"type": "integer", "minimum": 1},
                    "initialIntervalSeconds": {"type": "number", "exclusiveMinimum": 0},
                    "maximumIntervalSeconds": {"type": "number", "exclusiveMinimum": 0},
                },
            },
            "links": {"type": "array"},
        },
    }
)
"""Settings every node may have, whatever its type."""


def message(error: ValidationError) -> str:
    """A config error in words ("needs collectionKey or dataSourceKey" for a choice of keys)."""
    if error.validator == "anyOf" and all("required" in s for s in error.validator_value):
        return "needs " + " or ".join(s["required"][0] for s in error.validator_value)
    return str(error.message)


def _cycle(nodes: dict[str, dict[str, Any]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(key: str, path: list[str]) -> list[str] | None:
        state[key] = 1
        for link in nodes[key].get("links") or []:
            target = link.get("key") if isinstance(link, dict) else None
            if target not in nodes:
                continue
            if state.get(target) == 1:
                return [*path, target]
            if target not in state and (found := visit(target, [*path, target])):
                return found
        state[key] = 2
        return None

    for key in nodes:
        if key not in state and (found := visit(key, [key])):
            return found
    return None


def _node_problems(key: str, node: Any, keys: set[str]) -> list[Problem]:
    path = f"nodes.{key}"
    if not isinstance(node, dict):
        return [{"path": path, "message": "a node must be an object"}]
    problems = [
        {"path": f"{path}.{name}", "message": "unknown node property"}
        for name in node
        if name not in NODE_KEYS
    ]
    for error in NODE_SETTINGS.iter_errors(node):
        where = ".".join(str(p) for p in error.absolute_path)
        problems.append({"path": f"{path}.{where}", "message": error.message})
    node_type = node.get("type")
    if not isinstance(node_type, str) or node_type not in NODE_SCHEMAS:
        problems.append({"path": f"{path}.type", "message": f"unknown node type {node_type!r}"})
    else:
        validator = Draft202012Validator(NODE_SCHEMAS[node_type].config)
        for error in validator.iter_errors(node.get("config") or {}):
            where = ".".join(str(p) for p in error.absolute_path)
            problems.append(
                {"path": f"{path}.config{'.' + where if where else ''}", "message": message(error)}
            )
        if node_type == "schedule-trigger":  # cron syntax, time zone (docs/schedules.md)
            config = node.get("config")
            problems += [
                {"path": f"{path}.config.{f}", "message": m} for f, m in schedule_problems(config)
            ]
    problems += [
        {"path": f"{path}.config{'.' + p.path if p.path else ''}", "message": p.message}
        for p in validate_formula(node.get("config") or {})
    ]
    if node.get("onError", "stop") not in ("stop", "continue"):
        problems.append({"path": f"{path}.onError", "message": "must be stop or continue"})
    for i, link in enumerate(node.get("links") or []):
        if not isinstance(link, dict) or link.get("key") not in keys:
            target = link.get("key") if isinstance(link, dict) else link
            problems.append(
                {"path": f"{path}.links[{i}].key", "message": f"no node {target!r} to link to"}
            )
        elif link.get("filter") is not None:
            # Validate the conditions the way `$case` validates its filters.
            wrapped = {"$case": {"cases": [{"filter": link["filter"], "value": None}]}}
            prefix = "$case.cases[0].filter"
            problems += [
                {
                    "path": f"{path}.links[{i}].filter{p.path.removeprefix(prefix)}",
                    "message": p.message,
                }
                for p in validate_formula(wrapped)
            ]
    return problems


def _parameter_problems(definition: dict[str, Any]) -> list[Problem]:
    schema = definition.get("parametersSchema")
    parameters = definition.get("parameters") or {}
    if not isinstance(schema, dict):
        return []
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        {
            "path": "parameters" + "".join(f".{p}" for p in error.absolute_path),
            "message": error.message,
        }
        for error in validator.iter_errors(parameters)
    ]


def flow_problems(definition: dict[str, Any]) -> list[Problem]:
    parameter_problems = _parameter_problems(definition)
    nodes = definition.get("nodes")
    if not isinstance(nodes, dict):
        return parameter_problems
    return parameter_problems + _graph_problems(nodes, definition.get("parametersSchema"))


def _graph_problems(nodes: dict[str, Any], parameters_schema: Any = None) -> list[Problem]:
    keys = set(nodes)
    problems: list[Problem] = []
    for key, node in nodes.items():
        problems += _node_problems(key, node, keys)
    if problems:
        return problems
    targets = {link["key"] for node in nodes.values() for link in node.get("links") or []}
    roots = [key for key in nodes if key not in targets]
    # Every type is known here: unknown types were reported above.
    triggers = [key for key, node in nodes.items() if NODE_SCHEMAS[node["type"]].is_trigger]
    if nodes and len(triggers) != 1:
        problems.append(
            {"path": "nodes", "message": f"a flow needs exactly one trigger, found {len(triggers)}"}
        )
    problems += [
        {"path": f"nodes.{key}.links", "message": "nothing may link to a trigger"}
        for key in triggers
        if key in targets
    ]
    if nodes and roots != triggers:
        stray = sorted(set(roots) - set(triggers))
        if stray:
            problems.append({"path": "nodes", "message": f"unreachable nodes: {stray}"})
    cycle = _cycle(nodes)
    if cycle:
        problems.append({"path": "nodes", "message": f"cycle: {' → '.join(cycle)}"})
    return problems + variable_problems(nodes, parameters_schema)
