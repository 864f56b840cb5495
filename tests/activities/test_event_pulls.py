"""`pull_events` (activities/event_pulls.py) against the fake deals app on loopback.

Polling (`pull-latest-records`): first pull emits nothing, changes across pages come once each,
same-second changes are neither lost nor doubled, a retried pull repeats its ids. Full scans:
created / updated / deleted by diff, and a scan failing half-way emits no deletes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from activities.event_pulls import EventPullActivities, instant
from core.events.messages import PullInput, PullOutput
from tests.activities.pull_fixtures import deals_connection, pulls_of, subscribe
from tests.conftest import Osmo
from tests.fakes import serve
from tests.fakes.deals import FakeDeals, rfc3339
from worker import Activities, build_activities


@dataclass
class Setup:
    osmo: Osmo
    fake: FakeDeals
    connection_id: str
    activities: EventPullActivities

    def subscribe(self, event_type: str, source: str, collection: str = "deals") -> str:
        return subscribe(self.osmo, self.connection_id, event_type, source, collection)

    async def pull(self, subscription_id: str, cursor: Any = None, **kw: Any) -> PullOutput:
        return await self.activities.pull_events(PullInput(subscription_id, cursor=cursor, **kw))


@pytest.fixture
def deals_app() -> Iterator[tuple[FakeDeals, str]]:
    fake = FakeDeals(seed=10)  # the connector reads pages of 3: 4 pages
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
async def setup(osmo_sqlite: Osmo, deals_app: tuple[FakeDeals, str]) -> AsyncIterator[Setup]:
    fake, url = deals_app
    connection_id = await deals_connection(osmo_sqlite, url)
    built: Activities = build_activities(osmo_sqlite.settings)
    try:
        yield Setup(osmo_sqlite, fake, connection_id, built.event_pulls)
    finally:
        await built.aclose()


def ids(output: PullOutput) -> list[str]:
    return [event.id for event in output.events]


def record_ids(output: PullOutput) -> list[str]:
    return sorted(str(event.record_id) for event in output.events)


def test_times_are_compared_as_instants() -> None:
    assert instant("2024-01-01T00:00:00Z") == instant("2024-01-01T00:00:00.000+0000")
    assert instant(1_704_067_200) == instant(1_704_067_200_000) == instant("2024-01-01T00:00:00")
    assert instant("not a time") is None and instant(None) is None


async def test_first_pull_emits_nothing_and_starts_from_the_apps_newest_time(
    setup: Setup,
) -> None:
    sub = setup.subscribe("data-record-created", "pull-latest-records")
    first = await setup.pull(sub)
    assert first.events == [] and first.complete
    newest = rfc3339(setup.fake.clock)
    assert first.cursor == {"since": newest, "idsAtSince": sorted(str(i) for i in range(1, 11))}
    again = await setup.pull(sub, first.cursor)
    assert again.events == [] and again.cursor == first.cursor
    # The second pull asked the app for changes since the cursor, which it sends back as is.
    assert setup.fake.listings()[-1]["query"]["updated_since"] == newest
    rows = pulls_of(setup.osmo.services.engine, sub)
    assert [(r.status, r.event_count, r.page_count) for r in rows] == [
        ("completed", 0, 4),
        ("completed", 0, 4),
    ]


async def test_changes_across_pages_are_emitted_once_each_with_the_subscriptions_type(
    setup: Setup,
) -> None:
    created = setup.subscribe("data-record-created", "pull-latest-records")
    updated = setup.subscribe("data-record-updated", "pull-latest-records")
    cursors = {sub: (await setup.pull(sub)).cursor for sub in (created, updated)}
    fake = setup.fake
    fake.tick(5)
    for deal_id in (1, 4, 7):  # one on each of the seeded pages
        fake.update(deal_id, value=1)
    fake.tick(1)
    new = [fake.create(f"New {i}")["id"] for i in range(4)]
    before = len(fake.listings())
    got_created = await setup.pull(created, cursors[created])
    # The bound is inclusive: the 7 unchanged deals at the cursor's second come again (and are
    # skipped by id), with the 3 changed and 4 new ones: 14 in pages of 3.
    assert len(fake.listings()) - before == 5
    assert sorted(ids(got_created)) == sorted(f"{i}:{rfc3339(fake.clock)}" for i in new)
    assert {e.type for e in got_created.events} == {"data-record-created"}
    assert got_created.events[0].record["name"].startswith("New")
    got_updated = await setup.pull(updated, cursors[updated])
    assert record_ids(got_updated) == ["1", "4", "7"]
    assert {e.type for e in got_updated.events} == {"data-record-updated"}
    assert {e.id for e in got_updated.events} == {
        f"{i}:{rfc3339(fake.clock - 1)}" for i in (1, 4, 7)
    }
    # The next polls find nothing new.
    assert (await setup.pull(created, got_created.cursor)).events == []
    assert (await setup.pull(updated, got_updated.cursor)).events == []


async def test_same_second_changes_are_neither_lost_nor_doubled(setup: Setup) -> None:
    fake = setup.fake
    for deal_id in list(fake.deals):
        fake.delete(deal_id)
    sub = setup.subscribe("data-record-created", "pull-latest-records")
    empty = await setup.pull(sub)
    assert empty.events == [] and empty.cursor == {"since": None, "idsAtSince": []}
    fake.tick(10)
    a = fake.create("A")["id"]
    first = await setup.pull(sub, empty.cursor)  # after an empty start, everything is new
    assert ids(first) == [f"{a}:{rfc3339(fake.clock)}"]
    # Same second, after the poll: B is new, A is not again.
    b = fake.create("B")["id"]
    second = await setup.pull(sub, first.cursor)
    assert ids(second) == [f"{b}:{rfc3339(fake.clock)}"]
    assert second.cursor == {"since": rfc3339(fake.clock), "idsAtSince": [str(a), str(b)]}
    c = fake.create("C")["id"]
    third = await setup.pull(sub, second.cursor)
    assert ids(third) == [f"{c}:{rfc3339(fake.clock)}"]
    assert (await setup.pull(sub, third.cursor)).events == []
    # Updates: one polled in its second is not read again; another in that second is.
    updates = setup.subscribe("data-record-updated", "pull-latest-records")
    start = await setup.pull(updates)
    fake.tick(1)
    fake.update(a, value=1)
    seen = await setup.pull(updates, start.cursor)
    assert ids(seen) == [f"{a}:{rfc3339(fake.clock)}"]
    fake.update(b, value=2)
    later = await setup.pull(updates, seen.cursor)
    assert ids(later) == [f"{b}:{rfc3339(fake.clock)}"]
    assert (await setup.pull(updates, later.cursor)).events == []


async def test_without_a_since_parameter_a_newest_first_poll_stops_at_older_pages(
    setup: Setup,
) -> None:
    fake = setup.fake
    sub = setup.subscribe("data-record-updated", "pull-latest-records", "recent-deals")
    start = await setup.pull(sub)
    fake.tick(3)
    fake.update(2, title="Renamed")
    before = len(fake.listings())
    got = await setup.pull(sub, start.cursor)
    assert ids(got) == [f"2:{rfc3339(fake.clock)}"]
    listed = fake.listings()[before:]
    assert all("updated_since" not in r["query"] for r in listed)
    # Page 1 holds the change, page 2 only older deals: pages 3 and 4 are never asked for.
    assert len(listed) == 2
    # Asked for a full scan, it reads every page and still finds just the change.
    before = len(fake.listings())
    full = await setup.pull(sub, start.cursor, full_scan=True)
    assert ids(full) == ids(got) and len(fake.listings()) - before == 4


async def test_full_scan_emits_created_updated_and_deleted_by_diff(setup: Setup) -> None:
    fake = setup.fake
    subs = {
        kind: setup.subscribe(f"data-record-{kind}", "full-scan")
        for kind in ("created", "updated", "deleted")
    }
    first = {kind: await setup.pull(sub) for kind, sub in subs.items()}
    assert all(out.events == [] for out in first.values())
    assert first["created"].cursor["records"] == 10 and first["created"].cursor["scans"] == 1
    assert len(first["created"].cursor["snapshot"]) == 64  # a blob key, not the records
    fake.tick(1)
    fake.update(2, value=999)
    fake.update(6, title="Changed")
    fake.delete(1)
    fake.delete(5)
    fake.create("Fresh")
    got = {kind: await setup.pull(subs[kind], first[kind].cursor) for kind in subs}
    assert [e.record_id for e in got["created"].events] == ["11"]
    assert record_ids(got["updated"]) == ["2", "6"]
    assert record_ids(got["deleted"]) == ["1", "5"]
    scan = got["deleted"].events[0].id.rsplit(":", 1)[1]
    assert sorted(ids(got["deleted"])) == [f"1:deleted:{scan}", f"5:deleted:{scan}"]
    assert ids(got["created"]) == [f"11:created:{scan}"]
    # Nothing changed since: the next scans emit nothing.
    for kind in subs:
        assert (await setup.pull(subs[kind], got[kind].cursor)).events == []


async def test_a_scan_failing_half_way_emits_no_deletes_and_the_next_complete_scan_does(
    setup: Setup,
) -> None:
    fake = setup.fake
    sub = setup.subscribe("data-record-deleted", "full-scan")
    start = await setup.pull(sub)
    fake.delete(2)  # on page 1
    fake.delete(9)  # on page 3 ([8, 10])
    fake.fail_pages = {3}
    for _ in range(2):  # each attempt fails, and emits nothing
        with pytest.raises(ApplicationError) as failed:
            await setup.pull(sub, start.cursor)
        assert not failed.value.non_retryable  # Temporal retries the pull
    rows = pulls_of(setup.osmo.services.engine, sub)
    assert [(r.status, r.error_key) for r in rows[1:]] == [("failed", "server_error")] * 2
    fake.fail_pages = set()
    done = await setup.pull(sub, start.cursor)
    assert record_ids(done) == ["2", "9"]
    assert pulls_of(setup.osmo.services.engine, sub)[-1].status == "completed"


async def test_a_retried_pull_yields_the_same_event_ids(setup: Setup) -> None:
    fake = setup.fake
    poll = setup.subscribe("data-record-updated", "pull-latest-records")
    scan = setup.subscribe("data-record-updated", "full-scan", "recent-deals")
    cursors = {sub: (await setup.pull(sub)).cursor for sub in (poll, scan)}
    fake.tick(2)
    fake.update(3, value=5)
    fake.update(5, value=6)
    for sub in (poll, scan):
        once = await setup.pull(sub, cursors[sub])
        twice = await setup.pull(sub, cursors[sub])
        assert len(once.events) == 2
        assert ids(once) == ids(twice) and once.cursor == twice.cursor
        assert once.pull_id != twice.pull_id  # two pulls, two log rows


async def test_a_webhook_subscription_is_not_polled(setup: Setup) -> None:
    sub = setup.subscribe("data-record-created", "webhook")
    with pytest.raises(ApplicationError) as refused:
        await setup.pull(sub)
    assert refused.value.type == "pull_not_supported" and refused.value.non_retryable
    with pytest.raises(ApplicationError) as missing:
        await setup.pull("no-such-subscription")
    assert missing.value.type == "event_subscription_not_found"


async def test_a_scan_whose_snapshot_is_gone_fails_instead_of_starting_over(
    setup: Setup,
) -> None:
    sub = setup.subscribe("data-record-deleted", "full-scan")
    start = await setup.pull(sub)
    key = start.cursor["snapshot"]
    (Path(setup.osmo.settings.blob_store) / key[:2] / key).unlink()
    with pytest.raises(ApplicationError) as gone:
        await setup.pull(sub, start.cursor)
    assert gone.value.type == "event_snapshot_missing" and gone.value.non_retryable
    assert pulls_of(setup.osmo.services.engine, sub)[-1].status == "failed"
