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
        "collectionKey": {"type": "string"},
        "dataSourceKey": {"type": "string"},
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
            " answers one page.",
        },
        "limit": {
            "type": "integer",
            "minimum": 1,
            "description": "With `pages: all`, the most records to output in all (the page that"
            " reaches it is cut short and its `cursor` is null when records were left out).",
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
            "dataLinkTable": {"type": "string", "minLength": 1},
            "appRecordId": {},
            "externalRecordId": {},
            **extra,
        },
    }


# find and delete need at least one of the two ids.
_ONE_SIDE = [{"required": ["appRecordId"]}, {"required": ["externalRecordId"]}]

_REQUEST: dict[str, Any] = {"headers": {}, "query": {}, "body": {}}

_SCHEMAS: dict[str, NodeSchema] = {
    **{name: NodeSchema(is_trigger=True) for name in TRIGGER_TYPES},
    "transform-data": NodeSchema(_required("value")),
    "filter": NodeSchema(_required("filter")),
    "for-each": NodeSchema(_required("items")),
    "delay": NodeSchema(_required("seconds", seconds={"type": "number", "minimum": 0})),
    "wait-for-event": NodeSchema(
        {
            "type": "object",
            "properties": {
                "filter": {},
                "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0},
            },
        }
    ),
    "api-request-to-external-app": NodeSchema(
        _required("path", method={"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]}, **_REQUEST)
    ),
    "api-request-to-your-app": NodeSchema(
        _required("path", method={"enum": HTTP_METHODS}, **_REQUEST)
    ),
    "custom-http-request": NodeSchema(_required("url", method={"enum": HTTP_METHODS}, **_REQUEST)),
    **{name: NodeSchema(_DATA_RECORD) for name in DATA_RECORD_TYPES},
    "list-data-records": NodeSchema(_PAGED),
    "search-data-records": NodeSchema(_PAGED),
    "create-data-link": NodeSchema(
        _data_link(
            "appRecordId", "externalRecordId", direction={"enum": ["import", "export", "both"]}
        )
    ),
    "find-data-link": NodeSchema({**_data_link(), "anyOf": _ONE_SIDE}),
    "delete-data-link": NodeSchema({**_data_link(), "anyOf": _ONE_SIDE}),
    "run-operation": NodeSchema(
        _required("operationKey", operationKey={"type": "string"}, input={})
    ),
    "run-action": NodeSchema(
        _required("actionKey", actionKey={"type": "string"}, input={}, action={"type": "object"})
    ),
}

NODE_SCHEMAS: MappingProxyType[str, NodeSchema] = MappingProxyType(_SCHEMAS)
"""Every node type by the kebab-case name users see."""
