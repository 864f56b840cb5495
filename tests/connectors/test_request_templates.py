"""Request templates: a request form declared once under `requestTemplates` and used by name."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from connectors.catalog import dry_run
from connectors.registry import BUILTIN, load_connector
from connectors.runtime.mapping import render_mapping
from connectors.schema import SCHEMA_PATH
from connectors.spec import ConnectorSpec

SPEC = """
key: graph
name: Graph
auth: [{key: key, type: api-key, apply: {headers: {X-Key: "{{ inputs.key }}"}}}]
api: {baseUrl: "https://graph.example.com"}
requestTemplates:
  graphql:
    method: POST
    path: /graphql
    headers: {X-Client: osmo, X-Trace: template}
    body: {query: {$var: args.query}, variables: {$var: args.variables}}
operations:
  - key: teams
    name: Teams
    request:
      use: graphql
      headers: {X-Trace: request}
      with:
        query: "query Teams($first: Int) { teams(first: $first) { id } }"
        variables: {first: {$var: input.limit}, missing: {$var: input.nothing}}
  - key: own-body
    name: A request's own body replaces the template's
    request: {use: graphql, body: {query: "{ viewer { id } }"}}
"""


def spec(text: str = SPEC, **changes: Any) -> ConnectorSpec:
    data = yaml.safe_load(text)
    data.update(changes)
    return ConnectorSpec.model_validate(data)


def test_a_request_takes_the_template_and_reads_its_with_values_as_args() -> None:
    operation = spec().operation("teams")
    assert operation is not None
    request = render_mapping(operation.request, {"input": {"limit": 5}})
    assert (request.method, request.path) == ("POST", "/graphql")
    # Headers merge key by key, the request's own winning; `with` values are evaluated
    # against the request's variables (undefined ones left out) before the template reads them.
    assert request.headers == {"X-Client": "osmo", "X-Trace": "request"}
    assert request.json == {
        "query": "query Teams($first: Int) { teams(first: $first) { id } }",
        "variables": {"first": 5},
    }


def test_a_requests_own_fields_replace_the_templates() -> None:
    operation = spec().operation("own-body")
    assert operation is not None
    assert render_mapping(operation.request, {"input": {}}).json == {"query": "{ viewer { id } }"}


def test_an_unknown_template_is_refused_with_the_declared_ones() -> None:
    with pytest.raises(
        ValidationError, match=r"unknown request template 'grafql' \(declared: graphql\)"
    ):
        spec(SPEC.replace("use: graphql\n", "use: grafql\n"))


def test_a_template_cannot_use_another() -> None:
    data = yaml.safe_load(SPEC)
    data["requestTemplates"]["nested"] = {"use": "graphql"}
    data["operations"][1]["request"]["use"] = "nested"
    with pytest.raises(ValidationError, match="cannot itself `use` another template"):
        ConnectorSpec.model_validate(data)


def test_a_request_without_a_template_still_needs_a_path() -> None:
    data = yaml.safe_load(SPEC)
    data["operations"][1]["request"] = {"method": "GET"}
    with pytest.raises(ValidationError, match="path"):
        ConnectorSpec.model_validate(data)


def test_the_json_schema_accepts_a_use_and_refuses_a_request_with_neither() -> None:
    validator = Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    data = yaml.safe_load(SPEC)
    assert list(validator.iter_errors(data)) == []
    data["operations"][1]["request"] = {"method": "GET"}
    assert list(validator.iter_errors(data)) != []


@pytest.mark.parametrize(
    ("key", "template", "uses"),
    [("linear", "graphql", 30), ("salesforce", "create-and-read", 5), ("zendesk", "subscribe", 9)],
)
def test_repeated_request_forms_are_declared_once(key: str, template: str, uses: int) -> None:
    text = (BUILTIN / key / "connector.yaml").read_text()
    assert template in load_connector(BUILTIN / key / "connector.yaml").request_templates
    assert text.count(f"use: {template}") == uses


def test_the_dry_run_lets_templates_read_args_and_checks_with_values() -> None:
    typo = SPEC.replace("{$var: input.nothing}", "{$var: inputs.nothing}")
    problems = "\n".join(dry_run(spec(typo)).problems)
    assert "operation teams: reads 'inputs.nothing'" in problems
    # The template's `{$var: args.query}` reads what `with` provides: not a problem.
    assert "reads 'args" not in problems
