"""A proxied write that may have reached the app is in the external API log even when the API
process dies before the answer: `kill -9` the API while the frozen (SIGSTOP) app holds it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from typing import Any

import httpx

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import CRM_CLIENT, Osmo, create_crm_integration
from tests.fakes.crm_process import crm_process
from tests.processes import start_api, stop


async def test_api_killed_mid_proxy_write_leaves_the_request_pending_in_the_log(
    osmo_sqlite: Osmo,
) -> None:
    osmo = osmo_sqlite
    email = f"proxy-{uuid.uuid4().hex[:8]}@example.com"
    with crm_process(CRM_CLIENT) as crm:
        await create_crm_integration(osmo, crm.url)
        await connect_oauth2(osmo, "acme")
        connection_id = (await only_connection(osmo, "acme"))["id"]
        # Another API process on the same database; Temporal is not needed by the proxy.
        api, url = await asyncio.to_thread(start_api, osmo.settings, "127.0.0.1:1", "unused")
        try:
            crm.stop()
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                write = asyncio.create_task(
                    client.post(
                        f"/connections/{connection_id}/proxy/api/v1/contacts",
                        headers=osmo.headers("acme"),
                        json={"properties": {"email": email}},
                    )
                )
                pending: list[dict[str, Any]] = []
                deadline = time.monotonic() + 20
                while not pending and time.monotonic() < deadline:
                    listed = await osmo.call(
                        "GET", "/external-api-logs", params={"connectionId": connection_id}
                    )
                    pending = [
                        log
                        for log in listed.json()["items"]
                        if log["method"] == "POST" and email in (log["requestBody"] or "")
                    ]
                    await asyncio.sleep(0.05)
                assert pending, "the proxied write was not logged before it was sent"
                api.send_signal(signal.SIGKILL)
                api.wait(timeout=10)
                with contextlib.suppress(httpx.TransportError):
                    await write  # the API died: the caller gets no answer
            crm.resume()
            deadline = time.monotonic() + 10
            while not crm.contacts_with(email) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(crm.contacts_with(email)) == 1  # the request did reach the app
            [log] = pending
            read = await osmo.call("GET", f"/external-api-logs/{log['id']}")
            assert read.status_code == 200, read.text
            shown = read.json()
            assert shown["state"] == "pending" and shown["status"] is None
            assert shown["url"] == f"{crm.url}/api/v1/contacts"
            assert shown["requestHeaders"]["authorization"] != osmo.headers("acme")["Authorization"]
            assert "crm_at_" not in str(shown)  # the CRM access token is redacted
            filtered = await osmo.call(
                "GET",
                "/external-api-logs",
                params={"connectionId": connection_id, "state": "pending"},
            )
            assert [item["id"] for item in filtered.json()["items"]] == [log["id"]]
        finally:
            crm.resume()
            stop(api)
