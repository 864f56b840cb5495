"""The demo CRM's state in a JSON file, so restarting `make run` keeps connections working.

Osmo stores the access and refresh tokens the CRM issued; an in-memory CRM forgets them when it
restarts, and the next call through the connection fails (`invalid_grant`, the connection turns
`disconnected`). `python -m demo.fake_crm --data-file .data/demo-crm.json` loads the file when
it starts and rewrites it after every request that may change something (anything but GET and
HEAD). Only the standalone demo persists; the tests' `FakeCRM` stays in memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from demo.fake_crm.state import AccessToken, AuthCode, CRMUser, OAuthClient, RefreshToken
from demo.fake_crm.webhooks import Subscription

if TYPE_CHECKING:
    from demo.fake_crm.app import FakeCRM

VERSION = 1
_RECORDS: dict[str, type[Any]] = {
    "clients": OAuthClient,
    "users": CRMUser,
    "codes": AuthCode,
    "access_tokens": AccessToken,
    "refresh_tokens": RefreshToken,
}
"""The protocol state kept, by attribute of `FakeCRM`, with the record type of its values."""


def snapshot(crm: FakeCRM) -> dict[str, Any]:
    """Everything a restart must keep: clients, users, codes, tokens and contacts."""
    with crm.lock:
        data: dict[str, Any] = {
            name: {key: asdict(value) for key, value in getattr(crm, name).items()}
            for name in _RECORDS
        }
        data["contacts"] = json.loads(json.dumps(crm.contacts))
        data["next_contact_id"] = crm.next_contact_id
        data["webhooks"] = {k: asdict(v) for k, v in crm.webhooks.subscriptions.items()}
        data["version"] = VERSION
        return data


def restore(crm: FakeCRM, data: dict[str, Any]) -> None:
    """Replaces the CRM's state (its seeded contacts and demo client included) with `data`."""
    if data.get("version") != VERSION:
        raise ValueError(f"unknown demo CRM state version {data.get('version')!r}")
    with crm.lock:
        for name, record in _RECORDS.items():
            setattr(crm, name, {key: record(**value) for key, value in data[name].items()})
        crm.contacts = data["contacts"]
        crm.next_contact_id = int(data["next_contact_id"])
        crm.webhooks.subscriptions = {
            key: Subscription(**value) for key, value in data.get("webhooks", {}).items()
        }


def save(crm: FakeCRM, path: Path) -> None:
    """Writes the state atomically: a crash mid-write leaves the previous file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(snapshot(crm)))
    os.replace(partial, path)


def load(crm: FakeCRM, path: Path) -> bool:
    """Restores the state saved at `path`; False (state untouched) when there is none."""
    if not path.exists():
        return False
    restore(crm, json.loads(path.read_text()))
    return True


def persist(app: FastAPI, crm: FakeCRM, path: Path) -> None:
    """Loads `path` now (or writes the fresh state there), and saves after every request that
    may change the state."""
    if not load(crm, path):
        save(crm, path)

    @app.middleware("http")
    async def save_after_writes(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.method not in ("GET", "HEAD"):
            save(crm, path)
        return response
