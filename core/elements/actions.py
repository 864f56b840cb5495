"""Action definitions: one synchronous request, run as the flow node type of the same name.

An action's `config` is the config of its node type; its formulas read the action's `input`
and the run's `connection`, `customer` and `integration`. `outputMapping` is a formula over
`{output, input}`; without it the action answers with the node's output.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, get_args

from jsonschema import Draft202012Validator
from pydantic import Field

from core.elements.definition import Definition, Problem
from core.elements.flows import message
from core.elements.node_schemas import NODE_SCHEMAS, DataRecordType
from core.formulas import validate_formula
from core.schemas import format_path, validate_schema, validate_value

ActionType = Literal[
    DataRecordType,
    "run-operation",
    "api-request-to-external-app",
    "api-request-to-your-app",
]
ACTION_TYPES: tuple[str, ...] = get_args(ActionType)

_RUN_VARIABLES = {
    "connection": {"type": "object", "properties": {"id": {"type": "string"}}},
    "customer": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "tenantKey": {"type": "string"}},
    },
    "integration": {"type": "object", "properties": {"key": {"type": "string"}}},
}


class ActionDefinition(Definition):
    """A synchronous request: a node type, its config, an input schema, an output mapping."""

    type: ActionType
    config: dict[str, Any] = Field(default_factory=dict)
    input_schema: dict[str, Any] | None = None
    output_mapping: Any = None


def _under(prefix: str, problems: Iterable[Any]) -> list[Problem]:
    """`{path, message}` problems with their paths placed under `prefix`."""
    return [
        {
            "path": prefix + ("" if not p.path or p.path.startswith("[") else ".") + p.path,
            "message": p.message,
        }
        for p in problems
    ]


def _variables(names: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": names, "additionalProperties": False}


def _config_problems(action_type: str, config: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for error in Draft202012Validator(NODE_SCHEMAS[action_type].config).iter_errors(config):
        where = ["config", *error.absolute_path]
        if error.validator == "required":
            problems += [
                {"path": format_path([*where, name]), "message": "is required"}
                for name in error.validator_value
                if name not in error.instance
            ]
        else:
            problems.append({"path": format_path(where), "message": message(error)})
    return problems


def action_problems(definition: dict[str, Any]) -> list[Problem]:
    """Problems of an action's config (against its node type), formulas and input schema."""
    input_schema = definition.get("inputSchema")
    problems: list[Problem] = []
    if isinstance(input_schema, dict):
        problems += _under("inputSchema", validate_schema(input_schema))
    input_variable = input_schema if isinstance(input_schema, dict) and not problems else {}
    config = definition.get("config")
    if isinstance(config, dict):
        if definition.get("type") in ACTION_TYPES:
            problems += _config_problems(definition["type"], config)
        if config.get("pages") == "all":  # one synchronous answer: never a whole collection
            problems.append({"path": "config.pages", "message": "an action answers one page"})
        variables = _variables({"input": input_variable, **_RUN_VARIABLES})
        problems += _under("config", validate_formula(config, variables))
    output_mapping = definition.get("outputMapping")
    if output_mapping is not None:
        variables = _variables({"output": {}, "input": input_variable})
        problems += _under("outputMapping", validate_formula(output_mapping, variables))
    return problems


def input_problems(input_schema: dict[str, Any] | None, value: Any) -> list[Problem]:
    """Problems of an action's input against its input schema, with paths under `input`."""
    if input_schema is None:
        return []
    return _under("input", validate_value(value, input_schema))
