"""Requests made by I/O formulas, and the resolver that answers them in batches.

Requests are frozen dataclasses of strings (JSON parts are canonical JSON text), so they are
hashable for de-duplication and survive a trip through an activity's payload unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol


def canonical_json(value: Any) -> str:
    """JSON text that is equal for equal values (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class CollectionRef:
    """A data collection of the connection: its key and parameters (canonical JSON)."""

    key: str
    parameters_json: str = "{}"

    @classmethod
    def of(cls, key: str, parameters: Mapping[str, Any] | None = None) -> CollectionRef:
        """Build a reference from a parameters object."""
        return cls(key, canonical_json(dict(parameters or {})))

    @property
    def parameters(self) -> dict[str, Any]:
        """The collection parameters."""
        return json.loads(self.parameters_json)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class RecordLookup:
    """Find a record in a collection by a query; create it from `create` if not found.

    Resolves to the found (or created) record, a mapping with an `id`, or None.
    """

    collection: CollectionRef
    query_json: str
    create_json: str | None = None

    @property
    def query(self) -> dict[str, Any]:
        """Field values the record must have."""
        return json.loads(self.query_json)  # type: ignore[no-any-return]

    @property
    def create(self) -> dict[str, Any] | None:
        """Fields of the record to create when none matches, or None to not create."""
        return None if self.create_json is None else json.loads(self.create_json)


@dataclass(frozen=True)
class ExternalIdLookup:
    """The external record id linked to an app record id in a data link table."""

    table: str
    app_record_id: str


@dataclass(frozen=True)
class AppIdLookup:
    """The app record id linked to an external record id in a data link table."""

    table: str
    external_record_id: str


LookupRequest = RecordLookup | ExternalIdLookup | AppIdLookup
ResolvedLookups = Mapping[LookupRequest, Any]
"""Results by request: a record mapping (or None) for `RecordLookup`, an id (or None) else."""


class LookupResolver(Protocol):
    """Answers lookups in batches; implemented by an activity over connectors and the DB.

    Every method receives all items of one group at once and returns one result per item, in
    the same order.
    """

    async def find_records(
        self, collection: CollectionRef, queries: Sequence[Mapping[str, Any]]
    ) -> Sequence[Mapping[str, Any] | None]:
        """For each query, the first record of `collection` matching it, or None."""
        ...

    async def create_records(
        self, collection: CollectionRef, records: Sequence[Mapping[str, Any]]
    ) -> Sequence[Mapping[str, Any]]:
        """Create the records (field values) in `collection`; returns them with their ids."""
        ...

    async def find_external_ids(
        self, table: str, app_record_ids: Sequence[str]
    ) -> Sequence[str | None]:
        """For each app record id, the linked external record id in the data link table."""
        ...

    async def find_app_ids(
        self, table: str, external_record_ids: Sequence[str]
    ) -> Sequence[str | None]:
        """For each external record id, the linked app record id in the data link table."""
        ...


_KINDS: dict[str, type[RecordLookup] | type[ExternalIdLookup] | type[AppIdLookup]] = {
    "record": RecordLookup,
    "external-id": ExternalIdLookup,
    "app-id": AppIdLookup,
}


def dump_request(request: LookupRequest) -> dict[str, Any]:
    """A request as a JSON object with a `kind` (for activity inputs and outputs)."""
    kind = next(name for name, cls in _KINDS.items() if isinstance(request, cls))
    return {"kind": kind, **asdict(request)}


def load_request(data: Mapping[str, Any]) -> LookupRequest:
    """The request `dump_request` produced."""
    fields = {key: value for key, value in data.items() if key != "kind"}
    if data["kind"] == "record":
        collection = CollectionRef(**fields.pop("collection"))
        return RecordLookup(collection=collection, **fields)
    return _KINDS[data["kind"]](**fields)  # type: ignore[return-value]


def dump_resolved(resolved: ResolvedLookups) -> list[dict[str, Any]]:
    """Resolved lookups as a JSON list of `{request, result}`."""
    return [
        {"request": dump_request(request), "result": result} for request, result in resolved.items()
    ]


def load_resolved(items: Sequence[Mapping[str, Any]]) -> dict[LookupRequest, Any]:
    """The mapping `dump_resolved` produced."""
    return {load_request(item["request"]): item["result"] for item in items}
