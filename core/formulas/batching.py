"""Resolve lookups in batches: one resolver call per collection or data link table."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from core.formulas.engine import compile_formula
from core.formulas.errors import FormulaEvaluationError
from core.formulas.lookups import (
    AppIdLookup,
    CollectionRef,
    ExternalIdLookup,
    LookupRequest,
    LookupResolver,
    RecordLookup,
)
from core.schemas.refs import SchemaResolver


class LookupBatchError(FormulaEvaluationError):
    """A resolver answered a batch with the wrong number of results."""


async def resolve_lookups(
    requests: Iterable[LookupRequest], resolver: LookupResolver
) -> dict[LookupRequest, Any]:
    """Answer lookups with one resolver call per group.

    Groups are: record lookups per collection (one `find_records`, then one `create_records`
    for those not found that may be created), and id lookups per data link table and direction.
    """
    records: dict[CollectionRef, list[RecordLookup]] = defaultdict(list)
    external: dict[str, list[ExternalIdLookup]] = defaultdict(list)
    app: dict[str, list[AppIdLookup]] = defaultdict(list)
    for request in dict.fromkeys(requests):
        if isinstance(request, RecordLookup):
            records[request.collection].append(request)
        elif isinstance(request, ExternalIdLookup):
            external[request.table].append(request)
        else:
            app[request.table].append(request)
    resolved: dict[LookupRequest, Any] = {}
    for collection, group in records.items():
        resolved.update(await _resolve_records(collection, group, resolver))
    for table, ext_group in external.items():
        ids = [request.app_record_id for request in ext_group]
        found = _checked(await resolver.find_external_ids(table, ids), ids, "find_external_ids")
        resolved.update(zip(ext_group, found, strict=True))
    for table, app_group in app.items():
        ids = [request.external_record_id for request in app_group]
        found = _checked(await resolver.find_app_ids(table, ids), ids, "find_app_ids")
        resolved.update(zip(app_group, found, strict=True))
    return resolved


async def _resolve_records(
    collection: CollectionRef, group: list[RecordLookup], resolver: LookupResolver
) -> dict[LookupRequest, Any]:
    queries = list(dict.fromkeys(request.query_json for request in group))
    found = await resolver.find_records(collection, [json.loads(query) for query in queries])
    by_query = dict(zip(queries, _checked(found, queries, "find_records"), strict=True))
    to_create = list(
        dict.fromkeys(
            request.create_json
            for request in group
            if by_query[request.query_json] is None and request.create_json is not None
        )
    )
    created: dict[str, Any] = {}
    if to_create:
        made = await resolver.create_records(collection, [json.loads(text) for text in to_create])
        created = dict(zip(to_create, _checked(made, to_create, "create_records"), strict=True))
    return {
        request: by_query[request.query_json]
        if by_query[request.query_json] is not None
        else created.get(request.create_json or "")
        for request in group
    }


def _checked(results: Sequence[Any], asked: Sequence[Any], method: str) -> Sequence[Any]:
    if len(results) != len(asked):
        raise LookupBatchError(
            "", f"{method} returned {len(results)} results for {len(asked)} items"
        )
    return results


async def evaluate_with_io(
    value: Any,
    variables_list: Sequence[Any],
    resolver: LookupResolver,
    *,
    schemas: SchemaResolver | None = None,
) -> list[Any]:
    """Evaluate a mapping over many sets of variables, resolving its lookups in batches.

    Collects the lookups of all sets, resolves them with one call per group, and repeats
    while answers reveal further lookups (a lookup whose query uses another's result); then
    evaluates each set purely. For use in activities: the resolver does I/O.
    """
    compiled = compile_formula(value)
    resolved: dict[LookupRequest, Any] = {}
    while requests := compiled.collect_lookups(variables_list, resolved=resolved, schemas=schemas):
        resolved.update(await resolve_lookups(requests, resolver))
    return [
        compiled.evaluate(variables, resolved=resolved, schemas=schemas)
        for variables in variables_list
    ]
