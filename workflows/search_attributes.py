"""Osmo's custom search attributes and the dev server flags: used by `make run`, tests, benches."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
INTEGRATION_KEY = SearchAttributeKey.for_keyword("IntegrationKey")
CONNECTION_ID = SearchAttributeKey.for_keyword("ConnectionId")
FLOW_KEY = SearchAttributeKey.for_keyword("FlowKey")
FLOW_INSTANCE_ID = SearchAttributeKey.for_keyword("FlowInstanceId")
TRIGGER_TYPE = SearchAttributeKey.for_keyword("TriggerType")
WAITS_FOR_APP_EVENTS = SearchAttributeKey.for_keyword("WaitsForAppEvents")
"""`true` on flow runs with a `wait-for-event` node that takes app events: the runs
`POST /app-events/{typeKey}` signals."""

ALL = (
    CUSTOMER_ID,
    INTEGRATION_KEY,
    CONNECTION_ID,
    FLOW_KEY,
    FLOW_INSTANCE_ID,
    TRIGGER_TYPE,
    WAITS_FOR_APP_EVENTS,
)


SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "normal"}
"""The dev server's SQLite settings (docs/performance.md): a write-ahead log synced at checkpoints
rather than at every commit. Survives a crash of any process; an OS crash or power loss can lose
the last transactions before the latest sync. Doubles the runs per second (issue 12)."""


def dev_server_persistence_args() -> list[str]:
    """`--sqlite-pragma name=value` flags for `temporal server start-dev` (`SQLITE_PRAGMAS`)."""
    args: list[str] = []
    for name, value in SQLITE_PRAGMAS.items():
        args += ["--sqlite-pragma", f"{name}={value}"]
    return args


def dev_server_args(*, pragmas: bool = True) -> list[str]:
    """Flags for `temporal server start-dev`: `--search-attribute Name=Keyword` for Osmo's
    attributes and, with `pragmas`, the SQLite settings of `dev_server_persistence_args`."""
    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args + (dev_server_persistence_args() if pragmas else [])
