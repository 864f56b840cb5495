"""Importing the vendors' own descriptions: every operation, their auth, their quirks."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft7Validator

from connectors.openapi import ImportResult, build_connector
from connectors.spec import ApiKeyOption, BasicOption, CustomOption, OAuth2Option

Imported = Callable[[str], ImportResult]
Documents = Callable[[str], dict[str, Any]]
WITH_PATHS = ["asana", "slack", "intercom", "jira", "github", "xero"]
# Draft 7's meta-schema catches what OpenAPI 3.0 spells differently (boolean
# `exclusiveMaximum`, `nullable`, `required: true`) at a fifth of the cost of 2020-12's.
META = Draft7Validator(Draft7Validator.META_SCHEMA)
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def property_names(schema: dict[str, Any]) -> set[str]:
    """Properties of a schema, through `allOf` composition."""
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= property_names(part)
    return names


def operation_count(document: dict[str, Any]) -> int:
    return sum(1 for item in document["paths"].values() for method in item if method in METHODS)


@pytest.mark.parametrize(
    ("name", "skipped"),
    [
        ("asana", {}),
        ("slack", {}),
        ("intercom", {}),
        ("github", {}),
        # Image uploads declared as `*/*` with no schema.
        ("jira", {"request body is */*, which operations cannot send": 3}),
        # Attachment uploads.
        ("xero", {"request body is application/octet-stream, which operations cannot send": 22}),
    ],
)
def test_every_operation_is_imported_or_skipped_with_its_reason(
    imported: Imported, document: Documents, name: str, skipped: dict[str, int]
) -> None:
    result = imported(name)
    assert Counter(s.reason for s in result.skipped) == skipped
    total = operation_count(document(name))
    assert len(result.connector.operations) == total - sum(skipped.values())
    assert all(len(op.key) <= 64 for op in result.connector.operations)


@pytest.mark.parametrize("name", WITH_PATHS)
def test_no_ref_is_left_and_every_schema_is_valid_json_schema(
    imported: Imported, name: str
) -> None:
    connector = imported(name).connector
    dumped = json.dumps(connector.model_dump(mode="json", by_alias=True))
    assert '"$ref"' not in dumped
    for operation in connector.operations:
        assert META.is_valid(operation.input_schema), operation.key
        if operation.output_schema is not None:
            assert META.is_valid(operation.output_schema), operation.key


def test_importing_is_repeatable_and_leaves_the_description_alone(document: Documents) -> None:
    original = document("github")
    untouched = copy.deepcopy(original)
    first = build_connector(original, "oas-github")
    assert build_connector(original, "oas-github").connector == first.connector
    assert original == untouched


def test_github_issue_creation(imported: Imported) -> None:
    connector = imported("github").connector
    create = connector.operation("issues-create")
    assert create is not None and not create.read_only
    assert create.request.method == "POST"
    assert create.request.path == "/repos/{{ input.owner }}/{{ input.repo }}/issues"
    assert create.input_schema["required"] == ["owner", "repo", "title"]
    assert create.request.body["title"] == {"$var": "input.title"}
    assert create.docs_url == "https://docs.github.com/rest/issues/issues#create-an-issue"
    assert create.output_schema is not None and "number" in create.output_schema["properties"]
    listing = connector.operation("issues-list-for-repo")
    assert listing is not None and listing.read_only
    assert listing.request.query["state"] == {"$var": "input.state"}
    assert connector.api.base_url == "https://api.github.com"
    # No security schemes in this subset: a custom option that adds nothing, tested on /user.
    (auth,) = connector.auth
    assert isinstance(auth, CustomOption) and auth.input_schema is None
    assert auth.apply is not None and auth.apply.headers == {}
    assert auth.test is not None and auth.test.path == "/user"


def test_asana_bearer_token_and_oauth2_with_the_scopes_operations_need(imported: Imported) -> None:
    connector = imported("asana").connector
    token, oauth = connector.auth
    assert isinstance(token, ApiKeyOption) and token.key == "personal-access-token"
    assert token.apply is not None
    assert token.apply.headers == {"Authorization": "Bearer {{ inputs.apiKey }}"}
    assert token.input_schema is not None and token.input_schema["required"] == ["apiKey"]
    assert isinstance(oauth, OAuth2Option)
    assert oauth.authorize_url == "https://app.asana.com/-/oauth_authorize"
    assert oauth.token_url == "https://app.asana.com/-/oauth_token"
    assert {"tasks:read", "tasks:write", "projects:read"} <= set(oauth.scopes)
    assert "openid" not in oauth.scopes  # listed by the flow, required by no operation
    assert connector.api.base_url == "https://app.asana.com/api/1.0"


def test_asana_dotted_and_comma_separated_query_parameters(imported: Imported) -> None:
    search = imported("asana").connector.operation("search-tasks-for-workspace")
    assert search is not None
    assert search.request.path == "/workspaces/{{ input.workspace_gid }}/tasks/search"
    # The API's own names are the input names; the locator escapes the dot.
    assert "assignee.any" in search.input_schema["properties"]
    assert search.request.query["assignee.any"] == {"$var": "input.assignee\\.any"}
    # `explode: false` arrays are sent as `a,b`.
    assert search.request.query["opt_fields"] == {
        "$firstNotEmpty": [
            {"$concat": {"values": [{"$var": "input.opt_fields"}], "delimiter": ","}}
        ]
    }


def test_asana_data_envelope_becomes_one_input(imported: Imported) -> None:
    create = imported("asana").connector.operation("create-task")
    assert create is not None
    assert create.request.body == {"data": {"$var": "input.data"}}
    data = create.input_schema["properties"]["data"]
    assert {"name", "notes", "assignee", "projects"} <= property_names(data)


def test_slack_swagger2_oauth_form_bodies_and_token_parameters(imported: Imported) -> None:
    connector = imported("slack").connector
    assert connector.api.base_url == "https://slack.com/api"
    (oauth,) = connector.auth
    assert isinstance(oauth, OAuth2Option)
    assert oauth.authorize_url == "https://slack.com/oauth/authorize"
    assert oauth.token_url == "https://slack.com/api/oauth.access"
    assert {"chat:write:bot", "channels:read", "users:read"} <= set(oauth.scopes)
    assert oauth.test is not None and oauth.test.path == "/auth.test"
    post = connector.operation("chat-post-message")
    assert post is not None
    assert (post.request.method, post.request.path) == ("POST", "/chat.postMessage")
    assert post.request.body_format == "form"
    assert post.request.body["channel"] == {"$var": "input.channel"}
    assert post.input_schema["required"] == ["channel"]
    assert post.docs_url == "https://api.slack.com/methods/chat.postMessage"
    # Slack repeats the OAuth token as a `token` header/query/form parameter: the auth
    # option sends it, so no operation asks for it.
    for operation in connector.operations:
        assert "token" not in operation.input_schema["properties"], operation.key
        assert "token" not in operation.request.query, operation.key


def test_intercom_bearer_token_and_version_header(imported: Imported, document: Documents) -> None:
    connector = imported("intercom").connector
    (token,) = connector.auth
    assert isinstance(token, ApiKeyOption) and token.apply is not None
    assert token.apply.headers == {"Authorization": "Bearer {{ inputs.apiKey }}"}
    assert token.test is not None and token.test.path == "/me"
    assert connector.api.base_url == "https://api.intercom.io"  # the first of three servers
    me = connector.operation("identify-admin")
    assert me is not None and me.read_only
    assert me.request.headers == {"Intercom-Version": {"$var": "input.Intercom-Version"}}
    assert "2.16" in me.input_schema["properties"]["Intercom-Version"]["enum"]
    # Operations without an operationId get a key from their method and path.
    without_id = [
        f"{method} {path}"
        for path, item in document("intercom")["paths"].items()
        for method, operation in item.items()
        if method in METHODS and "operationId" not in operation
    ]
    assert len(without_id) == 4
    keys = {op.key for op in connector.operations}
    assert all(
        line.replace(" /", "-")
        .replace("/", "-")
        .replace("{", "")
        .replace("}", "")
        .replace("_", "-")
        .lower()
        in keys
        for line in without_id
    )


def test_jira_oauth2_and_basic(imported: Imported) -> None:
    connector = imported("jira").connector
    oauth, basic = connector.auth
    assert isinstance(oauth, OAuth2Option) and isinstance(basic, BasicOption)
    assert oauth.authorize_url == "https://auth.atlassian.com/authorize"
    assert oauth.token_url == "https://auth.atlassian.com/oauth/token"
    # The classic scopes operations require, not the flow's 183 granular ones.
    assert sorted(oauth.scopes) == sorted(
        [
            "manage:jira-configuration",
            "manage:jira-project",
            "manage:jira-webhook",
            "read:jira-user",
            "read:jira-work",
            "write:jira-work",
        ]
    )
    assert basic.input_schema is not None
    assert basic.input_schema["required"] == ["username", "password"]
    assert basic.test is not None and basic.test.path == "/rest/api/3/myself"
    issue = connector.operation("get-issue")
    assert issue is not None
    assert issue.request.path == "/rest/api/3/issue/{{ input.issueIdOrKey }}"


def test_xero_request_body_refs_and_tenant_header(imported: Imported) -> None:
    connector = imported("xero").connector
    (oauth,) = connector.auth
    assert isinstance(oauth, OAuth2Option)
    assert oauth.token_url == "https://identity.xero.com/connect/token"
    # Every GET needs the tenant header, so there is no parameterless credential test.
    assert oauth.test is None
    create = connector.operation("create-invoices")
    assert create is not None
    assert create.request.method == "PUT"
    assert create.request.headers["xero-tenant-id"] == {"$var": "input.xero-tenant-id"}
    assert "xero-tenant-id" in create.input_schema["required"]
    # `requestBody: {$ref: '#/components/requestBodies/...'}` resolved to the invoices schema.
    invoices = create.input_schema["properties"]["Invoices"]
    assert invoices["type"] == "array" and "InvoiceID" in invoices["items"]["properties"]


def test_webhook_only_description_gives_a_connector_without_operations(
    imported: Imported,
) -> None:
    connector = imported("xero-webhooks").connector
    assert connector.operations == []
    assert connector.api.base_url == "https://api.xero.com"
    assert [option.type for option in connector.auth] == ["custom"]
