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
    name: Any = None
    fields: Any = Field(None, description="Default: the whole record.")
    created_time: Any = None
    updated_time: Any = None


class CollectionMethod(SpecModel):
    """A collection method implemented as one REST request.

    Variables: `parameters` (the data source's), `id`, `fields`, `query` (match/search),
    `cursor` is handled by pagination.
    """

    request: HttpMapping
    records_path: str | None = Field(None, description="Locator of the records array.")
    record_path: str | None = Field(None, description="Locator of the single record.")


class WebhookEvents(SpecModel):
    """Events arrive through the connector's webhooks; `filter` picks this event type."""

    type: Literal["webhook"]
    filter: Any = Field(None, description="Filter conditions over each incoming `event`.")
    record_id: str = Field("objectId", description="Locator of the record id in the event.")
    subscribe: HttpMapping | None = None
    unsubscribe: HttpMapping | None = None


class PullLatestRecords(SpecModel):
    """Polls `list` for records changed after the stored cursor."""

    type: Literal["pull-latest-records"]
    by: Literal["updated-time", "created-time", "cursor"] = "updated-time"
    field: str = Field(description="Record field compared with the cursor.")
    since_param: str | None = Field(None, description="Query parameter for the lower bound.")
    interval_seconds: int = Field(300, ge=10)


class FullScan(SpecModel):
    """Lists everything and diffs against the previous snapshot."""

    type: Literal["full-scan"]
    interval_seconds: int = Field(3600, ge=60)


EventSource = Annotated[WebhookEvents | PullLatestRecords | FullScan, Field(discriminator="type")]


class CollectionEvents(SpecModel):
    created: EventSource | None = None
    updated: EventSource | None = None
    deleted: EventSource | None = None


class UdmMapping(SpecModel):
    """Maps the collection's fields to a unified data model and back (formulas)."""

    model: str = Field(description="Unified model key: contacts, companies, deals, ...")
    to_udm: dict[str, Any] = Field(description="Mapping over `fields` → unified fields.")
    from_udm: dict[str, Any] = Field(description="Mapping over `udm` → the app's fields.")


class DataCollection(SpecModel):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    docs_url: str | None = None
    parameters_schema: dict[str, Any] | None = None
    fields_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    record: RecordSpec = Field(default_factory=RecordSpec)
    list: CollectionMethod | None = None
    find_by_id: CollectionMethod | None = None
    match: CollectionMethod | None = None
    search: CollectionMethod | None = None
    create: CollectionMethod | None = None
    update: CollectionMethod | None = None
    delete: CollectionMethod | None = None
    events: CollectionEvents = Field(default_factory=CollectionEvents)
    udm: UdmMapping | None = None

    def method(self, name: str) -> CollectionMethod | None:
        return getattr(self, name) if name in COLLECTION_METHODS else None

    def supported_methods(self) -> builtins.list[str]:
        return [name for name in COLLECTION_METHODS if getattr(self, name) is not None]
