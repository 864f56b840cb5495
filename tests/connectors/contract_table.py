"""The runtime contract's table: one representative request and one invalid input per connector.

`tests/connectors/test_runtime_contract.py` runs them; a new connector adds a line to each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Representative:
    """One request of a connector, and how its app says 'not found'."""

    collection: str
    not_found: Any = field(repr=False)
    message: str | None
    not_found_status: int = 404
    parameters: dict[str, Any] | None = None  # when sample values do not fit the schema


@dataclass(frozen=True)
class Invalid:
    """An operation input that breaks the connector's input schema, and where it does."""

    operation: str
    input: dict[str, Any]
    paths: set[str]


# One input per connector that breaks its schema in the ways its app would (patterns, enums,
# ranges, types, missing fields): every problem is listed, and nothing is sent.
INVALID: dict[str, Invalid] = {
    "airtable": Invalid(
        "create-records",
        {"baseId": "not-a-base", "tableIdOrName": "Tasks", "records": [{}] * 11},
        {"input.baseId", "input.records"},
    ),
    "asana": Invalid(
        "create-task",
        {"workspace": "1200000000000001", "due_on": "next friday"},
        {"input.name", "input.due_on"},
    ),
    "clickup": Invalid(
        "add-comment", {"taskId": "86b0x7k2q", "assignee": "me"}, {"input.text", "input.assignee"}
    ),
    "github": Invalid(
        "create-issue",
        {"owner": "octocat", "repo": "Hello-World", "labels": "bug"},
        {"input.title", "input.labels"},
    ),
    "gitlab": Invalid(
        "create-merge-request",
        {"projectId": 4, "sourceBranch": "feature/sso", "title": 7},
        {"input.targetBranch", "input.title"},
    ),
    "hubspot": Invalid(
        "search-records",
        {"objectType": "widgets", "limit": 500},
        {"input.objectType", "input.limit"},
    ),
    "intercom": Invalid(
        "reply-to-conversation",
        {"conversationId": "1911149811", "adminId": "7324512", "messageType": "shout"},
        {"input.body", "input.messageType"},
    ),
    "jira": Invalid(
        "create-issue",
        {"projectKey": "KAN", "issueType": "Task", "dueDate": "31/05/2024"},
        {"input.summary", "input.dueDate"},
    ),
    "linear": Invalid(
        "create-issue", {"title": "x", "priority": 9}, {"input.teamId", "input.priority"}
    ),
    "notion": Invalid(
        "query-database", {"filter": "Status = Done"}, {"input.databaseId", "input.filter"}
    ),
    "pipedrive": Invalid(
        "search-items",
        {"term": "a", "itemTypes": ["person", "invoice"]},
        {"input.term", "input.itemTypes[1]"},
    ),
    "salesforce": Invalid(
        "get-deleted-records",
        {"object": "Contact; DELETE", "end": 1719828000},
        {"input.object", "input.start", "input.end"},
    ),
    "slack": Invalid(
        "post-message",
        {"text": 42, "blocks": "none"},
        {"input.channel", "input.text", "input.blocks"},
    ),
    "stripe": Invalid(
        "create-payment-intent",
        {"amount": 0, "currency": "USD"},
        {"input.amount", "input.currency"},
    ),
    "trello": Invalid(
        "create-card", {"idList": "not-an-id", "pos": "middle"}, {"input.idList", "input.pos"}
    ),
    "zendesk": Invalid(
        "add-ticket-comment",
        {"ticketId": "35436", "status": "done"},
        {"input.ticketId", "input.body", "input.status"},
    ),
}


FIXTURES = Path(__file__).parent


def vendor(key: str, name: str) -> Any:
    """A response body recorded in the shape the vendor documents (`<key>/fixtures/`)."""
    return json.loads((FIXTURES / key / "fixtures" / f"{name}.json").read_text())


# Each app's not-found answer, and the part of it the error message must carry.
CONTRACT: dict[str, Representative] = {
    "airtable": Representative(
        "records",
        vendor("airtable", "error_not_found"),
        None,  # Airtable's bare `{"error": "NOT_FOUND"}` has no message to carry
        parameters={"baseId": "appLkNDICXNqxSDhG", "tableIdOrName": "Tasks"},
    ),
    "asana": Representative("tasks", vendor("asana", "error_not_found"), "Unknown object"),
    "clickup": Representative("tasks", vendor("clickup", "error_task_not_found"), "Task not found"),
    "github": Representative("issues", {"message": "Not Found"}, "Not Found"),
    "gitlab": Representative("issues", {"message": "404 Project Not Found"}, "Project Not Found"),
    "hubspot": Representative("contacts", vendor("hubspot", "error_not_found"), "Object not found"),
    "intercom": Representative("contacts", vendor("intercom", "error_not_found"), "User Not Found"),
    "jira": Representative(
        "issues",
        {"errorMessages": ["Issue does not exist or you do not have permission to see it."]},
        "Issue does not exist",
        parameters={"projectKey": "ENG"},
    ),
    # GraphQL: the error arrives in a 200.
    "linear": Representative(
        "issues",
        {
            "errors": [
                {
                    "message": "Entity not found: Issue",
                    "extensions": {"code": "ENTITY_NOT_FOUND", "type": "invalid input"},
                }
            ],
            "data": None,
        },
        "Entity not found",
        not_found_status=200,
    ),
    "notion": Representative(
        "database-pages", vendor("notion", "error_not_found"), "shared with your integration"
    ),
    "pipedrive": Representative(
        "persons", vendor("pipedrive", "error_not_found"), "Person not found"
    ),
    "salesforce": Representative(
        "contacts", vendor("salesforce", "error_not_found"), "The requested resource does not exist"
    ),
    # Slack answers errors in a 200 with `ok: false`.
    "slack": Representative(
        "channels",
        vendor("slack", "error_channel_not_found"),
        "channel_not_found",
        not_found_status=200,
    ),
    "stripe": Representative(
        "customers", vendor("stripe", "error_resource_missing"), "No such customer"
    ),
    # Trello answers errors in plain text, which carries no more than the status.
    "trello": Representative("cards", "The requested resource was not found.", None),
    "zendesk": Representative("tickets", vendor("zendesk", "error_not_found"), "Not found"),
}
