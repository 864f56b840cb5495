"""`osmo dev` (dev.py) works without tests/: the Docker image and installed copies leave it out."""

from __future__ import annotations

import subprocess
import sys

from core.settings import ROOT

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
