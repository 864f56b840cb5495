from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from core.formulas import (
    AppIdLookup,
    CollectionRef,
    ExternalIdLookup,
    FormulaEvaluationError,
    LookupBatchError,
    LookupRequest,
    RecordLookup,
    collect_lookups,
    dump_request,
    dump_resolved,
    evaluate,
    evaluate_with_io,
    load_request,
    load_resolved,
)


class CountingResolver:
    """A fake resolver over in-memory collections and link tables that counts its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, int]] = []
        self.records: dict[str, list[dict[str, Any]]] = {
            "companies": [{"id": f"co-{i}", "domain": f"d{i}.com"} for i in range(50)]
        }
        self.links = {"contacts": {f"app-{i}": f"ext-{i}" for i in range(0, 100, 2)}}

    async def find_records(
        self, collection: CollectionRef, queries: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any] | None]:
        self.calls.append(("find_records", collection.key, len(queries)))
        rows = self.records.get(collection.key, [])
        return [
            next((r for r in rows if all(r.get(k) == v for k, v in q.items())), None)
            for q in queries
        ]

    async def create_records(
        self, collection: CollectionRef, records: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        self.calls.append(("create_records", collection.key, len(records)))
        rows = self.records.setdefault(collection.key, [])
        created = [{"id": f"new-{len(rows) + i}", **r} for i, r in enumerate(records)]
        rows.extend(created)
        return created

    async def find_external_ids(
        self, table: str, app_record_ids: Sequence[str]
    ) -> list[str | None]:
        self.calls.append(("find_external_ids", table, len(app_record_ids)))
        return [self.links[table].get(i) for i in app_record_ids]

    async def find_app_ids(
        self, table: str, external_record_ids: Sequence[str]
    ) -> list[str | None]:
        self.calls.append(("find_app_ids", table, len(external_record_ids)))
        reverse = {v: k for k, v in self.links[table].items()}
        return [reverse.get(i) for i in external_record_ids]


COMPANY = {
    "$lookup": {
        "collection": {"key": "companies", "parameters": {"region": "eu"}},
        "query": {"domain": {"$domainFromEmail": {"$var": "email"}}},
    }
}
MAPPING = {
    "companyId": COMPANY,
    "externalId": {
        "$findExternalRecordId": {"dataLinkTable": "contacts", "recordId": {"$var": "id"}}
    },
    "name": {"$var": "name"},
}


def contacts(n: int) -> list[dict[str, Any]]:
    return [
        {"id": f"app-{i}", "email": f"user{i}@d{i % 60}.com", "name": f"U{i}"} for i in range(n)
    ]


async def test_mapping_over_100_records_makes_one_call_per_group() -> None:
    resolver = CountingResolver()
    results = await evaluate_with_io(MAPPING, contacts(100), resolver)
    assert sorted(resolver.calls) == [
        ("find_external_ids", "contacts", 100),
        ("find_records", "companies", 60),
    ]
    assert results[0] == {"companyId": "co-0", "externalId": "ext-0", "name": "U0"}
    assert results[1] == {"companyId": "co-1", "name": "U1"}
    assert results[55] == {"name": "U55"}


async def test_create_if_not_found_creates_in_one_batch() -> None:
    resolver = CountingResolver()
    mapping = {
        "companyId": {
            "$lookup": {
                "collection": {"key": "companies"},
                "query": {"domain": {"$domainFromEmail": {"$var": "email"}}},
                "createIfNotFound": True,
                "create": {
                    "domain": {"$domainFromEmail": {"$var": "email"}},
                    "source": "osmo",
                },
            }
        }
    }
    results = await evaluate_with_io(mapping, contacts(120), resolver)
    assert sorted(resolver.calls) == [
        ("create_records", "companies", 10),
        ("find_records", "companies", 60),
    ]
    assert results[55]["companyId"].startswith("new-")
    assert results[115] == results[55] != results[56]
    assert {"id": results[55]["companyId"], "domain": "d55.com", "source": "osmo"} in (
        resolver.records["companies"]
    )


async def test_lookups_that_depend_on_lookups_take_one_more_round() -> None:
    resolver = CountingResolver()
    mapping = {
        "appId": {
            "$findAppRecordId": {
                "dataLinkTable": "contacts",
                "recordId": {
                    "$findExternalRecordId": {
                        "dataLinkTable": "contacts",
                        "recordId": {"$var": "id"},
                    }
                },
            }
        }
    }
    results = await evaluate_with_io(mapping, contacts(10), resolver)
    assert resolver.calls == [
        ("find_external_ids", "contacts", 10),
        ("find_app_ids", "contacts", 5),
    ]
    assert results[:3] == [{"appId": "app-0"}, {}, {"appId": "app-2"}]


async def test_mapping_without_lookups_makes_no_call() -> None:
    resolver = CountingResolver()
    assert await evaluate_with_io({"n": {"$var": "name"}}, contacts(3), resolver) == [
        {"n": "U0"},
        {"n": "U1"},
        {"n": "U2"},
    ]
    assert resolver.calls == []


def test_collect_lookups_deduplicates_and_skips_empty_queries() -> None:
    variables = [{"email": "a@x.com", "id": 1}, {"email": "b@X.com", "id": 1}, {"email": None}]
    requests = collect_lookups(MAPPING, variables)
    company = RecordLookup(CollectionRef.of("companies", {"region": "eu"}), '{"domain":"x.com"}')
    assert requests == [company, ExternalIdLookup("contacts", "1")]
    assert {hash(r) for r in requests}


def test_evaluate_is_pure_given_resolved_lookups() -> None:
    company = RecordLookup(CollectionRef.of("companies", {"region": "eu"}), '{"domain":"x.com"}')
    resolved: dict[LookupRequest, Any] = {
        company: {"id": "co-x"},
        ExternalIdLookup("contacts", "7"): None,
    }
    assert evaluate(MAPPING, {"email": "a@x.com", "id": 7}, resolved=resolved) == {
        "companyId": "co-x"
    }


def test_unresolved_lookup_fails_with_path() -> None:
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate(MAPPING, {"email": "a@x.com"})
    assert raised.value.path == "companyId.$lookup"
    assert "not resolved" in raised.value.message


def test_requests_and_results_round_trip_through_json() -> None:
    record = RecordLookup(CollectionRef.of("c", {"b": 1, "a": [2]}), '{"q":1}', '{"q":1,"x":2}')
    requests: list[LookupRequest] = [
        record,
        ExternalIdLookup("t", "1"),
        AppIdLookup("t", "e1"),
    ]
    assert [load_request(dump_request(r)) for r in requests] == requests
    resolved: dict[LookupRequest, Any] = {
        requests[0]: {"id": "r1"},
        requests[1]: "e",
        requests[2]: None,
    }
    assert load_resolved(dump_resolved(resolved)) == resolved
    assert record.collection.parameters == {"a": [2], "b": 1}
    assert record.create == {"q": 1, "x": 2}


async def test_resolver_answering_the_wrong_count_is_reported() -> None:
    class Broken(CountingResolver):
        async def find_external_ids(
            self, table: str, app_record_ids: Sequence[str]
        ) -> list[str | None]:
            return []

    mapping = {"$findExternalRecordId": {"dataLinkTable": "contacts", "recordId": "1"}}
    with pytest.raises(LookupBatchError, match="find_external_ids returned 0 results for 1"):
        await evaluate_with_io(mapping, [{}], Broken())
