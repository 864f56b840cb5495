"""Data collections: the app's record types, with CRUD methods, events and UDM mappings."""

from __future__ import annotations

import builtins
from typing import Annotated, Any, Literal

from pydantic import Field

from connectors.spec.base import SpecModel
from connectors.spec.operations import HttpMapping

COLLECTION_METHODS = ("list", "find_by_id", "match", "search", "create", "update", "delete")


class RecordSpec(SpecModel):
    """How to read a record out of the app's JSON (locators or formulas over `record`)."""

    id: Any = Field("id", description="Locator or formula of the record id.")
    name: Any = Field(None, description="Locator or formula of the record's display name.")
    fields: Any = Field(None, description="Default: the whole record.")
    created_time: Any = Field(None, description="Locator or formula of the creation time.")
    updated_time: Any = Field(None, description="Locator or formula of the last update time.")


class CollectionMethod(SpecModel):
    """A collection method implemented as one REST request.

    Variables: `parameters` (the data source's), `id`, `fields`, `query` (match/search),
    `cursor` is handled by pagination.
    """

    request: HttpMapping = Field(description="The request (or a `use` of a request template).")
    records_path: str | None = Field(None, description="Locator of the records array.")
    record_path: str | None = Field(None, description="Locator of the single record.")
    writable_fields: builtins.list[str] | None = Field(
        None,
        description="create/update: the only top-level fields this endpoint accepts (others are "
        "dropped before the request is built). Default: every field `fieldsSchema` declares "
        "and does not mark `readOnly`.",
    )


class WebhookEvents(SpecModel):
    """Events arrive through the connector's webhooks; `filter` picks this event type."""

    type: Literal["webhook"] = Field(description="Events delivered by the app's webhooks.")
    filter: Any = Field(None, description="Filter conditions over each incoming `event`.")
    record_id: str = Field("objectId", description="Locator of the record id in the event.")
    subscribe: HttpMapping | None = Field(
        None,
        description="Request that registers a webhook; variables `parameters` and `webhook` "
        "(`url`, `secret`).",
    )
    unsubscribe: HttpMapping | None = Field(
        None,
        description="Request that removes it; `webhook.id` is the registered id. An answer of "
        "404 means it is gone already.",
    )
    id_path: str = Field(
        "id", description="Locator of the registered webhook's id in the `subscribe` answer."
    )
    secret_path: str | None = Field(
        None,
        description="Locator of the signing secret in the `subscribe` answer, when the app "
        "chooses it (Stripe's `secret`); otherwise Osmo generates `webhook.secret`, or the app "
        "hands one over in a handshake (Asana's `X-Hook-Secret`).",
    )
    expires_in_seconds: int | None = Field(
        None,
        ge=60,
        description="Lifetime of a registration the app expires (Jira: 30 days), counted from "
        "its registration or last refresh, when the answer does not say (`expiryPath`).",
    )
    expiry_path: str | None = Field(
        None,
        description="Locator of the expiry time (ISO 8601 or epoch milliseconds) in the "
        "`subscribe` or `refresh` answer.",
    )
    refresh: HttpMapping | None = Field(
        None,
        description="Request that extends a registration before it expires; variables "
        "`parameters` and `webhook` (`id`, `url`).",
    )


class PullLatestRecords(SpecModel):
    """Polls `list` for records changed since the stored cursor (`activities/event_pulls.py`).

    The cursor is the newest value of `field` seen, as the app writes it, plus the ids read at
    exactly that time (the bound is inclusive, so same-second changes are neither lost nor
    doubled).
    """

    type: Literal["pull-latest-records"] = Field(
        description="Polls for records changed since the last poll."
    )
    by: Literal["updated-time", "created-time", "cursor"] = Field(
        "updated-time",
        description="What the stored cursor is: the records' update time (created and "
        "updated events) or creation time (created events only). `cursor` (an app-issued "
        "sync token) is declared for apps that have one; it is not polled yet.",
    )
    field: str = Field(
        description="Locator, in the record's fields, of the time compared with the cursor "
        "(the record's parsed `updatedTime` / `createdTime` when the fields lack it)."
    )
    since_param: str | None = Field(
        None,
        description="Query parameter of `list` that takes the lower bound (inclusive: the "
        "cursor's time, sent as the app wrote it). Without it every page is read and "
        "filtered by Osmo.",
    )
    order: Literal["asc", "desc"] | None = Field(
        None,
        description="How `list` sorts records by `field`, if it does: `desc` lets a poll "
        "without `sinceParam` stop at the first page older than the cursor.",
    )
    interval_seconds: int = Field(300, ge=10, description="Seconds between polls.")


class FullScan(SpecModel):
    """Lists everything and diffs it with the previous snapshot (`activities/event_pulls.py`).

    The snapshot (`{recordId: hash of its fields}`) is kept in the blob store; deletes are
    emitted only from a scan that read every page.
    """

    type: Literal["full-scan"] = Field(description="Lists everything and diffs snapshots.")
    interval_seconds: int = Field(3600, ge=60, description="Seconds between scans.")


EventSource = Annotated[WebhookEvents | PullLatestRecords | FullScan, Field(discriminator="type")]


class CollectionEvents(SpecModel):
    """How the app tells about created, updated and deleted records (docs/events.md)."""

    created: EventSource | None = Field(None, description="Source of 'record created' events.")
    updated: EventSource | None = Field(None, description="Source of 'record updated' events.")
    deleted: EventSource | None = Field(None, description="Source of 'record deleted' events.")


class UdmMapping(SpecModel):
    """Maps the collection's fields to a unified data model and back (formulas)."""

    model: str = Field(description="Unified model key: contacts, companies, deals, ...")
    to_udm: dict[str, Any] = Field(description="Mapping over `fields` → unified fields.")
    from_udm: dict[str, Any] = Field(description="Mapping over `udm` → the app's fields.")


class DataCollection(SpecModel):
    """One record type of the app (contacts, tasks...) with the methods it supports."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable key (kebab-case).")
    name: str = Field(description="Human-readable name.")
    docs_url: str | None = Field(None, description="The vendor's documentation of this type.")
    parameters_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema of the data source's parameters (which list, board...)."
    )
    fields_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object"}, description="JSON Schema of the fields."
    )
    record: RecordSpec = Field(
        default_factory=RecordSpec, description="How to read a record out of the app's JSON."
    )
    list: CollectionMethod | None = Field(None, description="Lists records, page by page.")
    find_by_id: CollectionMethod | None = Field(None, description="Reads one record by id.")
    match: CollectionMethod | None = Field(
        None, description="Finds the record whose fields equal `query`."
    )
    search: CollectionMethod | None = Field(None, description="Full-text search (`query.text`).")
    create: CollectionMethod | None = Field(None, description="Creates a record from `fields`.")
    update: CollectionMethod | None = Field(None, description="Updates record `id` with `fields`.")
    delete: CollectionMethod | None = Field(None, description="Deletes record `id`.")
    events: CollectionEvents = Field(
        default_factory=CollectionEvents,
        description="Event sources: webhooks or polling (docs/events.md).",
    )
    udm: UdmMapping | None = Field(None, description="Mapping to a unified data model.")
    unique_fields: builtins.list[str] = Field(
        default_factory=builtins.list,
        description="Fields whose value the app keeps unique (it answers a create that repeats "
        "one with 409): a retried create the app refuses so resolves, through `match` on them, "
        "to the record an earlier attempt created.",
    )

    def method(self, name: str) -> CollectionMethod | None:
        return getattr(self, name) if name in COLLECTION_METHODS else None

    def supported_methods(self) -> builtins.list[str]:
        return [name for name in COLLECTION_METHODS if getattr(self, name) is not None]
