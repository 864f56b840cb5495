"""Bodies of connector operations and data collections run through a connection."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from api.models import ApiModel, PublicModel

MethodName = Literal["list", "find-by-id", "match", "search", "create", "update", "delete"]
"""A data collection method as routes name it."""


class OperationRun(ApiModel):
    input: dict[str, Any] = Field(default_factory=dict)


class OperationRunResult(PublicModel):
    output: Any = None


class OperationSummary(PublicModel):
    key: str
    name: str | None = None
    description: str | None = None
    docs_url: str | None = None
    read_only: bool = False
    method: str
    path: str
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None


class OperationList(PublicModel):
    items: list[OperationSummary]
    cursor: str | None = None


class CollectionCall(ApiModel):
    parameters: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    fields: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    cursor: str | None = None


class CollectionSummary(PublicModel):
    key: str
    name: str | None = None
    docs_url: str | None = None
    methods: list[str] = Field(description="Kebab-case names, as in the method route.")
    parameters_schema: dict[str, Any] | None = None
    fields_schema: dict[str, Any] | None = None
    udm: str | None = Field(None, description="The unified model the collection maps to.")
    events: dict[str, str] = Field(
        default_factory=dict, description="created/updated/deleted → how the event is received."
    )


class CollectionList(PublicModel):
    items: list[CollectionSummary]
    cursor: str | None = None


class DataRecord(PublicModel):
    """A record in Osmo's shape (connectors may add fields)."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    name: Any = None
    fields: Any = None
    created_time: Any = None
    updated_time: Any = None


class CollectionResult(PublicModel):
    """`records` + `cursor` (list, search), `record` (find-by-id, match, create, update), or
    nothing (delete)."""

    records: list[DataRecord] | None = None
    record: DataRecord | None = None
    cursor: str | None = None
