"""POST /flow-runs/{id}/rerun from the failed node, end to end on the dev server (issue 11).

A for-each at concurrency 3 fails on one item; the rerun, with the definition fixed, must run
every item and branch the failed run had not finished, once, and nothing it had: the fake CRM
refuses a second contact with the same email, so a repeated write would fail the rerun.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import Osmo
from tests.workflows.flow_fixtures import crm_connection, finished, flow_worker

PEOPLE = [
    {"email": f"p{n}@example.com", "name": 1815 if n == 1 else f"Person{n} Example"}
    for n in range(6)
]

CHECK_FAILS = {"$firstName": {"$var": "input.each.name"}}
"""`$firstName` refuses a number: `check` fails for person 1 only."""

CHECK_FIXED = {"$firstName": {"$tpl": "{input.each.name}"}}
"""The fix: the name rendered as text first."""


def nodes(check: dict[str, Any]) -> dict[str, Any]:
    """trigger → [owner, each → check → create → [tagged, counted], summary], where `check`
    computes its value with the formula `check`."""
    return {
        "trigger": {
            "type": "api-trigger",
            "links": [{"key": "owner"}, {"key": "each"}, {"key": "summary"}],
        },
        "owner": {
            "type": "create-data-record",
            "config": {
                "collectionKey": "contacts",
                "fields": {"email": {"$var": "input.trigger.owner"}},
            },
        },
        "each": {
            "type": "for-each",
            "config": {"items": {"$var": "input.trigger.people"}},
            "concurrency": 3,
            "links": [{"key": "check"}],
        },
        "check": {
            "type": "transform-data",
            "config": {"value": check},
            "links": [{"key": "create"}],
        },
        "create": {
            "type": "create-data-record",
            "config": {
                "collectionKey": "contacts",
                "fields": {"email": {"$var": "input.each.email"}},
            },
            "links": [{"key": "tagged"}, {"key": "counted"}],
        },
        "tagged": {"type": "transform-data", "config": {"value": {"$var": "input.check"}}},
        "counted": {"type": "transform-data", "config": {"value": 1}},
        "summary": {"type": "transform-data", "config": {"value": "imported"}},
    }


@pytest.fixture
async def running(osmo: Osmo, crm, env: WorkflowEnvironment) -> AsyncIterator[tuple[Osmo, str]]:
    _, url = crm
    connection_id = await crm_connection(osmo, url)
    async with flow_worker(osmo, env):
        yield osmo, connection_id


def emails(fake: Any) -> Counter[str]:
    return Counter(c["properties"]["email"] for c in fake.contacts.values())


async def test_rerun_from_the_failed_node_finishes_the_loop_and_the_branches(running, crm) -> None:
    osmo, connection_id = running
    fake, _ = crm
    seeded = emails(fake)
    response = await osmo.call(
        "POST", "/flows", json={"key": "import-people", "nodes": nodes(CHECK_FAILS)}
    )
    assert response.status_code == 201, response.text
    started = await osmo.call(
        "POST",
        f"/connections/{connection_id}/flows/import-people/run",
        tenant="acme",
        json={"input": {"owner": "owner@example.com", "people": PEOPLE}},
    )
    assert started.status_code == 201, started.text
    failed = await finished(osmo, started.json()["id"])
    assert failed["state"] == "failed" and failed["failedNodeKey"] == "check", failed
    ran = Counter(r["nodeKey"] for r in failed["nodeRuns"] if r["state"] == "completed")
    assert ran["owner"] == 1 and ran["summary"] == 0 and ran["tagged"] == 0
    assert emails(fake) - seeded == Counter({"owner@example.com": 1})

    # A node the failed run had not finished, gone from the current definition: a clear 422.
    broken = nodes(CHECK_FIXED)
    for gone in ("create", "tagged", "counted"):
        del broken[gone]
    broken["check"]["links"] = []
    changed = await osmo.call("PATCH", "/flows/import-people", json={"nodes": broken})
    assert changed.status_code == 200, changed.text
    refused = await osmo.call(
        "POST",
        f"/flow-runs/{failed['id']}/rerun",
        tenant="acme",
        json={"from": "failed-node", "definition": "current"},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["key"] == "pending_node_not_found"
    assert refused.json()["data"]["nodeKeys"] == ["create"]

    # Fixed: the rerun on the current definition finishes everything left, once.
    fixed = await osmo.call("PATCH", "/flows/import-people", json={"nodes": nodes(CHECK_FIXED)})
    assert fixed.status_code == 200, fixed.text
    rerun = await osmo.call(
        "POST",
        f"/flow-runs/{failed['id']}/rerun",
        tenant="acme",
        json={"from": "failed-node", "definition": "current"},
    )
    assert rerun.status_code == 201, rerun.text
    assert rerun.json()["startNodeKey"] is None  # the failed run's: it started at the trigger
    resumed = await finished(osmo, rerun.json()["id"])
    assert resumed["state"] == "completed", resumed
    assert resumed["startNodeKey"] is None and resumed["input"] == failed["input"]
    expected = Counter({"owner@example.com": 1} | {p["email"]: 1 for p in PEOPLE})
    assert emails(fake) - seeded == expected  # every person once; the owner not again

    # GET shows the rerun's own node runs only: not the trigger, owner or for-each it
    # inherited, each item through both branches once, the summary last.
    runs = resumed["nodeRuns"]
    assert all(r["state"] == "completed" for r in runs)
    assert runs[0]["nodeKey"] == "check" and runs[0]["input"]["each"] == PEOPLE[1]
    assert {r["nodeKey"] for r in runs} == {"check", "create", "tagged", "counted", "summary"}
    per_item = {
        key: Counter(r["input"]["each"]["email"] for r in runs if r["nodeKey"] == key)
        for key in ("create", "tagged", "counted")
    }
    checked = Counter(r["input"]["each"]["email"] for r in runs if r["nodeKey"] == "check")
    # `check` ran again only for the items whose `check` had not finished.
    checked_before = Counter(
        r["input"]["each"]["email"]
        for r in failed["nodeRuns"]
        if r["nodeKey"] == "check" and r["state"] == "completed"
    )
    assert checked + checked_before == Counter(p["email"] for p in PEOPLE)
    assert all(per_item[key] == Counter(p["email"] for p in PEOPLE) for key in per_item)
    assert [r["nodeKey"] for r in runs][-1] == "summary"
    # Inputs are filled in from the failed run's outputs (the item the for-each gave).
    person1 = next(r for r in runs if r["nodeKey"] == "create" and r["input"]["each"] == PEOPLE[1])
    assert person1["input"]["trigger"] == failed["input"] and person1["input"]["check"] == "1815"
    tagged = sorted(r["outputs"][0] for r in runs if r["nodeKey"] == "tagged")
    assert tagged == ["1815", *(f"Person{n}" for n in (0, 2, 3, 4, 5))]
    ids = [r["id"] for r in runs]
    assert len(set(ids)) == len(ids)
    # The failed run reads as before.
    again = await finished(osmo, failed["id"])
    assert again["state"] == "failed" and again["nodeRuns"] == failed["nodeRuns"]
