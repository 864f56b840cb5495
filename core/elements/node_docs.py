"""What docs/nodes.md says about each node type, beyond what its config schema says.

The schemas (core/elements/node_schemas.py) give each config field's type, whether it is
required and which values it accepts; this module gives the words: what a field means, whether
the node evaluates it as a formula, its default, the node's output and a minimal example.
core/elements/node_reference.py joins the two into docs/nodes.md, and tests check that every
node type and every config field of its schema is described here, and that every example is a
valid flow node.

It lives in core, next to the schemas, because it is data about them: the generator must not
import the node implementations (workflows/nodes/), which core may not import.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

Value = Literal["formula", "literal", "conditions", "set-by-osmo"]
"""How a node reads a config field:

- `formula`: evaluated over the node's variables (a constant is a formula too);
- `literal`: read as written (a key, a method), never evaluated;
- `conditions`: a filter (`{field, operator, value}`, `$and`/`$or` lists) tested over the
  node's variables;
- `set-by-osmo`: filled in by Osmo when the run starts; do not write it.
"""


@dataclass(frozen=True)
class FieldDoc:
    """One config field of one node type."""

    meaning: str
    value: Value = "formula"
    default: str | None = None
    """What the node does without the field, in words (None: required, or nothing)."""
    used: bool = True
    """False for fields a shared schema accepts but this node ignores."""


@dataclass(frozen=True)
class NodeDoc:
    """One node type: what it does, what it outputs, a minimal example."""

    summary: str
    output: str
    example: dict[str, Any]
    """The node as written under `nodes` in a flow (type and config; links are added)."""
    fields: dict[str, FieldDoc] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    """Keys the node itself fails with (docs/errors.md), besides the connector's."""


VARIABLES: dict[str, str] = {
    "input.<nodeKey>": (
        "The output of each node on the path from the trigger to this node, by node key "
        "(`input.<triggerKey>` is the run's input). Inside a `for-each`, `input.<forEachKey>` "
        "is the current item."
    ),
    "flowInstance.id": "The flow instance the run belongs to.",
    "flowInstance.parameters": (
        "The flow instance's parameters (checked against the flow's `parametersSchema`)."
    ),
    "connection.id": "The run's connection (null when the run has none).",
    "customer.id": "Osmo's id of the run's customer.",
    "customer.tenantKey": "Your id of the run's customer (the token's `tenantKey`).",
    "integration.key": "The integration of the run's connection.",
    "flowRun.id": "The flow run's id (its Temporal workflow id).",
}
"""The variables every node's formulas see in a flow run (workflows/interpreter.py builds
them), by locator."""

ACTION_VARIABLES: dict[str, str] = {
    "input": "The action's input, checked against its `inputSchema`.",
    "connection.id": "The connection the action runs on.",
    "customer.id": "Osmo's id of the connection's customer.",
    "customer.tenantKey": "Your id of the connection's customer.",
    "integration.key": "The integration of the connection.",
}
"""What the config of an action's node sees instead (workflows/nodes/run_action.py)."""

RECORD = "`{id, name, fields, createdTime, updatedTime}`"
"""A data record in Osmo's shape (connectors/runtime/collections.py `parse_record`)."""

HTTP_OUTPUT = (
    "`{status, headers, body}`: the response's status, headers (secret-named ones masked) and "
    "body (JSON when it parses, else text)."
)


def _request_fields(target: str) -> dict[str, FieldDoc]:
    return {
        "method": FieldDoc("The HTTP method.", "literal", "`GET`"),
        "headers": FieldDoc("Request headers: an object of strings."),
        "query": FieldDoc("Query parameters: an object of strings."),
        "body": FieldDoc(f"The JSON body sent to {target}."),
    }


_COLLECTION = {
    "collectionKey": FieldDoc(
        "The data collection of the connection's connector (`contacts`).", "literal"
    ),
    "dataSourceKey": FieldDoc(
        "A data source element instead of `collectionKey`: Osmo resolves the connection's "
        "instance of it into `collectionKey` and `parameters` when the run starts.",
        "literal",
    ),
    "parameters": FieldDoc("The collection's parameters (its `parametersSchema`).", default="`{}`"),
}
_RECORD_FIELDS = {
    "id": FieldDoc("The record's id in the external app."),
    "fields": FieldDoc("The record's fields, as the collection's `fieldsSchema` names them."),
    "query": FieldDoc("Field values to match, e.g. `{email: ...}`."),
    "cursor": FieldDoc(
        "The `cursor` a previous page answered: the page after it.", default="the first page"
    ),
}


def _data_record(summary: str, used: tuple[str, ...], output: str, **config: Any) -> NodeDoc:
    fields = {
        **_COLLECTION,
        **{
            name: doc if name in used else FieldDoc(doc.meaning, doc.value, used=False)
            for name, doc in _RECORD_FIELDS.items()
        },
    }
    return NodeDoc(
        summary=summary,
        fields=fields,
        output=output,
        example={"type": "", "config": {"collectionKey": "contacts", **config}},
        notes=(
            "Runs through the run's connection; errors follow the connector's normalization "
            "(`not_found`, `rate_limit_exceeded` waits `Retry-After`, 5xx and network errors "
            "retry), and `method_not_supported` when the collection lacks the method.",
        ),
        errors=("connection_required",),
    )


_PAGES = {
    "pages": FieldDoc(
        "`one`: one page per run of the node. `all`: every page, one node run and one output "
        "per page in the same shape; each page's sub-graph finishes before the next page is "
        "fetched, so a run holds one page at a time and may continue as new between pages.",
        "literal",
        "`one`",
    ),
    "limit": FieldDoc(
        "With `pages: all`, the most records to output in all; the page that reaches it is cut "
        "short, and its `cursor` is then null.",
        "literal",
        "every record",
    ),
}


def _paged(doc: NodeDoc) -> NodeDoc:
    """List and search also read every page (`pages: all`), up to a `limit`."""
    return replace(doc, fields={**doc.fields, **_PAGES})


_DATA_RECORDS: dict[str, NodeDoc] = {
    "list-data-records": _paged(
        _data_record(
            "Lists one page of a data collection's records, or every page in turn.",
            ("cursor",),
            f"`{{records: [record], cursor}}`, each record {RECORD}; `cursor` is null on the "
            "last page, otherwise pass it back as `cursor` for the next page. With "
            "`pages: all`, one such output per page.",
        )
    ),
    "search-data-records": _paged(
        _data_record(
            "Searches a data collection: one page of the records matching `query`, or every "
            "page in turn.",
            ("query", "cursor"),
            f"`{{records: [record], cursor}}`, each record {RECORD}, as `list-data-records`.",
            query={"email": {"$var": "input.start.email"}},
        )
    ),
    "lookup-data-record": _data_record(
        "Finds the first record matching `query` (the collection's `match` method).",
        ("query",),
        f"`{{record}}`: the record {RECORD}, or `{{record: null}}` when nothing matches.",
        query={"email": {"$var": "input.start.email"}},
    ),
    "find-data-record-by-id": _data_record(
        "Reads one record by its id.",
        ("id",),
        f"`{{record}}`: the record {RECORD}.",
        id={"$var": "input.start.contactId"},
    ),
    "create-data-record": _data_record(
        "Creates a record.",
        ("fields",),
        f"`{{record}}`: the created record {RECORD} as the app answered it (null when it "
        "answered no body).",
        fields={"email": {"$var": "input.start.email"}},
    ),
    "update-data-record": _data_record(
        "Updates a record's fields.",
        ("id", "fields"),
        f"`{{record}}`: the updated record {RECORD} as the app answered it (null when it "
        "answered no body).",
        id={"$var": "input.start.contactId"},
        fields={"firstname": "Ada"},
    ),
    "delete-data-record": _data_record(
        "Deletes a record.",
        ("id",),
        "`{}`.",
        id={"$var": "input.start.contactId"},
    ),
    "find-or-create-data-record": _data_record(
        "Finds the first record matching `query`; creates one from `fields` when none does.",
        ("query", "fields"),
        f"`{{record, created}}`: the record found or created {RECORD}, and `created` "
        "(true when it was created).",
        query={"email": {"$var": "input.start.email"}},
        fields={"email": {"$var": "input.start.email"}},
    ),
}
for _type, _doc in _DATA_RECORDS.items():
    _doc.example["type"] = _type


def _data_link(summary: str, output: str, config: dict[str, Any], both: bool) -> NodeDoc:
    which = "" if both else " (find and delete need at least one of the two ids)"
    return NodeDoc(
        summary=summary,
        fields={
            "dataLinkTable": FieldDoc("The key of the data link table.", "literal"),
            "appRecordId": FieldDoc(f"The record's id in your app{which}."),
            "externalRecordId": FieldDoc(f"The record's id in the external app{which}."),
            **(
                {
                    "direction": FieldDoc(
                        "Which way the link syncs: `import`, `export` or `both`.",
                        "literal",
                        "`both`",
                    )
                }
                if both
                else {}
            ),
        },
        output=output,
        example={"type": "", "config": {"dataLinkTable": "contacts", **config}},
        notes=(
            "Uses the run's connection; the table must exist (`data_link_table_not_found`). An "
            "id that is configured but evaluates to nothing fails the node rather than widening "
            "what it matches.",
        ),
        errors=("data_link_record_missing", "connection_required"),
    )


_DATA_LINKS: dict[str, NodeDoc] = {
    "create-data-link": _data_link(
        "Links a record of your app to a record of the external app.",
        "`{id, appRecordId, externalRecordId, direction}`: the link. A record already linked "
        "the other way fails the node with `data_link_exists`.",
        {
            "appRecordId": {"$var": "input.start.id"},
            "externalRecordId": {"$var": "input.start.externalId"},
        },
        both=True,
    ),
    "find-data-link": _data_link(
        "Finds the oldest link of a record.",
        "The link `{id, appRecordId, externalRecordId, direction}`, or `{}` when there is "
        "none: the run goes on either way, and a link filter such as `{field: "
        "input.<node>.externalRecordId, operator: is_empty}` picks the branch.",
        {"appRecordId": {"$var": "input.start.id"}},
        both=False,
    ),
    "delete-data-link": _data_link(
        "Deletes the links of a record.",
        "`{deleted: <count>}` (0 is not an error).",
        {"appRecordId": {"$var": "input.start.id"}},
        both=False,
    ),
}
for _type, _doc in _DATA_LINKS.items():
    _doc.example["type"] = _type


_EVENT_FILTER_DOC = FieldDoc(
    "Conditions over the event (`event`): only events they match start a run.",
    "conditions",
    "every event starts a run",
)
_RECORD_EVENT_OUTPUT = (
    "The event: `{type, eventId, subscriptionId, recordId, record, payload}`: `record` is the "
    "record in Osmo's shape when the app sent or Osmo read it, `payload` what the app sent "
    "(a webhook's event), if anything."
)


def _record_trigger(name: str, what: str) -> NodeDoc:
    return NodeDoc(
        summary=(
            f"Starts a run for each record {what} in the external app, on every enabled "
            "instance of the flow. Enabling an instance subscribes its connection to the "
            "collection's events: through the app's webhooks where the connector registers "
            "them, else by polling changes (`pull-latest-records`) or by diffing full scans "
            "(docs/events.md)."
        ),
        output=_RECORD_EVENT_OUTPUT,
        example={"type": name, "config": {"collectionKey": "contacts"}},
        fields={
            "collectionKey": _COLLECTION["collectionKey"],
            "dataSourceKey": _COLLECTION["dataSourceKey"],
            "parameters": FieldDoc(
                "The collection's parameters (its `parametersSchema`).",
                "literal",
                "the data source's, else `{}`",
            ),
            "filter": _EVENT_FILTER_DOC,
            "pullIntervalSeconds": FieldDoc(
                "Seconds between polls, when the events are polled.",
                "literal",
                "the data source's `pullIntervalSeconds`, else the connector's interval",
            ),
        },
    )


_TRIGGER_DOCS: dict[str, NodeDoc] = {
    "schedule-trigger": NodeDoc(
        summary=(
            "Starts a run on a schedule: each enabled instance of the flow gets a Temporal "
            "Schedule, paused when the instance is disabled and deleted with it."
        ),
        output="`{scheduledTime}`: when the run was due (ISO 8601).",
        example={"type": "schedule-trigger", "config": {"cron": "0 9 * * 1-5"}},
        fields={
            "cron": FieldDoc("A cron expression (5 fields).", "literal"),
            "intervalSeconds": FieldDoc("Instead of `cron`: seconds between runs.", "literal"),
            "timezone": FieldDoc("IANA time zone of `cron`.", "literal", "UTC"),
            "overlap": FieldDoc(
                "A run due while the previous one still runs: `skip` it, `buffer-one` / "
                "`buffer-all` (start after), `cancel-other`, or `allow-all`.",
                "literal",
                "`skip`",
            ),
            "catchupWindowSeconds": FieldDoc(
                "Runs missed while Osmo was down start afterwards if due within this window.",
                "literal",
                "300",
            ),
        },
    ),
    "app-event-trigger": NodeDoc(
        summary=(
            "Starts a run when the product sends an app event of this type for the "
            "connection's customer (`POST /app-events/{typeKey}`)."
        ),
        output="The event: `{type, appEventId, payload}`.",
        example={"type": "app-event-trigger", "config": {"appEventType": "task-created"}},
        fields={
            "appEventType": FieldDoc("The app event type's key.", "literal"),
            "filter": _EVENT_FILTER_DOC,
        },
    ),
    "data-record-created-trigger": _record_trigger("data-record-created-trigger", "created"),
    "data-record-updated-trigger": _record_trigger("data-record-updated-trigger", "updated"),
    "data-record-deleted-trigger": _record_trigger("data-record-deleted-trigger", "deleted"),
    "connector-event-trigger": NodeDoc(
        summary=(
            "Starts a run for each webhook event of a type the app sends (any event the "
            "connector's webhooks deliver, not only record changes)."
        ),
        output="The event: `{type, eventId, subscriptionId, eventType, payload}`.",
        example={"type": "connector-event-trigger", "config": {"eventType": "*"}},
        fields={
            "eventType": FieldDoc(
                "The app's event type (the connector's `webhooks.eventTypePath`), or `*`.",
                "literal",
            ),
            "filter": _EVENT_FILTER_DOC,
        },
    ),
}


NODE_DOCS: dict[str, NodeDoc] = {
    "api-trigger": NodeDoc(
        summary=(
            "Starts a run through the API: `POST /flows/{selector}/run` (or "
            "`/connections/{id}/flows/{selector}/run`) with `{input}`."
        ),
        output="The run's input (the request's `input`).",
        example={"type": "api-trigger"},
    ),
    **_TRIGGER_DOCS,
    "transform-data": NodeDoc(
        summary="Builds a value from formulas (pure: no I/O, evaluated in workflow code).",
        fields={"value": FieldDoc("The output: any JSON with formulas inside.")},
        output="The evaluated `value` (undefined becomes null).",
        example={
            "type": "transform-data",
            "config": {
                "value": {"email": {"$var": "input.start.email"}, "source": "osmo"},
            },
        },
    ),
    "filter": NodeDoc(
        summary="Passes its input on only when the conditions hold.",
        fields={"filter": FieldDoc("The conditions.", "conditions")},
        output=(
            "The output of the node before it, unchanged, when the conditions hold; nothing "
            "otherwise (the branch stops there)."
        ),
        example={
            "type": "filter",
            "config": {
                "filter": {"field": "input.start.email", "operator": "is_not_empty"},
            },
        },
    ),
    "for-each": NodeDoc(
        summary=(
            "Continues along its links once per item of a list; the node's `concurrency` runs "
            "that many items' sub-graphs at a time (one after another by default)."
        ),
        fields={"items": FieldDoc("The list.")},
        output=(
            "One output per item (so the nodes after it see `input.<forEachKey>` as the "
            "current item); none when `items` is null or undefined."
        ),
        example={
            "type": "for-each",
            "config": {"items": {"$var": "input.start.items"}},
            "concurrency": 3,
        },
        errors=("items_not_a_list",),
    ),
    "delay": NodeDoc(
        summary="Waits on a durable timer: a worker restart during the wait does not lose it.",
        fields={"seconds": FieldDoc("How long to wait, in seconds.")},
        output="The output of the node before it, unchanged.",
        example={"type": "delay", "config": {"seconds": 3600}},
    ),
    "wait-for-event": NodeDoc(
        summary=(
            "Waits for an event sent with `POST /flow-runs/{id}/events`. Events are kept in "
            "arrival order until a waiting node's filter matches one, so one sent before the "
            "run gets here is not lost."
        ),
        fields={
            "filter": FieldDoc(
                "Conditions over the event (the variable `event`, beside the usual ones).",
                "conditions",
                "any event",
            ),
            "appEventType": FieldDoc(
                "Wait for an app event of this type sent for the run's customer "
                "(`POST /app-events/{typeKey}`); the node outputs `{type, appEventId, payload}`.",
                "literal",
                "events sent to the run itself",
            ),
            "timeoutSeconds": FieldDoc(
                "How long to wait; then the node fails with `timeout` (`onError: continue` "
                "goes on without it).",
                "literal",
                "as long as the run lives",
            ),
        },
        output="The event it took (the request's JSON body).",
        example={
            "type": "wait-for-event",
            "config": {
                "filter": {"field": "event.type", "operator": "is", "value": "approved"},
                "timeoutSeconds": 86400,
            },
        },
        errors=("timeout",),
    ),
    "api-request-to-external-app": NodeDoc(
        summary=(
            "A request through the run's connection: its auth, refresh on 401 and logging, "
            "like the proxy."
        ),
        fields={
            "path": FieldDoc(
                "Relative to the connector's base URL (an absolute URL only on its origin and "
                "under its path; anything else fails with `url_outside_api`). Never a template."
            ),
            **_request_fields("the app"),
        },
        output=HTTP_OUTPUT + " The connection's secrets are masked in it.",
        example={
            "type": "api-request-to-external-app",
            "config": {"method": "GET", "path": "/api/v1/me"},
        },
        notes=(
            "4xx fail the node at once, 429 and 503 retry after `Retry-After`, 5xx and "
            "network errors retry (the node's `retry`).",
        ),
        errors=("connection_required",),
    ),
    "api-request-to-your-app": NodeDoc(
        summary=(
            "A request to your product's API as the run's customer: `Authorization: Bearer "
            "<JWT>` signed with the workspace secret (claims `workspaceKey`, `tenantKey`, `exp` "
            "five minutes ahead)."
        ),
        fields={
            "path": FieldDoc("Appended to `OSMO_APP_API_URL`."),
            **_request_fields("your app"),
        },
        output=HTTP_OUTPUT,
        example={
            "type": "api-request-to-your-app",
            "config": {
                "method": "POST",
                "path": "/osmo/contacts",
                "body": {"email": {"$var": "input.start.email"}},
            },
        },
        errors=("customer_required",),
    ),
    "custom-http-request": NodeDoc(
        summary=(
            "A request to any URL, outside any connection. Only public addresses are "
            "reachable unless `OSMO_ALLOW_PRIVATE_HTTP=true` (else `address_not_allowed`); "
            "redirects are not followed."
        ),
        fields={
            "url": FieldDoc("The absolute URL."),
            **_request_fields("the URL"),
        },
        output=HTTP_OUTPUT,
        example={
            "type": "custom-http-request",
            "config": {"method": "GET", "url": "https://api.example.com/status"},
        },
    ),
    **_DATA_RECORDS,
    **_DATA_LINKS,
    "run-operation": NodeDoc(
        summary="Runs one of the connector's operations through the run's connection.",
        fields={
            "operationKey": FieldDoc(
                "An operation of the connector (`GET /integrations/{key}/operations`).",
                "literal",
            ),
            "input": FieldDoc(
                "The operation's input, checked against its input schema.", default="`{}`"
            ),
        },
        output="The operation's output, as the connector defines it.",
        example={
            "type": "run-operation",
            "config": {"operationKey": "get-current-user"},
        },
        errors=("connection_required",),
    ),
    "run-action": NodeDoc(
        summary=(
            "Runs an action (`/actions`) with the node's own retry settings; the connection's "
            "instance of the action is resolved when the run starts (404 `action_not_found` "
            "then if there is none)."
        ),
        fields={
            "actionKey": FieldDoc("The action's key.", "literal"),
            "input": FieldDoc(
                "The action's input, checked against its `inputSchema` (`validation_error`)."
            ),
            "action": FieldDoc("The resolved action.", "set-by-osmo"),
        },
        output="The action's output, after its `outputMapping`.",
        example={
            "type": "run-action",
            "config": {
                "actionKey": "create-contact",
                "input": {"email": {"$var": "input.start.email"}},
            },
        },
        errors=("action_not_resolved",),
    ),
}
"""Every node type, by the name flows use."""
