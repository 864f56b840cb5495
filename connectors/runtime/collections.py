"""Data collection methods: list, find-by-id, match, search, create, update, delete."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from connectors.runtime.context import ConnectionContext
from connectors.runtime.errors import ConnectorError
from connectors.runtime.mapping import evaluate_spec, locate
from connectors.runtime.operations import fetch_page, input_problems
from connectors.runtime.writable import writable_fields
from connectors.spec import CollectionMethod, DataCollection, NoPagination, RecordSpec
from core.errors import OsmoError, bad_request, validation_error
from core.formulas import UNDEFINED

if TYPE_CHECKING:
    from connectors.runtime.client import ConnectorRuntime

API_METHODS = {
    "list": "list",
    "find-by-id": "find_by_id",
    "match": "match",
    "search": "search",
    "create": "create",
    "update": "update",
    "delete": "delete",
}


def encode_cursor(state: Any) -> str | None:
    if state is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise bad_request("invalid_cursor", "The cursor is malformed", path="cursor") from exc


def _read(spec: Any, record: Any) -> Any:
    if spec is None:
        return None
    value = (
        locate(record, spec) if isinstance(spec, str) else evaluate_spec(spec, {"record": record})
    )
    return None if value is UNDEFINED else value


def parse_record(spec: RecordSpec, raw: Any) -> dict[str, Any]:
    """The record in Osmo's shape: `{id, name, fields, createdTime, updatedTime}`."""
    record_id = _read(spec.id, raw)
    return {
        "id": None if record_id is None else str(record_id),
        "name": _read(spec.name, raw),
        "fields": raw if spec.fields is None else _read(spec.fields, raw),
        "createdTime": _read(spec.created_time, raw),
        "updatedTime": _read(spec.updated_time, raw),
    }


def find_collection(ctx: ConnectionContext, key: str) -> DataCollection:
    collection = ctx.connector.collection(key)
    if collection is None:
        raise OsmoError(
            "not_found",
            "data_collection_not_found",
            f"Connector {ctx.connector.key!r} has no data collection {key!r}",
            status=404,
        )
    return collection


def _method(collection: DataCollection, name: str) -> CollectionMethod:
    method = collection.method(name)
    if method is None:
        raise bad_request(
            "method_not_supported",
            f"Data collection {collection.key!r} does not support {name!r}",
            supported=collection.supported_methods(),
        )
    return method


def _check(collection: DataCollection, parameters: dict[str, Any], fields: Any = None) -> None:
    problems = []
    if collection.parameters_schema:
        problems += input_problems(collection.parameters_schema, parameters, "parameters")
    if fields is not None:
        loose = {k: v for k, v in collection.fields_schema.items() if k != "required"}
        problems += input_problems(loose, fields, "fields")
    if problems:
        raise validation_error(problems)


async def run_method(
    runtime: ConnectorRuntime,
    ctx: ConnectionContext,
    collection_key: str,
    method_name: str,
    *,
    parameters: dict[str, Any] | None = None,
    id: str | None = None,
    fields: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    cursor: str | None = None,
    idempotency_key: str | None = None,
    retried: bool = False,
) -> dict[str, Any]:
    """Runs one collection method and returns Osmo's normalized result.

    `match` answers `{"record": None}` when the app finds nothing (an empty list or a 404).
    A `retried` create the app refuses with a conflict resolves to the record it conflicts
    with where the collection can tell which (`resolve_conflict`).
    """
    try:
        return await _run_method(
            runtime,
            ctx,
            collection_key,
            method_name,
            parameters=parameters,
            id=id,
            fields=fields,
            query=query,
            cursor=cursor,
            idempotency_key=idempotency_key,
        )
    except ConnectorError as exc:
        if not (retried and method_name == "create" and exc.key == "conflict"):
            raise
        found = await resolve_conflict(runtime, ctx, collection_key, parameters, fields)
        if found is None:
            raise
        return found


async def resolve_conflict(
    runtime: ConnectorRuntime,
    ctx: ConnectionContext,
    collection_key: str,
    parameters: dict[str, Any] | None,
    fields: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The record a refused create conflicts with, matched on the collection's unique fields
    (`{record, created: false, matched: true}`), or None where it cannot be told.

    Only for a retried create: the attempt before may have created the record and died before
    the answer (the worker was killed), so the conflict is with our own write. A first attempt's
    conflict is a record that was there before, and stays an error.
    """
    collection = find_collection(ctx, collection_key)
    unique = [name for name in collection.unique_fields if (fields or {}).get(name) is not None]
    if not unique or collection.match is None:
        return None
    found = await _run_method(
        runtime,
        ctx,
        collection_key,
        "match",
        parameters=parameters,
        query={name: (fields or {})[name] for name in unique},
    )
    if not found.get("record"):
        return None
    return {"record": found["record"], "created": False, "matched": True}


async def _run_method(
    runtime: ConnectorRuntime,
    ctx: ConnectionContext,
    collection_key: str,
    method_name: str,
    *,
    parameters: dict[str, Any] | None = None,
    id: str | None = None,
    fields: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    cursor: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    collection = find_collection(ctx, collection_key)
    method = _method(collection, method_name)
    parameters = parameters or {}
    writes = method_name in ("create", "update")
    if writes and fields:
        # Only what the endpoint accepts is checked and sent: a record read from the app may
        # carry read-only values (ids, timestamps) in shapes the write does not take.
        fields = writable_fields(collection, method, fields, creating=method_name == "create")
    _check(collection, parameters, fields if writes else None)
    if method_name in ("find_by_id", "update", "delete") and not id:
        raise validation_error([{"path": "id", "message": "is required"}])
    variables = {"parameters": parameters, "id": id, "fields": fields or {}, "query": query or {}}
    paginated = method_name in ("list", "search")
    mapping = method.request
    if not paginated and mapping.pagination is None:
        mapping = mapping.model_copy(update={"pagination": NoPagination(type="none")})
    try:
        page = await fetch_page(
            runtime,
            ctx,
            mapping,
            variables,
            decode_cursor(cursor),
            method.records_path,
            idempotency_key,
        )
    except ConnectorError as exc:
        if method_name == "match" and exc.key == "not_found":
            return {"record": None}
        raise
    if method_name == "match":
        # A list of candidates (take the first), or one record where `recordPath` points.
        raw = page.items[0] if page.items else None
        if raw is None and method.record_path:
            raw = locate(page.body, method.record_path)
        return {"record": parse_record(collection.record, raw) if raw else None}
    if paginated:
        records = [parse_record(collection.record, raw) for raw in page.items]
        return {"records": records, "cursor": encode_cursor(page.next)}
    if method_name == "delete":
        return {}
    raw = locate(page.body, method.record_path) if method.record_path else page.body
    return {"record": parse_record(collection.record, raw) if raw else None}
