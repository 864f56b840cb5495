"""Records as the vendors return them, one per data collection that can be written.

`tests/connectors/test_writes.py` writes each back (create and update) and checks the request.
A record comes, in order of preference, from a response recorded in the vendor's documented
shape (`<connector>/fixtures/`), from the example the vendor's own OpenAPI description shows
for reading it, or, where neither exists, is synthesized from the collection's `fieldsSchema`
(every property, read-only ones included). A new writable collection adds a line here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.catalog import sample_value
from connectors.runtime.mapping import locate
from connectors.spec import DataCollection
from tests.connectors.request_schemas import example_response, load

FIXTURES = Path(__file__).resolve().parent

# Vendor descriptions in tests/connectors/specs/ (see its README); other vendors have none there.
DESCRIPTIONS = {
    "asana": "asana_oas.yaml",
    "github": "github_issues_pulls_subset.json",
    "intercom": "intercom_api_2.16.yaml",
    "jira": "jira_platform_v3.json",
    "slack": "slack_web_openapi_v2.json",
    "trello": "trello_unofficial.json",
}

# Writes the description cannot check, with why.
OUTSIDE_DESCRIPTION = {
    # GitHub's file is a subset without issue comments (see tests/connectors/specs/README.md).
    ("github", "issue-comments"),
}
# Card attributes Trello's current reference documents for POST/PUT /1/cards
# (developer.atlassian.com/cloud/trello/rest/api-group-cards) that the older unofficial
# description predates.
NEWER_THAN_DESCRIPTION = {"trello": {"start", "dueComplete"}}


@dataclass(frozen=True)
class Fixture:
    """A recorded response (`<connector>/fixtures/<name>.json`), at `locator`."""

    name: str
    locator: str | None = None

    def raw(self, connector: str, collection: DataCollection) -> Any:
        path = FIXTURES / connector / "fixtures" / f"{self.name}.json"
        return locate(json.loads(path.read_text()), self.locator)


@dataclass(frozen=True)
class Example:
    """The example answer the vendor's description gives for `GET template`, at `locator`."""

    template: str
    locator: str | None = None

    def raw(self, connector: str, collection: DataCollection) -> Any:
        answer = example_response(load(DESCRIPTIONS[connector]), self.template)
        return locate(answer, self.locator)


@dataclass(frozen=True)
class Synthesized:
    """No recorded response and no vendor example: every property of the fields schema."""

    def raw(self, connector: str, collection: DataCollection) -> Any:
        return sample_value(collection.fields_schema, "record")

    fields_only = True  # the value is the record's fields, not the app's JSON around them


Source = Fixture | Example | Synthesized


@dataclass(frozen=True)
class WriteRecord:
    """Where the record comes from, and what a data source of the collection is given."""

    source: Source
    parameters: dict[str, Any] = field(default_factory=dict)
    # What only a create takes and no record carries (whom a conversation is from...).
    create_only: dict[str, Any] = field(default_factory=dict)


AIRTABLE = {"baseId": "appLkNDICXNqxSDhG", "tableIdOrName": "Tasks"}

RECORDS: dict[tuple[str, str], WriteRecord] = {
    ("airtable", "records"): WriteRecord(Fixture("record_created"), AIRTABLE),
    ("airtable", "comments"): WriteRecord(
        Fixture("comments", "comments[0]"), {**AIRTABLE, "recordId": "recJ1iQ4qpGTHnjVo"}
    ),
    ("airtable", "tables"): WriteRecord(Synthesized(), {"baseId": AIRTABLE["baseId"]}),
    ("airtable", "bases"): WriteRecord(Synthesized()),
    ("asana", "tasks"): WriteRecord(Fixture("task_created", "data")),
    ("asana", "projects"): WriteRecord(Synthesized()),
    ("asana", "stories"): WriteRecord(Synthesized()),
    ("clickup", "tasks"): WriteRecord(Fixture("task")),
    ("clickup", "lists"): WriteRecord(Synthesized()),
    ("clickup", "spaces"): WriteRecord(Synthesized()),
    ("clickup", "folders"): WriteRecord(Synthesized()),
    ("github", "issues"): WriteRecord(Fixture("issue_created")),
    ("github", "pull-requests"): WriteRecord(
        Example("/repos/{owner}/{repo}/pulls/{pull_number}"),
    ),
    ("github", "issue-comments"): WriteRecord(Synthesized()),
    ("gitlab", "issues"): WriteRecord(Fixture("issue_created")),
    ("gitlab", "merge-requests"): WriteRecord(Synthesized()),
    ("gitlab", "issue-notes"): WriteRecord(Synthesized()),
    ("hubspot", "contacts"): WriteRecord(Fixture("contact_created")),
    ("hubspot", "companies"): WriteRecord(Synthesized()),
    ("hubspot", "deals"): WriteRecord(Synthesized()),
    ("hubspot", "notes"): WriteRecord(Synthesized()),
    ("hubspot", "tasks"): WriteRecord(Synthesized()),
    ("intercom", "contacts"): WriteRecord(Fixture("contact_created")),
    ("intercom", "companies"): WriteRecord(Fixture("companies_page1", "data[0]")),
    ("intercom", "conversations"): WriteRecord(
        Example("/conversations/{conversation_id}"),
        create_only={"from": {"type": "user", "id": "6762f0dd1bb69f9f2193bb83"}, "body": "Hi"},
    ),
    ("intercom", "tickets"): WriteRecord(
        Example("/tickets/{ticket_id}"),
        create_only={"ticket_type_id": "1234", "contacts": [{"id": "6762f0dd1bb69f9f2193bb83"}]},
    ),
    ("intercom", "notes"): WriteRecord(
        Example("/notes/{note_id}"), {"contactId": "6762f0dd1bb69f9f2193bb83"}
    ),
    ("jira", "issues"): WriteRecord(Fixture("search_page1", "issues[0]"), {"projectKey": "ENG"}),
    ("jira", "comments"): WriteRecord(
        Example("/rest/api/3/issue/{issueIdOrKey}/comment/{id}"), {"issueIdOrKey": "ENG-1"}
    ),
    ("jira", "projects"): WriteRecord(Example("/rest/api/3/project/{projectIdOrKey}")),
    ("linear", "issues"): WriteRecord(Fixture("issues_page1", "data.page.nodes[0]")),
    ("linear", "comments"): WriteRecord(Synthesized()),
    ("linear", "projects"): WriteRecord(Synthesized()),
    ("notion", "database-pages"): WriteRecord(
        Fixture("page_created"), {"databaseId": "d9824bdc84454327be8b5b47500af6ce"}
    ),
    ("notion", "databases"): WriteRecord(Synthesized()),
    ("notion", "blocks"): WriteRecord(Synthesized()),
    ("notion", "comments"): WriteRecord(Fixture("comment")),
    ("pipedrive", "persons"): WriteRecord(Fixture("persons_page1", "data[0]")),
    ("pipedrive", "organizations"): WriteRecord(Synthesized()),
    ("pipedrive", "deals"): WriteRecord(Fixture("deal_created", "data")),
    ("pipedrive", "activities"): WriteRecord(Synthesized()),
    ("pipedrive", "notes"): WriteRecord(Fixture("notes_page1", "data[0]")),
    ("salesforce", "contacts"): WriteRecord(Fixture("contact")),
    ("salesforce", "leads"): WriteRecord(Synthesized()),
    ("salesforce", "accounts"): WriteRecord(Synthesized()),
    ("salesforce", "opportunities"): WriteRecord(Fixture("opportunities_page1", "records[0]")),
    ("salesforce", "tasks"): WriteRecord(Synthesized()),
    ("slack", "channels"): WriteRecord(Fixture("conversations_list_page1", "channels[0]")),
    ("slack", "messages"): WriteRecord(
        Fixture("chat_post_message", "message"), {"channel": "C012AB3CD"}
    ),
    ("stripe", "customers"): WriteRecord(Fixture("customer_created")),
    ("stripe", "products"): WriteRecord(Synthesized()),
    ("stripe", "invoices"): WriteRecord(Synthesized(), {"customer": "cus_NffrFeUfNV2Hib"}),
    ("stripe", "subscriptions"): WriteRecord(Synthesized(), {"customer": "cus_NffrFeUfNV2Hib"}),
    ("trello", "boards"): WriteRecord(Synthesized()),
    ("trello", "lists"): WriteRecord(Synthesized(), {"boardId": "5abbe4b7ddc1b351ef961414"}),
    ("trello", "cards"): WriteRecord(Fixture("card"), {"boardId": "5abbe4b7ddc1b351ef961414"}),
    ("trello", "comments"): WriteRecord(
        Fixture("comments_page1", "[0]"), {"cardId": "5abbe4b7ddc1b351ef961414"}
    ),
    ("zendesk", "tickets"): WriteRecord(Fixture("ticket_created", "ticket")),
    ("zendesk", "users"): WriteRecord(Fixture("users_search", "users[0]")),
    ("zendesk", "organizations"): WriteRecord(Fixture("organization", "organization")),
}
