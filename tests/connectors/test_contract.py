"""Vendor contract: every request a connector can make is one its vendor's OpenAPI declares.

Requests come from `connectors.catalog.dry_run` (operations, collection methods with the
pagination parameters they add, auth test requests, webhook subscribe/unsubscribe), rendered
with placeholder values. Each must match an operation of the vendor's description: the same
HTTP method, a path template where `{x}` matches one segment (after the base URL's path prefix
is matched against the description's server path), and only query parameters the operation
declares (its own, its path's, `$ref`'d ones, and API keys the description sends in the query).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from connectors.catalog import PlannedRequest, dry_run, sample_context
from connectors.registry import BUILTIN, load_connector
from connectors.runtime.templates import render
from connectors.spec import ConnectorSpec
from tests.connectors.request_schemas import query_auth, relative_paths, server_paths

DESCRIPTIONS = Path(__file__).resolve().parent / "specs"
VENDORS = {
    "asana": "asana_oas.yaml",
    "github": "github_issues_pulls_subset.json",
    "intercom": "intercom_api_2.16.yaml",
    "jira": "jira_platform_v3.json",
    "slack": "slack_web_openapi_v2.json",
}
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# The GitHub description is a subset (issues, pulls, /user, /rate_limit). Requests outside it
# are allowed only when listed here: (method, path template as in GitHub's REST reference), with
# the endpoint's name there. Their query parameters cannot be checked.
GITHUB_OUTSIDE_SUBSET = {
    # "List issue comments" (docs.github.com/en/rest/issues/comments#list-issue-comments)
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    # "Create an issue comment" (#create-an-issue-comment)
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    # "Get an issue comment" (#get-an-issue-comment)
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    # "Update an issue comment" (#update-an-issue-comment)
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    # "Delete an issue comment" (#delete-an-issue-comment)
    ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    # "Create a repository webhook"
    # (docs.github.com/en/rest/repos/webhooks#create-a-repository-webhook)
    ("POST", "/repos/{owner}/{repo}/hooks"),
    # "Delete a repository webhook" (#delete-a-repository-webhook)
    ("DELETE", "/repos/{owner}/{repo}/hooks/{hook_id}"),
}


@dataclass(frozen=True)
class PathItem:
    template: str
    pattern: re.Pattern[str]
    literal_segments: int
    query: dict[str, frozenset[str]]  # method (upper case) -> declared query parameter names


class Description:
    """The parts of an OpenAPI (3.x or Swagger 2.0) description a request is checked against."""

    def __init__(self, name: str, document: dict[str, Any]) -> None:
        self.name = name
        self.document = document
        self.server_paths = server_paths(document)
        self.query_auth = query_auth(document)
        items = [self._item(template, item) for template, item in document["paths"].items()]
        self.paths = sorted(items, key=lambda item: -item.literal_segments)

    @classmethod
    def load(cls, path: Path) -> Description:
        with path.open() as file:
            if path.suffix == ".json":
                return cls(path.name, json.load(file))
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            return cls(path.name, yaml.load(file, Loader=loader))

    def _resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _query(self, *parameter_lists: list[Any]) -> frozenset[str]:
        parameters = [self._resolve(p) for params in parameter_lists for p in params]
        return frozenset(p["name"] for p in parameters if p.get("in") == "query")

    def _item(self, template: str, item: dict[str, Any]) -> PathItem:
        segments = template.strip("/").split("/")
        shared = item.get("parameters", [])
        return PathItem(
            template=template,
            pattern=template_pattern(template),
            literal_segments=sum("{" not in segment for segment in segments),
            query={
                method.upper(): self._query(shared, item[method].get("parameters", []))
                for method in HTTP_METHODS
                if method in item
            },
        )

    def matches(self, path: str) -> list[PathItem]:
        """Path items whose template matches `path` (relative to the server), most literal first."""
        return [item for item in self.paths if item.pattern.match(path)]

    def relative_paths(self, path: str, base_path: str) -> list[str]:
        """Where `path` may sit relative to the description's servers, best guess first."""
        return relative_paths(path, base_path, self.server_paths)


@dataclass
class Findings:
    violations: list[str]
    outside_description: list[str]

    def message(self, key: str, description: Description) -> str:
        parts = [f"{key} does not keep to {description.name}:"]
        if self.violations:
            parts += ["violations:", *(f"  {line}" for line in self.violations)]
        if self.outside_description:
            parts += [
                "paths the description does not contain (and not in the allowlist):",
                *(f"  {line}" for line in self.outside_description),
            ]
        return "\n".join(parts)


def _base_path(spec: ConnectorSpec, auth_key: str) -> str:
    option = spec.auth_option(auth_key)
    assert option is not None
    template = sample_context(spec, option).template_context()
    return urlsplit(render(spec.api.base_url, template)).path.rstrip("/")


def template_pattern(template: str) -> re.Pattern[str]:
    """A path template as a regex: `{x}` matches within one segment, the rest literally."""
    parts = re.split(r"\{[^}/]+\}", template.rstrip("/"))
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "/?$")


def _allowlisted(method: str, path: str) -> bool:
    return any(
        allowed == method and template_pattern(template).match(path)
        for allowed, template in GITHUB_OUTSIDE_SUBSET
    )


def check_request(
    planned: PlannedRequest, description: Description, base_path: str, findings: Findings
) -> None:
    """Adds what is wrong with one request to `findings` (nothing when it keeps to the contract)."""
    request = planned.request
    method = request.method
    path = request.url.raw_path.decode().split("?", 1)[0]
    label = f"{method} {path} ({planned.source})"
    for relative in description.relative_paths(path, base_path):
        items = description.matches(relative)
        if not items:
            continue
        item = next((item for item in items if method in item.query), None)
        if item is None:
            declared = sorted({m for item in items for m in item.query})
            findings.violations.append(
                f"{label} → {items[0].template} declares only {', '.join(declared)}"
            )
            return
        sent = set(request.url.params.keys())
        undeclared = sorted(sent - item.query[method] - description.query_auth)
        if undeclared:
            findings.violations.append(
                f"{label} → query parameters {undeclared} are not declared by "
                f"{method} {item.template} (declared: {sorted(item.query[method])})"
            )
        return
    if description.name == VENDORS["github"] and _allowlisted(method, path):
        return
    findings.outside_description.append(f"{label} → no path of {description.name} matches")


@pytest.fixture(scope="module")
def vendor(request: pytest.FixtureRequest) -> tuple[str, Description]:
    """The vendor's key and its description, loaded once per module (Asana's takes a second)."""
    key = request.param
    path = DESCRIPTIONS / VENDORS[key]
    assert path.exists(), f"the vendor description {path} is missing"
    return key, Description.load(path)


def builtin_connector(key: str) -> ConnectorSpec:
    return load_connector(BUILTIN / key / "connector.yaml")


def check_connector(spec: ConnectorSpec, description: Description) -> Findings:
    """Checks every distinct request of the connector's dry run (and reports unrenderable ones)."""
    run = dry_run(spec)
    findings = Findings([f"cannot be rendered: {problem}" for problem in run.problems], [])
    seen: set[tuple[str, str, frozenset[str]]] = set()
    for planned in run.requests:
        url = planned.request.url
        identity = (planned.request.method, url.raw_path.decode(), frozenset(url.params.keys()))
        if identity not in seen:
            seen.add(identity)
            check_request(planned, description, _base_path(spec, planned.auth_key), findings)
    return findings


@pytest.mark.parametrize("vendor", sorted(VENDORS), indirect=True)
def test_every_request_matches_the_vendor_description(vendor: tuple[str, Description]) -> None:
    key, description = vendor
    spec = builtin_connector(key)
    findings = check_connector(spec, description)
    assert not findings.violations and not findings.outside_description, findings.message(
        key, description
    )


@pytest.mark.parametrize("vendor", ["github"], indirect=True)
def test_github_allowlist_names_only_paths_outside_the_subset(
    vendor: tuple[str, Description],
) -> None:
    _, description = vendor
    inside = [
        f"{method} {template}"
        for method, template in sorted(GITHUB_OUTSIDE_SUBSET)
        if description.matches(re.sub(r"\{[^}]+\}", "x", template))
    ]
    assert not inside, (
        f"these are in the subset, so they must be checked, not allowlisted: {inside}"
    )


TINY_DESCRIPTION = """
servers: [{url: "https://api.example.com/v1"}]
paths:
  /tasks/{task_id}:
    parameters: [{$ref: "#/components/parameters/fields"}]
    get: {parameters: [{name: limit, in: query}]}
  /tasks/search: {post: {}}
components: {parameters: {fields: {name: opt_fields, in: query}}}
"""
TINY_CONNECTOR = """
key: tiny
name: Tiny
auth: [{key: token, type: oauth2, authorizeUrl: "https://a.test", tokenUrl: "https://t.test"}]
api: {baseUrl: "https://api.example.com/v1"}
operations:
  - key: get-task
    name: Get a task
    inputSchema: {type: object, required: [id], properties: {id: {type: string}}}
    request: {path: "/tasks/{{ input.id }}", query: {opt_fields: name, limit: 5}}
  - {key: search, name: Search, request: {method: POST, path: /tasks/search}}
  - {key: sorted, name: Sorted, request: {path: /tasks/1, query: {sort: asc}}}
  - {key: remove, name: Remove, request: {method: DELETE, path: /tasks/1}}
  - {key: projects, name: Projects, request: {path: /projects}}
"""


def test_the_checker_reports_wrong_methods_paths_and_parameters() -> None:
    description = Description("tiny.yaml", yaml.safe_load(TINY_DESCRIPTION))
    spec = ConnectorSpec.model_validate(yaml.safe_load(TINY_CONNECTOR))
    findings = check_connector(spec, description)
    assert sorted(findings.violations) == [
        "DELETE /v1/tasks/1 (operation remove) → /tasks/{task_id} declares only GET",
        "GET /v1/tasks/1 (operation sorted) → query parameters ['sort'] are not declared by "
        "GET /tasks/{task_id} (declared: ['limit', 'opt_fields'])",
    ]
    assert findings.outside_description == [
        "GET /v1/projects (operation projects) → no path of tiny.yaml matches"
    ]
