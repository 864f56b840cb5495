"""Resolved snapshots, reused while nothing they were resolved from has changed.

Resolving an action or a flow for a connection reads each element layer (the connection's
instance, its integration and universal parents, the data sources and actions its config points
at) plus the connection's customer and integration: about ten queries and a merge per layer, on
every run. A snapshot depends only on those elements' definitions, and every change to an
element (update, reset, update to latest) raises its `revision`; a deleted element disappears.
So a snapshot is remembered with the `(id, revision)` of every element read while resolving it,
and reused after one query shows all of them still at those revisions. Any process may change
an element: the check reads the database, not this process's memory, so a PATCH through another
API process is seen on the next run.

The customer's `tenantKey` and the integration's `key`, also in snapshots, never change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session, col, select

from core.elements.models import Element
from core.elements.store import ElementStore

T = TypeVar("T")

Revisions = frozenset[tuple[str, int]]


class RecordingStore(ElementStore):
    """An element store that remembers the `(id, revision)` of every element it resolves."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.read: set[tuple[str, int]] = set()

    def resolve(self, element: Element) -> dict[str, Any]:
        self.read.add((element.id, element.revision))
        return super().resolve(element)

    def record(self, element: Element) -> Element:
        """Counts `element` as read (one the snapshot depends on without resolving it)."""
        self.read.add((element.id, element.revision))
        return element


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T
    revisions: Revisions


def _current(session: Session, revisions: Revisions) -> bool:
    """Whether every element is still there at the same revision (one query)."""
    ids = [element_id for element_id, _ in revisions]
    rows = session.exec(select(Element.id, Element.revision).where(col(Element.id).in_(ids)))
    return frozenset((row[0], row[1]) for row in rows) == revisions


class SnapshotCache(Generic[T]):
    """Snapshots by key (e.g. connection, selector, instance key), each checked against the
    revisions of the elements it was resolved from before it is reused.

    Args:
        size: Snapshots kept in this process (the least recently used go first).
    """

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, _Entry[T]] = OrderedDict()
        self._lock = threading.Lock()  # resolved in worker threads
        self.hits = 0
        self.misses = 0

    def get(self, session: Session, key: Hashable, resolve: Callable[[RecordingStore], T]) -> T:
        """The snapshot for `key`: the remembered one if its elements are unchanged, otherwise
        `resolve(store)` (remembered with what `store` read; errors are not remembered)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is not None and entry.revisions and _current(session, entry.revisions):
            self.hits += 1
            return entry.value
        self.misses += 1
        store = RecordingStore(session)
        value = resolve(store)
        with self._lock:
            self._entries[key] = _Entry(value, frozenset(store.read))
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
