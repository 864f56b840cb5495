"""Polling and full scans of a subscription's data collection: the `pull_events` activity.

The inbox of a polling subscription (`workflows/event_inbox.py`) calls `pull_events` on its
timer with the cursor it holds, records the events it gets, and only then keeps the new cursor.
The activity reads the collection's `list` through the connector runtime (the same path as the
`list-data-records` node: `connectors/runtime/collections.py`), every page, and heartbeats after
each page with what it has read so far, so a retried attempt resumes after the last page read.

Cursors (JSON, kept in workflow state and mirrored in `event_subscriptions.cursor`):

- `pull-latest-records`: `{"since": <time>, "idsAtSince": [ids]}`. `since` is the newest
  value of the collection's cursor field (`field`, else the record's updated or created time)
  seen so far, exactly as the app writes it (ISO string or epoch number: it goes back to the
  app unchanged in `sinceParam`); `idsAtSince` are the ids of the records read at exactly that
  time. The lower bound is inclusive: records at `since` whose id is in `idsAtSince` are
  skipped, others at the same second are new. So a record updated in the same second as the
  last poll, after it, is neither lost nor doubled. Times are compared as instants (ISO 8601
  with or without offset, epoch seconds or milliseconds).
  No cursor (first pull): nothing is emitted; the cursor becomes the newest time the app has
  (the app's clock, not Osmo's), or `{"since": null}` for an empty collection, after which
  every record read is new.
  Event ids: `<recordId>:<time>`. Which event a changed record is: `data-record-created` when
  its created time is after `since`, or at `since` and its id was not read there (every
  record for `by: created-time`);
  `data-record-updated` when its updated time is after its created time (or either is
  unknown). A record created and then updated between two polls is both. Each subscription
  emits only its own event type.
- `full-scan`: `{"snapshot": <blob key>, "scans": n, "records": count}`. The snapshot
  `{recordId: sha256(canonical JSON of the record's fields)}` is stored encrypted in the blob
  store of the claim check (`core/blobs.py`), never in history. The scan diffs the whole
  collection with the previous snapshot: created (new id), updated (hash changed), deleted
  (gone). A page that fails fails the activity (Temporal retries it; a retry resumes after the
  last page read), so deletes are only ever computed from a complete scan. The scan id in
  event ids (`<recordId>:created|updated|deleted:<scanId>`) is derived from the previous cursor
  (snapshot key and scan count): the same input yields the same ids, and a later scan from a
  snapshot with the same content does not reuse them. No cursor: the snapshot is recorded and
  nothing is emitted. A snapshot missing from the blob store fails the pull
  (`event_snapshot_missing`, not retried) rather than starting over unnoticed.

A `pull-latest-records` subscription asked for a full scan (`PullInput.full_scan`, the `pull`
signal with `fullScan: true`) reads every page without the `sinceParam` bound and filters by
the cursor itself, for apps whose server-side filter misses changes.

Every pull writes an `external_event_pulls` row (running → completed | failed). Rate limits:
the runtime turns a 429 into an error carrying `Retry-After` as `next_retry_delay`, so the next
attempt waits that long as a server-side timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.connection_cache import ConnectionCache
from activities.connectors import output_redactor, to_application_error
from connectors.runtime import ConnectorRuntime
from connectors.runtime.collections import (
    decode_cursor,
    encode_cursor,
    find_collection,
    parse_record,
    run_method,
)
from connectors.runtime.context import ConnectionContext
from connectors.runtime.mapping import locate
from connectors.runtime.operations import fetch_page
from connectors.spec import DataCollection
from connectors.spec.collections import PullLatestRecords
from core.blobs import BlobNotFound, BlobStore
from core.crypto import Encryptor
from core.errors import OsmoError
from core.events.messages import ExternalEvent, PullInput, PullOutput
from core.events.models import EventSubscription, ExternalEventPull
from core.models import new_id, utcnow
from core.stores.connections import ConnectionStore

HEARTBEAT_INTERVAL = 1.0
"""Seconds between beats while a page is awaited (the SDK throttles what it sends)."""

_PULL_IDS = uuid.UUID("6f1b6a52-29c4-4f5e-9d8e-3a52c0de0a11")
_OFFSET = re.compile(r"([+-]\d\d)(\d\d)$")


def instant(value: Any) -> float | None:
    """Seconds since the epoch of a time as apps write it (ISO 8601, epoch s or ms), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        return seconds / 1000 if abs(seconds) > 1e11 else seconds
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    with contextlib.suppress(ValueError):
        return instant(float(text))
    text = _OFFSET.sub(r"\1:\2", text[:-1] + "+00:00" if text.endswith("Z") else text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def content_hash(record: dict[str, Any]) -> str:
    """What a full scan compares: the record's fields, canonically."""
    canonical = json.dumps(record.get("fields"), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def scan_id(cursor: dict[str, Any] | None) -> str:
    """Names one diff: the same previous cursor, the same id (a retried scan repeats ids)."""
    previous = cursor or {}
    seed = f"{previous.get('snapshot')}\x00{previous.get('scans', 0)}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def _not_supported(message: str) -> ApplicationError:
    return ApplicationError(message, type="pull_not_supported", non_retryable=True)


class _Beat:
    """Heartbeats with the latest progress: after each page, and every second meanwhile."""

    def __init__(self) -> None:
        self.details: dict[str, Any] | None = None
        self.live = activity.in_activity() and not activity.info().is_local
        self.task: asyncio.Task[None] | None = None

    def resumed(self) -> dict[str, Any]:
        """The progress a previous attempt of this activity reported, or {}."""
        if not self.live:
            return {}
        details = activity.info().heartbeat_details
        return dict(details[0]) if details and isinstance(details[0], dict) else {}

    def details_pages(self) -> int:
        return int((self.details or {}).get("pages", 0))

    def update(self, details: dict[str, Any]) -> None:
        self.details = details
        if self.live:
            activity.heartbeat(details)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            if self.details is None:
                activity.heartbeat()
            else:
                activity.heartbeat(self.details)

    async def __aenter__(self) -> _Beat:
        if self.live:
            self.task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class EventPullActivities:
    """`pull_events`, bound to the worker's connector runtime, database and blob store."""

    def __init__(
        self,
        engine: Engine,
        runtime: ConnectorRuntime,
        connections: ConnectionStore,
        blobs: BlobStore,
        encryptor: Encryptor,
    ) -> None:
        self.engine = engine
        self.runtime = runtime
        self.cache = ConnectionCache(connections)
        self.blobs = blobs
        self.encryptor = encryptor

    @activity.defn(name="pull_events")
    async def pull_events(self, input: PullInput) -> PullOutput:
        """Reads what changed in the subscription's collection since `input.cursor`.

        Give it a heartbeat timeout (30 s is plenty: it beats every second) and a retry policy;
        a 429 waits the app's `Retry-After` before the next attempt.
        """
        subscription = await asyncio.to_thread(self._subscription, input.subscription_id)
        scan = subscription.source == "full-scan"
        if subscription.source not in ("full-scan", "pull-latest-records"):
            raise _not_supported(
                f"Subscription {subscription.id} gets its events by {subscription.source}, "
                "not by polling"
            )
        if subscription.collection_key is None:
            raise _not_supported(f"Subscription {subscription.id} has no data collection")
        if not scan and subscription.event_type == "data-record-deleted":
            raise _not_supported("Polling for latest records cannot see deleted records")
        async with _Beat() as beat:
            progress = beat.resumed()
            beat.details = progress or None
            pull_id = str(progress.get("pullId") or self._new_pull_id())
            await asyncio.to_thread(
                self._start_pull, pull_id, subscription, scan or input.full_scan
            )
            try:
                stored = await self.cache.load(subscription.connection_id)
                ctx = self.runtime.context_for(stored)
                collection = find_collection(ctx, subscription.collection_key)
                if scan:
                    output = await self._scan(
                        ctx, subscription, collection, input, pull_id, progress, beat
                    )
                else:
                    output = await self._poll(
                        ctx, subscription, collection, input, pull_id, progress, beat
                    )
            except OsmoError as exc:
                await asyncio.to_thread(self._fail_pull, pull_id, exc.key, exc.message, beat)
                raise to_application_error(exc) from exc
            except BaseException as exc:
                key = exc.type if isinstance(exc, ApplicationError) else None
                await asyncio.to_thread(
                    self._fail_pull, pull_id, key or "pull_failed", str(exc), beat
                )
                raise
        await asyncio.to_thread(
            self._finish_pull, pull_id, len(output.events), beat.details_pages()
        )
        return output

    # --- pull-latest-records -------------------------------------------------------------

    async def _poll(
        self,
        ctx: ConnectionContext,
        subscription: EventSubscription,
        collection: DataCollection,
        input: PullInput,
        pull_id: str,
        progress: dict[str, Any],
        beat: _Beat,
    ) -> PullOutput:
        spec = _source(collection, subscription.event_type)
        if not isinstance(spec, PullLatestRecords):
            spec = PullLatestRecords(type="pull-latest-records", field="updatedTime")
        if spec.by == "cursor":
            raise _not_supported("Polling by an app cursor is not supported yet")
        # A cursor of another shape (the collection's source changed from a full scan) starts
        # over as a first pull does.
        cursor = input.cursor if isinstance(input.cursor, dict) and "since" in input.cursor else {}
        first = not cursor
        since_raw = cursor.get("since")
        since = instant(since_raw)
        skip = set(cursor.get("idsAtSince") or [])
        bound = (
            {spec.since_param: since_raw}
            if spec.since_param and since_raw is not None and not input.full_scan
            else {}
        )
        newest_raw = progress.get("newest", since_raw)
        at_newest: list[str] = list(progress.get("atNewest", sorted(skip)))
        newest = instant(newest_raw)
        events = [_event(e) for e in progress.get("events", [])]
        page_cursor: str | None = progress.get("page")
        pages = int(progress.get("pages", 0))
        done = bool(progress) and page_cursor is None
        redactor = output_redactor(ctx)
        while not done:
            page = await self._page(
                ctx, collection, subscription.collection_parameters, page_cursor, bound
            )
            older = 0
            for record in page["records"]:
                record_id = record.get("id")
                raw_time = _cursor_time(record, spec)
                moment = instant(raw_time)
                if record_id is None or moment is None:
                    continue
                if since is not None and (
                    moment < since or (moment == since and record_id in skip)
                ):
                    older += 1
                    continue
                if newest is None or moment > newest:
                    newest, newest_raw, at_newest = moment, raw_time, [record_id]
                elif moment == newest and record_id not in at_newest:
                    at_newest.append(record_id)
                if not first and _is_change(subscription.event_type, spec, record, since, skip):
                    events.append(
                        ExternalEvent(
                            id=f"{record_id}:{raw_time}",
                            type=subscription.event_type,
                            record_id=record_id,
                            record=redactor.value(record),
                            pull_id=pull_id,
                        )
                    )
            pages += 1
            page_cursor = page["cursor"]
            # Sorted newest first: once a whole page is older than the cursor, so is the rest.
            stop = spec.order == "desc" and not input.full_scan and page["records"]
            if page_cursor is None or (stop and older == len(page["records"])):
                done = True
                page_cursor = None
            beat.update(
                {
                    "pullId": pull_id,
                    "page": page_cursor,
                    "pages": pages,
                    "newest": newest_raw,
                    "atNewest": at_newest,
                    "events": events,
                }
            )
        unique = list({event.id: event for event in events}.values())
        new_cursor = {"since": newest_raw, "idsAtSince": sorted(at_newest)}
        return PullOutput(events=unique, cursor=new_cursor, complete=True, pull_id=pull_id)

    # --- full-scan -----------------------------------------------------------------------

    async def _scan(
        self,
        ctx: ConnectionContext,
        subscription: EventSubscription,
        collection: DataCollection,
        input: PullInput,
        pull_id: str,
        progress: dict[str, Any],
        beat: _Beat,
    ) -> PullOutput:
        cursor = (
            input.cursor
            if isinstance(input.cursor, dict) and isinstance(input.cursor.get("snapshot"), str)
            else None
        )
        previous = await self._load_snapshot(cursor["snapshot"]) if cursor else None
        scan = scan_id(cursor)
        wanted = subscription.event_type
        snapshot: dict[str, str] = dict(progress.get("snapshot", {}))
        events = [_event(e) for e in progress.get("events", [])]
        emitted = {event.record_id for event in events}
        page_cursor: str | None = progress.get("page")
        pages = int(progress.get("pages", 0))
        done = bool(progress) and page_cursor is None
        redactor = output_redactor(ctx)
        while not done:
            page = await self._page(
                ctx, collection, subscription.collection_parameters, page_cursor
            )
            for record in page["records"]:
                record_id = record.get("id")
                if record_id is None:
                    continue
                digest = content_hash(record)
                snapshot[record_id] = digest
                if previous is None or record_id in emitted:
                    continue
                change = (
                    "data-record-created"
                    if record_id not in previous
                    else "data-record-updated"
                    if previous[record_id] != digest
                    else None
                )
                if change == wanted:
                    emitted.add(record_id)
                    events.append(
                        ExternalEvent(
                            id=f"{record_id}:{change.rsplit('-', 1)[1]}:{scan}",
                            type=change,
                            record_id=record_id,
                            record=redactor.value(record),
                            pull_id=pull_id,
                        )
                    )
            pages += 1
            page_cursor = page["cursor"]
            done = page_cursor is None
            beat.update(
                {
                    "pullId": pull_id,
                    "page": page_cursor,
                    "pages": pages,
                    "snapshot": snapshot,
                    "events": events,
                }
            )
        # Every page was read: only now can a missing record mean a deleted one.
        if previous is not None and wanted == "data-record-deleted":
            events += [
                ExternalEvent(
                    id=f"{record_id}:deleted:{scan}",
                    type=wanted,
                    record_id=record_id,
                    pull_id=pull_id,
                )
                for record_id in previous
                if record_id not in snapshot
            ]
        reference = await self._save_snapshot(snapshot)
        scans = int((cursor or {}).get("scans", 0)) + 1
        new_cursor = {"snapshot": reference, "scans": scans, "records": len(snapshot)}
        return PullOutput(events=events, cursor=new_cursor, complete=True, pull_id=pull_id)

    # --- helpers -------------------------------------------------------------------------

    async def _page(
        self,
        ctx: ConnectionContext,
        collection: DataCollection,
        parameters: dict[str, Any],
        cursor: str | None,
        bound: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One page of the collection's `list`, as the `list-data-records` node reads it;
        `bound` adds query parameters (the poll's lower bound) to the list request."""
        if not bound:
            return await run_method(
                self.runtime, ctx, collection.key, "list", parameters=parameters, cursor=cursor
            )
        method = collection.list
        if method is None:
            raise _not_supported(f"Data collection {collection.key!r} cannot be listed")
        query = {**method.request.query, **{name: {"$var": "bound." + name} for name in bound}}
        mapping = method.request.model_copy(update={"query": query})
        variables = {"parameters": parameters, "id": None, "fields": {}, "query": {}}
        page = await fetch_page(
            self.runtime,
            ctx,
            mapping,
            {**variables, "bound": bound},
            decode_cursor(cursor),
            method.records_path,
        )
        return {
            "records": [parse_record(collection.record, raw) for raw in page.items],
            "cursor": encode_cursor(page.next),
        }

    async def _save_snapshot(self, snapshot: dict[str, str]) -> str:
        plaintext = json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
        key = hashlib.sha256(plaintext).hexdigest()
        await self.blobs.put(key, self.encryptor.encrypt_bytes(plaintext))
        return key

    async def _load_snapshot(self, key: str) -> dict[str, str]:
        try:
            sealed = await self.blobs.get(key)
        except BlobNotFound as exc:
            # Diffing with nothing would report every record as created and none as deleted;
            # starting over silently would hide changes. The subscription's `reset` clears it.
            raise ApplicationError(
                f"The previous snapshot {key} is gone from the blob store; reset the "
                "subscription to start a new one",
                type="event_snapshot_missing",
                non_retryable=True,
            ) from exc
        plaintext = self.encryptor.decrypt_bytes(sealed)
        if hashlib.sha256(plaintext).hexdigest() != key:
            raise ValueError(f"snapshot {key} does not match its key")
        snapshot: dict[str, str] = json.loads(plaintext)
        return snapshot

    @staticmethod
    def _new_pull_id() -> str:
        """The same id for every attempt of one activity (one row per pull, not per try)."""
        if not activity.in_activity():
            return new_id()
        info = activity.info()
        return uuid.uuid5(
            _PULL_IDS, f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"
        ).hex

    def _subscription(self, subscription_id: str) -> EventSubscription:
        with Session(self.engine) as session:
            row = session.get(EventSubscription, subscription_id)
        if row is None:
            raise ApplicationError(
                f"No event subscription {subscription_id}",
                type="event_subscription_not_found",
                non_retryable=True,
            )
        return row

    def _start_pull(self, pull_id: str, subscription: EventSubscription, full_scan: bool) -> None:
        with Session(self.engine) as session:
            row = session.get(ExternalEventPull, pull_id)
            if row is None:
                row = ExternalEventPull(
                    id=pull_id,
                    customer_id=subscription.customer_id,
                    connection_id=subscription.connection_id,
                    subscription_id=subscription.id,
                    full_scan=full_scan,
                    status="running",
                )
            row.status, row.finished_at = "running", None
            row.error_key = row.error_message = None
            session.add(row)
            session.commit()

    def _fail_pull(self, pull_id: str, key: str, message: str, beat: _Beat) -> None:
        with Session(self.engine) as session:
            row = session.get(ExternalEventPull, pull_id)
            if row is None:
                return
            row.status, row.finished_at = "failed", utcnow()
            row.error_key, row.error_message = key[:100], message
            row.page_count = beat.details_pages()
            session.add(row)
            session.commit()

    def _finish_pull(self, pull_id: str, events: int, pages: int) -> None:
        with Session(self.engine) as session:
            row = session.get(ExternalEventPull, pull_id)
            if row is None:
                return
            row.status, row.finished_at = "completed", utcnow()
            row.event_count, row.page_count = events, pages
            session.add(row)
            session.commit()


def _source(collection: DataCollection, event_type: str) -> Any:
    return getattr(collection.events, event_type.rsplit("-", 1)[1], None)


def _cursor_time(record: dict[str, Any], spec: PullLatestRecords) -> Any:
    """The record's value of the cursor field: `field` in its fields, else its parsed time."""
    fields = record.get("fields")
    value = locate(fields, spec.field) if isinstance(fields, dict) else None
    if value is None:
        value = record.get("createdTime" if spec.by == "created-time" else "updatedTime")
    return value


def _is_change(
    event_type: str,
    spec: PullLatestRecords,
    record: dict[str, Any],
    since: float | None,
    seen: set[str],
) -> bool:
    """Whether a record read after the cursor is an event of `event_type` (see the module
    docstring); `seen` are the ids read at exactly `since` by the poll before."""
    created = instant(record.get("createdTime"))
    updated = instant(record.get("updatedTime"))
    if event_type == "data-record-created":
        if spec.by == "created-time":
            return True
        if created is None:
            return False
        return since is None or created > since or (created == since and record["id"] not in seen)
    if spec.by == "created-time":
        return False
    return created is None or updated is None or updated > created


def _event(value: Any) -> ExternalEvent:
    """An event as heartbeat details bring it back (a dict) or as it is."""
    if isinstance(value, ExternalEvent):
        return value
    return ExternalEvent(**value)
