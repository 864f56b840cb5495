"""Formulas that need data from outside: `$lookup`, `$findExternalRecordId`, `$findAppRecordId`.

They never do I/O themselves. When collecting, they record a request and give undefined; when
evaluating, they read the answer from the resolved lookups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.formulas.errors import Site
from core.formulas.lookups import (
    AppIdLookup,
    CollectionRef,
    ExternalIdLookup,
    LookupRequest,
    RecordLookup,
    canonical_json,
)
from core.formulas.scope import Evaluator, Scope
from core.formulas.values import UNDEFINED, is_missing
from core.schemas.paths import join_key

if TYPE_CHECKING:
    from core.formulas.compiler import Compiler

_ABSENT = object()


def answer(scope: Scope, request: LookupRequest, site: Site) -> Any:
    """The resolved result of `request`, or undefined while collecting requests."""
    resolved = scope.resolved
    result = resolved.get(request, _ABSENT) if resolved is not None else _ABSENT
    if result is not _ABSENT:
        return result
    if scope.pending is not None:
        scope.pending[request] = None
        return UNDEFINED
    raise site.fail(scope, "lookup was not resolved: collect and resolve lookups first")


def compile_lookup(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$lookup": {"collection": {key, parameters}, "query": {...}, "createIfNotFound": true}}`.

    The id of the first record of the collection whose fields match `query`. With
    `createIfNotFound`, a missing record is created from `create` (default: the query). An
    empty query gives undefined without a lookup.
    """
    if not isinstance(arg, dict):
        return c.problem(here, "expected {collection, query, createIfNotFound?, create?}")
    for key in sorted(set(arg) - {"collection", "query", "createIfNotFound", "create"}):
        c.problem(join_key(here, key), "unknown $lookup attribute")
    collection = arg.get("collection")
    collection_path = join_key(here, "collection")
    if not isinstance(collection, dict) or not isinstance(collection.get("key"), str):
        return c.problem(collection_path, "expected {key, parameters?}")
    key = collection["key"]
    parameters = c.compile(
        collection.get("parameters", {}), join_key(collection_path, "parameters")
    )
    if not isinstance(arg.get("query"), dict):
        return c.problem(join_key(here, "query"), "expected an object of field values")
    query = c.compile(arg["query"], join_key(here, "query"))
    create_if_not_found = arg.get("createIfNotFound", False)
    if not isinstance(create_if_not_found, bool):
        c.problem(join_key(here, "createIfNotFound"), "expected true or false")
    if "create" in arg and not isinstance(arg["create"], dict):
        c.problem(join_key(here, "create"), "expected an object of field values")
    create = c.compile(arg["create"], join_key(here, "create")) if "create" in arg else query
    site = c.site(here, arg)

    def lookup(scope: Scope) -> Any:
        fields = query(scope)
        if not fields:
            return UNDEFINED
        new_record = canonical_json(create(scope)) if create_if_not_found is True else None
        request = RecordLookup(
            CollectionRef(key, canonical_json(parameters(scope))),
            canonical_json(fields),
            new_record,
        )
        record = answer(scope, request, site)
        if not isinstance(record, dict) or is_missing(record.get("id")):
            return UNDEFINED
        return record["id"]

    return lookup


def _compile_link(arg: Any, c: Compiler, here: str, to_external: bool) -> Evaluator:
    if not isinstance(arg, dict) or not isinstance(arg.get("dataLinkTable"), str):
        return c.problem(here, "expected {dataLinkTable, recordId}")
    if "recordId" not in arg:
        return c.problem(join_key(here, "recordId"), "expected the record id to translate")
    table = arg["dataLinkTable"]
    record_id = c.compile(arg["recordId"], join_key(here, "recordId"))
    site = c.site(here, arg)

    def find_linked_id(scope: Scope) -> Any:
        identifier = record_id(scope)
        if is_missing(identifier) or identifier == "":
            return UNDEFINED
        if type(identifier) not in (str, int):
            raise site.type_error(scope, "string", identifier)
        request: LookupRequest = (
            ExternalIdLookup(table, str(identifier))
            if to_external
            else AppIdLookup(table, str(identifier))
        )
        linked = answer(scope, request, site)
        return UNDEFINED if is_missing(linked) else linked

    return find_linked_id


def compile_find_external_record_id(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$findExternalRecordId": {"dataLinkTable": "tasks", "recordId": ...}}`."""
    return _compile_link(arg, c, here, to_external=True)


def compile_find_app_record_id(arg: Any, c: Compiler, here: str) -> Evaluator:
    """`{"$findAppRecordId": {"dataLinkTable": "tasks", "recordId": ...}}`."""
    return _compile_link(arg, c, here, to_external=False)
