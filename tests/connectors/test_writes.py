"""Writes the real APIs accept (issue 11): a record read from the app and written back
(create and update) is a request the vendor accepts.

For every writable data collection of every built-in connector, the record in
`write_records.RECORDS` goes through the runtime's own create/update (`run_method`, with the
network replaced by `httpx.MockTransport`), and the request it builds is checked:

- everywhere: no value of a field the connector marks `readOnly` (ids, timestamps, URLs,
  computed state) is sent, unless the same value is also a writable field's or the record's id;
- where the vendor's OpenAPI description is in `tests/connectors/specs/` (Asana, GitHub,
  Intercom, Jira, Slack, Trello): the body validates against the operation's request schema,
  with no property outside it and none it marks read-only, and every query parameter is one the
  operation declares (`request_schemas.RequestSchemas`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from connectors.catalog import sample_context, sample_value
from connectors.runtime import ConnectorRuntime, MemoryApiLogSink
from connectors.runtime.collections import parse_record, run_method
from connectors.runtime.templates import render
from connectors.spec import ConnectorSpec, DataCollection
from tests.connectors.harness import Replay, builtin_registry, json_response
from tests.connectors.request_schemas import load
from tests.connectors.write_records import (
    DESCRIPTIONS,
    NEWER_THAN_DESCRIPTION,
    OUTSIDE_DESCRIPTION,
    RECORDS,
    WriteRecord,
)

CASES = sorted(
    (spec.key, collection.key, method)
    for spec in builtin_registry().all()
    for collection in spec.data_collections
    for method in ("create", "update")
    if collection.method(method) is not None
)
RECORD_ID = "rec-id-under-test"


def _collection(connector: str, key: str) -> tuple[ConnectorSpec, DataCollection]:
    spec = builtin_registry().get(connector)
    assert spec is not None
    collection = spec.collection(key)
    assert collection is not None
    return spec, collection


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _distinctive(value: Any) -> bool:
    """Values that cannot be in a request by chance: long strings, large numbers."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return abs(value) >= 1000
    return isinstance(value, str) and len(value) >= 6


def _sent_values(request: httpx.Request) -> set[str]:
    sent = {str(v) for _, v in request.url.params.multi_items()}
    sent |= {part for v in list(sent) for part in v.split(",")}  # Trello's comma lists
    if request.content:
        if request.headers.get("content-type", "").startswith("application/json"):
            sent |= {str(leaf) for leaf in _leaves(json.loads(request.content))}
        else:
            sent |= {v for _, v in httpx.QueryParams(request.content.decode()).multi_items()}
    return sent


def _read_only_leaks(
    collection: DataCollection, fields: dict[str, Any], request: httpx.Request
) -> list[str]:
    """Read-only fields of the record whose values the request carries."""
    properties = collection.fields_schema.get("properties") or {}
    read_only = {k for k, s in properties.items() if isinstance(s, dict) and s.get("readOnly")}
    writable = {str(leaf) for k, v in fields.items() if k not in read_only for leaf in _leaves(v)}
    sent = _sent_values(request)
    return sorted(
        f"{name} = {leaf!r}"
        for name in read_only & fields.keys()
        for leaf in _leaves(fields[name])
        if _distinctive(leaf)
        and str(leaf) in sent
        and str(leaf) not in writable
        and str(leaf) != RECORD_ID
    )


async def _write(
    spec: ConnectorSpec, collection: DataCollection, method: str, entry: WriteRecord
) -> tuple[dict[str, Any], httpx.Request]:
    """The record's fields, and the request the runtime builds to write them."""
    raw = entry.source.raw(spec.key, collection)
    assert isinstance(raw, dict) and raw, f"{entry.source} gives no record"
    if getattr(entry.source, "fields_only", False):
        fields = raw
    else:
        fields = parse_record(collection.record, raw)["fields"]
    assert isinstance(fields, dict)
    if method == "create":
        fields = {**fields, **entry.create_only}
    parameters = entry.parameters or (
        sample_value(collection.parameters_schema, "parameters")
        if collection.parameters_schema
        else {}
    )
    replay = Replay().on(collection.method(method).request.method, ".*", json_response(raw))  # type: ignore[union-attr]
    runtime = ConnectorRuntime(
        builtin_registry(), None, MemoryApiLogSink(), transport=httpx.MockTransport(replay)
    )
    ctx = sample_context(spec, spec.auth[0])
    try:
        await run_method(
            runtime,
            ctx,
            collection.key,
            method,
            parameters=parameters,
            id=RECORD_ID if method == "update" else None,
            fields=fields,
        )
    except Exception as exc:  # the answer may not be the shape a write returns; the request is
        if not replay.requests:
            raise AssertionError(f"no request was built: {exc}") from exc
    finally:
        await runtime.aclose()
    assert replay.requests, "no request was sent"
    return fields, replay.requests[0]


def _base_path(spec: ConnectorSpec) -> str:
    template = sample_context(spec, spec.auth[0]).template_context()
    return urlsplit(render(spec.api.base_url, template)).path.rstrip("/")


def test_every_writable_collection_has_a_vendor_record() -> None:
    missing = [f"{c}/{k}" for c, k, _ in CASES if (c, k) not in RECORDS]
    stale = sorted({f"{c}/{k}" for c, k in RECORDS} - {f"{c}/{k}" for c, k, _ in CASES})
    assert not missing and not stale, f"missing: {missing}; not writable: {stale}"


@pytest.mark.parametrize(("connector", "collection_key", "method"), CASES)
async def test_a_record_written_back_is_a_request_the_vendor_accepts(
    connector: str, collection_key: str, method: str
) -> None:
    spec, collection = _collection(connector, collection_key)
    fields, request = await _write(spec, collection, method, RECORDS[connector, collection_key])
    problems = [
        f"read-only field sent: {leak}" for leak in _read_only_leaks(collection, fields, request)
    ]
    if connector in DESCRIPTIONS and (connector, collection_key) not in OUTSIDE_DESCRIPTION:
        newer = NEWER_THAN_DESCRIPTION.get(connector, set())
        problems += [
            problem
            for problem in _vendor_problems(spec, request)
            if problem.split(":", 1)[0] not in newer
        ]
    assert not problems, f"{request.method} {request.url}:\n" + "\n".join(problems)


def _vendor_problems(spec: ConnectorSpec, request: httpx.Request) -> list[str]:
    schemas = load(DESCRIPTIONS[spec.key])
    path = request.url.raw_path.decode().split("?", 1)[0]
    operation = schemas.operation(request.method, path, _base_path(spec))
    if operation is None:
        return [f"{schemas.name} has no operation {request.method} {path}"]
    problems = []
    body: Any = None
    if request.content:
        kind = request.headers.get("content-type", "")
        body = (
            json.loads(request.content)
            if kind.startswith("application/json")
            else dict(httpx.QueryParams(request.content.decode()))
        )
    query = {k: v for k, v in request.url.params.items() if k not in schemas.query_auth}
    undeclared_query = sorted(set(query) - operation.query)
    if undeclared_query and body is None and operation.body_schema is not None:
        # The description models the endpoint's attributes as a body; the app takes the query.
        body, undeclared_query = {k: query[k] for k in undeclared_query}, []
    if undeclared_query:
        problems.append(
            f"query parameters {undeclared_query} are not declared by "
            f"{request.method} {operation.template}"
        )
    if body is not None:
        if operation.body_schema is None:
            problems.append(f"{request.method} {operation.template} takes no body")
        else:
            problems += schemas.problems(body, operation.body_schema)
    return problems
