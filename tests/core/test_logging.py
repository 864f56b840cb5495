"""No secret in any process log: access logs, httpx request lines, anything logged with a URL."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.logging import MASK, configure_logging, install_redaction, redact_query
from core.settings import ROOT
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import FAKE_CONNECTORS, WORKSPACE_SECRET, Osmo, create_crm_integration

CANARIES = [f"canary-log-{n}-9d2f" for n in range(6)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "GET /oauth/callback?code=abc&state=xyz&page=2",
            f"GET /oauth/callback?code={MASK}&state={MASK}&page=2",
        ),
        (
            '"GET /connect?integrationKey=crm&token=eyJ.a.b HTTP/1.1" 200',
            f'"GET /connect?integrationKey=crm&token={MASK} HTTP/1.1" 200',
        ),
        (
            "GET https://api.trello.com/1/boards?key=K1&token=T1 200",
            f"GET https://api.trello.com/1/boards?key={MASK}&token={MASK} 200",
        ),
        (
            "/x?client_secret=s&X-Api-Key=q;access_token=z&refresh_token=r#top",
            f"/x?client_secret={MASK}&X-Api-Key={MASK};access_token={MASK}&refresh_token={MASK}#top",
        ),
        ("/x?password=p&session=s&sort=asc", f"/x?password={MASK}&session={MASK}&sort=asc"),
        ("no query here: a=b", "no query here: a=b"),
    ],
)
def test_credential_query_values_are_masked(line: str, expected: str) -> None:
    assert redact_query(line) == expected


def test_records_are_redacted_whatever_logger_or_argument_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_redaction()
    caplog.set_level(logging.INFO)
    url = httpx.URL(f"https://api.example.com/v1?api_key={CANARIES[0]}&page=2")
    logging.getLogger("some.library").info("calling %s (%d)", url, 3)
    # An access-log line as uvicorn writes it (its own logger may not propagate in tests).
    logging.getLogger("osmo.test.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:1",
        "GET",
        f"/oauth/callback?code={CANARIES[1]}",
        "1.1",
        200,
    )
    assert CANARIES[0] not in caplog.text and CANARIES[1] not in caplog.text
    assert "page=2" in caplog.text and '"GET /oauth/callback?code=' in caplog.text


def test_tracebacks_are_redacted_too(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    caplog.set_level(logging.INFO)
    request = httpx.Request("GET", f"https://api.example.com/v1?token={CANARIES[5]}")
    try:
        httpx.Response(500, request=request).raise_for_status()
    except httpx.HTTPStatusError:
        logging.getLogger("osmo.worker").exception("activity failed")
    assert "HTTPStatusError" in caplog.text and "token=" in caplog.text
    assert CANARIES[5] not in caplog.text


async def test_proxy_calls_with_query_keys_leave_no_key_in_the_worker_log(
    osmo_sqlite: Osmo, crm: tuple[object, str], caplog: pytest.LogCaptureFixture
) -> None:
    # The worker's level (INFO), where httpx would print every request URL.
    configure_logging()
    caplog.set_level(logging.INFO)
    await create_crm_integration(osmo_sqlite, crm[1])
    await connect_oauth2(osmo_sqlite, "acme")
    connection = (await only_connection(osmo_sqlite, "acme"))["id"]
    response = await osmo_sqlite.call(
        "GET",
        f"/connections/{connection}/proxy/api/v1/contacts",
        params={"limit": 1, "hapikey": CANARIES[2], "token": CANARIES[3]},
        tenant="acme",
    )
    assert response.status_code == 200, response.text
    logging.getLogger("osmo.worker").info("proxied")
    assert "proxied" in caplog.text  # INFO lines are captured: the scan is not of nothing
    for canary in CANARIES[2:4]:
        assert canary not in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_api_access_log_holds_no_code_state_or_token(tmp_path: Path) -> None:
    """`uvicorn api.main:app` as deployed: its own logging config, access log on."""
    port = _free_port()
    env = {
        **os.environ,
        "OSMO_ENV": "test",
        "OSMO_WORKSPACE_KEY": "test",
        "OSMO_WORKSPACE_SECRET": WORKSPACE_SECRET,
        "OSMO_ENCRYPTION_KEYS": "k1:" + "A" * 43,
        "OSMO_DATABASE_URL": f"sqlite:///{tmp_path / 'osmo.db'}",
        "OSMO_CONNECTOR_PATHS": str(FAKE_CONNECTORS),
        "OSMO_BLOB_STORE": str(tmp_path / "blobs"),
    }
    log = (tmp_path / "api.log").open("w+")
    command = [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/health")
                break
            except httpx.TransportError:
                assert server.poll() is None, "the API exited"
                time.sleep(0.1)
        httpx.get(f"{base}/oauth/callback?code={CANARIES[0]}&state={CANARIES[1]}")
        httpx.get(f"{base}/connect?integrationKey=crm&token={CANARIES[2]}")
        httpx.get(f"{base}/connections/c-1/proxy/boards?key={CANARIES[3]}&token={CANARIES[4]}")
    finally:
        server.terminate()
        server.wait(timeout=15)
    log.seek(0)
    text = log.read()
    assert "GET /oauth/callback?code=" in text and "/connect?integrationKey=crm" in text
    for canary in CANARIES[:5]:
        assert canary not in text, text
