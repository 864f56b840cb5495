"""Customers this API process has seen recently, so a token does not cost a database write.

Every customer token names its customer (`tenantKey`, `name`, `fields`) and the customer is
created or updated from it on first use. Doing that upsert on every request was a read (and
sometimes a write) per call on the hot path; here a token whose claims were applied within the
last `ttl` seconds reuses the customer it resolved to. A token with another name or other
fields is a different entry, so claim changes still reach the database at once. Deleting or
changing a customer through this process forgets it here; another process notices within
`ttl`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from core.models import Customer

ClaimsKey = tuple[str, str | None, str]


def claims_key(tenant_key: str, name: str | None, fields: dict[str, Any] | None) -> ClaimsKey:
    return tenant_key, name, json.dumps(fields or {}, sort_keys=True, default=str)


class KnownCustomers:
    """A bounded, time-limited map from a token's customer claims to the customer.

    Args:
        ttl: Seconds an entry is trusted.
        size: Entries kept (the least recently used go first).
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self, ttl: float = 30.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[ClaimsKey, tuple[float, Customer]] = OrderedDict()
        self._lock = threading.Lock()  # the upsert path stores from worker threads

    def get(self, key: ClaimsKey) -> Customer | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self.clock() >= entry[0]:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: ClaimsKey, customer: Customer) -> None:
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl, customer)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, tenant_key: str) -> None:
        """Drops every entry of the customer (after it was changed or deleted)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == tenant_key]:
                del self._entries[key]
