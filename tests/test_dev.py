"""`osmo dev` (dev.py): it works without tests/ (the Docker image and installed copies leave it
out), supervises its processes, and its demo CRM keeps its data in a file.

The launcher started for real, with the README's examples, is in tests/test_readme_examples.py.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.settings import ROOT, Settings
from demo.fake_crm import FakeCRM
from demo.fake_crm.persist import persist
from dev import (
    BACKOFF_START,
    STABLE_SECONDS,
    DevConfig,
    Supervisor,
    child_environment,
    dev_settings,
)

# Importing anything under `tests` fails in the child, as it would where tests/ is absent.
WITHOUT_TESTS = "import sys; sys.modules['tests'] = None\n"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TESTS + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_launcher_and_its_demo_crm_import_without_tests() -> None:
    done = _run(
        "import dev, cli, demo.fake_crm\n"
        "from connectors.registry import ConnectorRegistry\n"
        "crm = ConnectorRegistry([dev.DEMO_CONNECTORS]).get('fake-crm')\n"
        "assert crm is not None and crm.auth_option('oauth2') is not None\n"
    )
    assert done.returncode == 0, done.stderr


def test_the_demo_crm_the_launcher_starts_runs_as_a_module_without_tests() -> None:
    done = _run(
        "import runpy, sys\n"
        "sys.argv = ['demo.fake_crm', '--help']\n"
        "runpy.run_module('demo.fake_crm', run_name='__main__')\n"
    )
    # argparse's --help exits 0 after printing the fake's options.
    assert done.returncode == 0, done.stderr
    assert "Run the fake CRM standalone" in done.stdout


def test_a_stopped_child_is_reported_and_restarted_after_a_doubling_delay(
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = [0.0]
    supervisor = Supervisor(
        {"flaky": ["sh", "-c", "exit 3"]},
        dict(os.environ),
        clock=lambda: now[0],
    )
    child = supervisor.start("flaky")
    delays = []
    for _ in range(7):
        assert child.proc is not None
        child.proc.wait(timeout=30)
        supervisor.check()  # reports the exit, schedules the restart
        assert child.restart_at is not None
        delays.append(child.restart_at - now[0])
        supervisor.check()  # too early: nothing starts
        assert child.proc.poll() is not None and child.restarts == len(delays) - 1
        now[0] = child.restart_at
        supervisor.check()  # restarts it
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert child.restarts == 7
    err = capsys.readouterr().err
    assert "osmo dev: flaky (pid" in err and "exited with code 3; restarting it in 1s" in err
    assert "osmo dev: flaky restarted (pid" in err
    # A child that ran long enough before stopping starts again after the shortest delay.
    assert child.proc is not None
    child.proc.wait(timeout=30)
    now[0] += STABLE_SECONDS
    supervisor.check()
    assert child.restart_at == now[0] + BACKOFF_START


def test_stop_all_stops_children_in_order_and_reports_no_restart() -> None:
    sleeper = ["sleep", "60"]
    supervisor = Supervisor({"api": sleeper, "temporal": sleeper}, dict(os.environ))
    started = [supervisor.start("temporal"), supervisor.start("api")]
    supervisor.stop_all(timeout=10)
    assert all(c.proc is not None and c.proc.poll() is not None for c in started)
    assert all(c.restart_at is None for c in started)


def test_the_launcher_derives_ports_and_data_folder_from_its_settings(tmp_path: Path) -> None:
    config = DevConfig.from_env(
        {
            "OSMO_DEV_DATA_DIR": str(tmp_path),
            "OSMO_DEV_API_PORT": "9100",
            "OSMO_DEV_UI_PORT": "9101",
        }
    )
    settings = dev_settings(Settings(_env_file=None), config)
    assert settings.database_url == f"sqlite:///{tmp_path / 'osmo.db'}"
    assert settings.public_url == "http://127.0.0.1:9100"
    assert settings.temporal_ui_origin == "http://127.0.0.1:9101"
    env = child_environment(settings, {})
    assert env["OSMO_PUBLIC_URL"] == "http://127.0.0.1:9100"
    # What the deployment sets explicitly stays as it is.
    explicit = Settings(_env_file=None, public_url="https://osmo.example")
    assert dev_settings(explicit, config).public_url == "https://osmo.example"


async def test_the_demo_crm_file_keeps_tokens_and_contacts_valid(tmp_path: Path) -> None:
    path = tmp_path / "demo-crm.json"
    first = FakeCRM(seed_contacts=2)
    first.register_client("osmo-demo", "osmo-demo-secret")
    persist(first.app, first, path)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first.app), base_url="http://crm"
    ) as client:
        token = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("osmo-demo", "osmo-demo-secret"),
        )
        access = token.json()["access_token"]
        created = await client.post(
            "/api/v1/contacts",
            json={"properties": {"email": "kept@example.com"}},
            headers={"Authorization": f"Bearer {access}"},
        )
    assert created.status_code == 201

    again = FakeCRM(seed_contacts=0)  # a restart: nothing in memory...
    persist(again.app, again, path)  # ...until the file is read
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=again.app), base_url="http://crm"
    ) as client:
        contact = await client.get(
            f"/api/v1/contacts/{created.json()['id']}",
            headers={"Authorization": f"Bearer {access}"},
        )
        unknown = await client.get(
            "/api/v1/me", headers={"Authorization": "Bearer crm_at_not-issued"}
        )
    assert contact.status_code == 200
    assert contact.json()["properties"]["email"] == "kept@example.com"
    assert unknown.status_code == 401
    assert again.next_contact_id == first.next_contact_id


CTRL_C_CHILD = """
import sys, time
from dev import foreground_terminal
with foreground_terminal():
    try:
        print("ready", flush=True)
        time.sleep(60)
    except KeyboardInterrupt:
        sys.exit(0)
"""


def test_ctrl_c_in_a_terminal_reaches_the_launcher_and_not_make() -> None:
    """`make run` is make's child: in a terminal, Ctrl-C goes to the foreground process group,
    and make, hit too, would die of SIGINT whatever the launcher does. The parent here is a
    shell standing in for make: it must see the launcher exit 0, and live to say so."""
    pid, fd = pty.fork()
    if pid == 0:  # a session leader owning the terminal, as a shell's job is
        # A terminal's shell has default signals, whatever this test process inherited.
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.chdir(ROOT)
        command = f"{shlex.quote(sys.executable)} -c {shlex.quote(CTRL_C_CHILD)}; echo status=$?"
        os.execv("/bin/sh", ["sh", "-c", command])
    output = b""

    def read_until(marker: bytes, deadline: float) -> None:
        nonlocal output
        with contextlib.suppress(OSError):  # EIO: every process on the terminal is gone
            while marker not in output and time.monotonic() < deadline:
                if select.select([fd], [], [], 1)[0]:
                    output += os.read(fd, 4096)

    try:
        read_until(b"ready", time.monotonic() + 60)
        assert b"ready" in output, output
        os.write(fd, b"\x03")  # Ctrl-C, typed in the terminal
        read_until(b"status=", time.monotonic() + 30)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert b"status=0" in output, output
    assert os.waitstatus_to_exitcode(status) == 0
