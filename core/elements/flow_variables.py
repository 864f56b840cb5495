"""What each node of a flow can read, known before anything runs, and formulas that read more.

A node's formulas run over `input.<key>` for each node on a path from the start to it (the
interpreter puts the output of every upstream node there), the run's `flowInstance`,
`connection`, `customer`, `integration` and `flowRun`, and, in a `wait-for-event` filter,
`event`. A link's filter also sees the output of its own node. A locator reading anything else
(`input.contacs.records` for a node called `contacts`) can only ever read nothing: the run
would go on with an empty value instead of failing. Saving such a flow is a 422 naming the
formula's path, so the typo is found when it is made.

Formulas written in JSONata are not checked here: their paths are not locators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from core.elements.definition import Problem
from core.formulas import parse_locator
from core.formulas.errors import FormulaProblem
from core.formulas.inference import locator_problems

_STRING = {"type": "string"}

# Each of these holds exactly what workflows/interpreter.py puts in the run's variables.
_RUN_VARIABLES: dict[str, Any] = {
    "connection": {"type": "object", "properties": {"id": _STRING}, "additionalProperties": False},
    "customer": {
        "type": "object",
        "properties": {"id": _STRING, "tenantKey": _STRING},
        "additionalProperties": False,
    },
    "integration": {
        "type": "object",
        "properties": {"key": _STRING},
        "additionalProperties": False,
    },
    "flowRun": {"type": "object", "properties": {"id": _STRING}, "additionalProperties": False},
}

FILTER_CONFIG = {"filter": (), "wait-for-event": ("event",)}
"""Node types whose `config.filter` is a list of conditions, with the variables it adds."""

NOT_NODE_FORMULAS = {"run-action": ("action",)}
"""Config values evaluated over other variables: the action `run-action` runs (resolved by the
API into the run's snapshot) reads the action's own `input`."""

_UNKNOWN_FIELD = re.compile(r'^unknown field "(?P<field>.*)" \(locator "(?P<locator>.*)"\)$')


def ancestors(nodes: dict[str, Any]) -> dict[str, set[str]]:
    """For each node, the nodes a run can pass through before it (its `input` keys)."""
    parents: dict[str, set[str]] = {key: set() for key in nodes}
    for key, node in nodes.items():
        for link in node.get("links") or []:
            if isinstance(link, dict) and link.get("key") in parents:
                parents[link["key"]].add(key)
    found: dict[str, set[str]] = {}
    for key in nodes:
        seen: set[str] = set()
        stack = list(parents[key])
        while stack:
            parent = stack.pop()
            if parent not in seen:
                seen.add(parent)
                stack.extend(parents[parent])
        found[key] = seen
    return found


def _parameters_schema(schema: Any) -> dict[str, Any]:
    """`flowInstance.parameters` as far as it is known: the names of a closed schema."""
    if (
        isinstance(schema, dict)
        and schema.get("additionalProperties") is False
        and isinstance(schema.get("properties"), dict)
    ):
        names: dict[str, Any] = {name: {} for name in schema["properties"]}
        return {"type": "object", "properties": names, "additionalProperties": False}
    return {}


def variables_schema(
    inputs: Iterable[str], parameters_schema: Any = None, extra: Iterable[str] = ()
) -> dict[str, Any]:
    """The variables of one node as a closed schema: `input` holds exactly `inputs`."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "input": {
                "type": "object",
                "properties": {key: {} for key in sorted(inputs)},
                "additionalProperties": False,
            },
            "flowInstance": {
                "type": "object",
                "properties": {"id": _STRING, "parameters": _parameters_schema(parameters_schema)},
                "additionalProperties": False,
            },
            **_RUN_VARIABLES,
            **{name: {} for name in extra},
        },
    }


def _message(problem: FormulaProblem, inputs: set[str]) -> str:
    """Says which nodes a misspelt `input.<key>` could have meant."""
    match = _UNKNOWN_FIELD.match(problem.message)
    if match is None:
        return problem.message
    try:
        segments = parse_locator(match["locator"])
    except ValueError:
        return problem.message
    if segments[:2] != ("input", match["field"]):
        return problem.message
    readable = ", ".join(f"input.{key}" for key in sorted(inputs)) or "no node outputs"
    return (
        f'no node "{match["field"]}" runs before this one (locator "{match["locator"]}"); '
        f"it can read {readable}"
    )


def _conditions(conditions: Any, schema: dict[str, Any]) -> list[FormulaProblem]:
    """Locator problems of a list of filter conditions, with paths relative to the list."""
    prefix = "$case.cases[0].filter"
    wrapped = {"$case": {"cases": [{"filter": conditions, "value": None}]}}
    return [
        FormulaProblem(p.path.removeprefix(prefix).removeprefix("."), p.message)
        for p in locator_problems(wrapped, schema)
    ]


def _at(path: str, problems: Iterable[FormulaProblem], inputs: set[str]) -> list[Problem]:
    return [
        {
            "path": path + ("" if not p.path or p.path.startswith("[") else ".") + p.path,
            "message": _message(p, inputs),
        }
        for p in problems
    ]


def variable_problems(
    nodes: dict[str, dict[str, Any]], parameters_schema: Any = None
) -> list[Problem]:
    """Every locator in the flow's configs and link filters that reads a variable its node
    cannot have, with the path of its formula (`nodes.each.config.items.$var`)."""
    problems: list[Problem] = []
    before = ancestors(nodes)
    for key, node in nodes.items():
        config = node.get("config") or {}
        inputs = before[key]
        schema = variables_schema(inputs, parameters_schema)
        where = f"nodes.{key}.config"
        filter_adds = FILTER_CONFIG.get(node.get("type", ""))
        if isinstance(config, dict):
            skip = NOT_NODE_FORMULAS.get(node.get("type", ""), ())
            formulas = {k: v for k, v in config.items() if k not in skip}
            if filter_adds is not None and "filter" in config:
                formulas = {k: v for k, v in formulas.items() if k != "filter"}
                with_event = variables_schema(inputs, parameters_schema, filter_adds)
                problems += _at(
                    f"{where}.filter", _conditions(config["filter"], with_event), inputs
                )
            problems += _at(where, locator_problems(formulas, schema), inputs)
        own = inputs | {key}
        for i, link in enumerate(node.get("links") or []):
            if isinstance(link, dict) and link.get("filter") is not None:
                problems += _at(
                    f"nodes.{key}.links[{i}].filter",
                    _conditions(link["filter"], variables_schema(own, parameters_schema)),
                    own,
                )
    return problems
