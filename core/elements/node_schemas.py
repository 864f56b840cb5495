"""What each flow node type accepts, as plain data.

Flow and action definitions are validated against these schemas in core/elements/, without
loading the node implementations: those run inside Temporal workflows (workflows/nodes/) and
register against this table, and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args


@dataclass(frozen=True)
class NodeSchema:
    """One node type as users declare it.

    Attributes:
        config: JSON schema of the node's `config`.
        is_trigger: Whether the node starts a run (one per flow, nothing links to it).
    """

    config: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    is_trigger: bool = False


HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

# Config values are formulas over the node's variables (`{}` below: any formula or constant),
# except those described as fixed: keys of elements and connector parts, which the API resolves
# when it snapshots a run (so they cannot depend on the run), and settings the node reads
# before anything is evaluated.
_FIXED = " Fixed: written as it is, not a formula."


def _key(what: str) -> dict[str, Any]:
    """A config value naming another element or connector part: a plain string."""
    return {"type": "string", "minLength": 1, "description": f"The {what}'s key.{_FIXED}"}


def _method(methods: list[str]) -> dict[str, Any]:
    return {"enum": methods, "description": f"HTTP method, default GET.{_FIXED}"}


TRIGGER_TYPES = (
    "api-trigger",
    "schedule-trigger",
    "app-event-trigger",
    "data-record-created-trigger",
    "data-record-updated-trigger",
    "data-record-deleted-trigger",
    "connector-event-trigger",
)


def _required(*names: str, **properties: Any) -> dict[str, Any]:
    """An object schema: `names` required, each property as given (`{}`: any formula)."""
    return {
        "type": "object",
        "required": list(names),
        "properties": {**{name: {} for name in names}, **properties},
    }


_DATA_RECORD: dict[str, Any] = {
    "type": "object",
    # A data source (resolved into `collectionKey` when the run is snapshotted) or a collection.
    "anyOf": [{"required": ["collectionKey"]}, {"required": ["dataSourceKey"]}],
    "properties": {
        "collectionKey": _key("connector's data collection"),
        "dataSourceKey": _key("data source"),
        "parameters": {},
        "id": {},
        "fields": {},
        "query": {},
        "cursor": {},
    },
}
_PAGED: dict[str, Any] = {
    **_DATA_RECORD,
    "properties": {
        **_DATA_RECORD["properties"],
        "cursor": {
            "description": "Where to start: the `cursor` of an earlier page's output (a formula;"
            " empty or absent: the first page)."
        },
        "pages": {
            "enum": ["one", "all"],
            "default": "one",
            "description": "`one`: the node outputs one page, `{records, cursor}`; pass `cursor`"
            " back to get the next. `all`: every page, one output per page in the same shape;"
            " each page's sub-graph finishes before the next page is fetched, so a run holds one"
            " page at a time and can continue as new between pages. Flows only: an action"
            " answers one page." + _FIXED,
        },
        "limit": {
            "type": "integer",
            "minimum": 1,
            "description": "With `pages: all`, the most records to output in all (the page that"
            " reaches it is cut short and its `cursor` is null when records were left out)."
            + _FIXED,
        },
    },
    # `limit` counts records across pages: with one page it would cut a page under its cursor.
    "dependentSchemas": {
        "limit": {"required": ["pages"], "properties": {"pages": {"const": "all"}}}
    },
}
"""List and search: one page or every page (`pages`), a `limit`, a starting `cursor`."""

DataRecordType = Literal[
    "list-data-records",
    "search-data-records",
    "lookup-data-record",
    "find-data-record-by-id",
    "create-data-record",
    "update-data-record",
    "delete-data-record",
    "find-or-create-data-record",
]
DATA_RECORD_TYPES: tuple[str, ...] = get_args(DataRecordType)


def _data_link(*required: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["dataLinkTable", *required],
        "properties": {
            "dataLinkTable": _key("data link table"),
            "appRecordId": {},
            "externalRecordId": {},
            **extra,
        },
    }


# find and delete need at least one of the two ids.
_ONE_SIDE = [{"required": ["appRecordId"]}, {"required": ["externalRecordId"]}]

_REQUEST: dict[str, Any] = {"headers": {}, "query": {}, "body": {}}

_EVENT_FILTER = {
    "description": "Conditions over the event (the variable `event`, next to `trigger`): a "
    "run starts only for events they match. Without it every event starts a run."
}
_RECORD_TRIGGERS = (
    "data-record-created-trigger",
    "data-record-updated-trigger",
    "data-record-deleted-trigger",
)
_RECORD_EVENT: dict[str, Any] = {
    "type": "object",
    "anyOf": [{"required": ["collectionKey"]}, {"required": ["dataSourceKey"]}],
    "properties": {
        "collectionKey": _key("connector's data collection"),
        "dataSourceKey": _key("data source"),
        "parameters": {
            "type": "object",
            "description": "The collection's parameters (which list, board...); default: the "
            f"data source's.{_FIXED}",
        },
        "filter": _EVENT_FILTER,
        "pullIntervalSeconds": {
            "type": "integer",
            "minimum": 1,
            "description": "Seconds between polls when the app's events are polled (default: "
            "the data source's, else the connector's, else 300; never below "
            f"`OSMO_MIN_POLL_SECONDS`).{_FIXED}",
        },
    },
}
_CONNECTOR_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["eventType"],
    "properties": {
        "eventType": {
            "type": "string",
            "minLength": 1,
            "description": "The app's event type, as its webhooks name it (the connector's "
            f"`webhooks.eventTypePath`, or `*` for every event).{_FIXED}",
        },
        "filter": _EVENT_FILTER,
    },
}
_APP_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["appEventType"],
    "properties": {
        "appEventType": _key("app event type"),
        "filter": _EVENT_FILTER,
    },
}
_SCHEDULE: dict[str, Any] = {
    "type": "object",
    "anyOf": [{"required": ["cron"]}, {"required": ["intervalSeconds"]}],
    "properties": {
        "cron": {
            "type": "string",
            "minLength": 1,
            "description": f"Cron expression (5 fields, e.g. `0 9 * * 1-5`).{_FIXED}",
        },
        "intervalSeconds": {
            "type": "integer",
            "minimum": 60,
            "description": f"Instead of `cron`: seconds between runs (≥ 60).{_FIXED}",
        },
        "timezone": {
            "type": "string",
            "minLength": 1,
            "description": f"IANA time zone of `cron`, default UTC.{_FIXED}",
        },
        "overlap": {
            "enum": ["skip", "buffer-one", "buffer-all", "cancel-other", "allow-all"],
            "description": "What happens when a run is due while the previous one still runs, "
            f"default `skip`.{_FIXED}",
        },
        "catchupWindowSeconds": {
            "type": "integer",
            "minimum": 60,
            "description": "Runs missed while Osmo was down are started afterwards if they "
            f"fell within this window, default 300.{_FIXED}",
        },
    },
}

_SCHEMAS: dict[str, NodeSchema] = {
    **{name: NodeSchema(is_trigger=True) for name in TRIGGER_TYPES},
    "schedule-trigger": NodeSchema(_SCHEDULE, is_trigger=True),
    "app-event-trigger": NodeSchema(_APP_EVENT, is_trigger=True),
    **{name: NodeSchema(_RECORD_EVENT, is_trigger=True) for name in _RECORD_TRIGGERS},
    "connector-event-trigger": NodeSchema(_CONNECTOR_EVENT, is_trigger=True),
    "transform-data": NodeSchema(_required("value")),
    "filter": NodeSchema(_required("filter")),
    "for-each": NodeSchema(_required("items")),
    "delay": NodeSchema(
        _required(
            "seconds",
            seconds={
                # Numeric keywords apply to numbers only: a formula object passes, and the node
                # checks what it evaluates to.
                "type": ["number", "object"],
                "minimum": 0,
                "description": "Seconds to wait (≥ 0): a number, or a formula over the node's "
                "variables evaluated when the node runs.",
            },
        )
    ),
    "wait-for-event": NodeSchema(
        {
            "type": "object",
            "properties": {
                "filter": {},
                "appEventType": {
                    **_key("app event type"),
                    "description": "Take only app events of this type (sent with "
                    "`POST /app-events/{typeKey}` for the run's customer); without it, events "
                    f"sent to the run (`POST /flow-runs/{{id}}/events`).{_FIXED}",
                },
                "timeoutSeconds": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "description": "Seconds to wait for a matching event; without it, as long "
                    f"as the run lives.{_FIXED}",
                },
            },
        }
    ),
    "api-request-to-external-app": NodeSchema(
        _required("path", method=_method(["GET", "POST", "PUT", "PATCH", "DELETE"]), **_REQUEST)
    ),
    "api-request-to-your-app": NodeSchema(
        _required("path", method=_method(HTTP_METHODS), **_REQUEST)
    ),
    "custom-http-request": NodeSchema(_required("url", method=_method(HTTP_METHODS), **_REQUEST)),
    **{name: NodeSchema(_DATA_RECORD) for name in DATA_RECORD_TYPES},
    "list-data-records": NodeSchema(_PAGED),
    "search-data-records": NodeSchema(_PAGED),
    "create-data-link": NodeSchema(
        _data_link(
            "appRecordId",
            "externalRecordId",
            direction={
                "enum": ["import", "export", "both"],
                "description": f"Which way the link is used, default both.{_FIXED}",
            },
        )
    ),
    "find-data-link": NodeSchema({**_data_link(), "anyOf": _ONE_SIDE}),
    "delete-data-link": NodeSchema({**_data_link(), "anyOf": _ONE_SIDE}),
    "run-operation": NodeSchema(
        _required("operationKey", operationKey=_key("connector operation"), input={})
    ),
    "run-action": NodeSchema(
        _required(
            "actionKey",
            actionKey=_key("action"),
            input={},
            action={
                "type": "object",
                "description": "Set by the API when it snapshots a run (the resolved action); "
                "not written by hand.",
            },
        )
    ),
}

NODE_SCHEMAS: MappingProxyType[str, NodeSchema] = MappingProxyType(_SCHEMAS)
"""Every node type by the kebab-case name users see."""
