"""Membrane's official SDK (`@membranehq/sdk`, pinned in tests/membrane_sdk/) against Osmo.

The SDK is installed from npm with `npm ci` into a cache under `.data/` (kept between runs,
keyed by the lockfile), then `tests/membrane_sdk/calls.cjs` makes the calls a product makes
against Osmo on loopback with a worker on the Temporal dev server, and reports each call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import WORKSPACE_SECRET, Osmo
from tests.workflows.flow_fixtures import (
    CONTACTS_SOURCE,
    CREATE_CONTACT,
    GET_CONTACT,
    crm_connection,
    define_all,
    flow_worker,
)

SDK_DIR = Path(__file__).parents[1] / "membrane_sdk"
CACHE = Path(__file__).parents[2] / ".data" / "membrane-sdk"

FLOW: dict[str, Any] = {
    "key": "import-contact",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "create"}]},
        "create": {
            "type": "create-data-record",
            "config": {
                "dataSourceKey": "contacts",
                "fields": {"email": {"$var": "input.trigger.email"}},
            },
        },
    },
}
FIELD_MAPPING: dict[str, Any] = {
    "key": "people",
    "dataSourceKey": "contacts",
    "direction": "both",
    "importValue": {"email": {"$var": "email"}},
    "exportValue": {"email": {"$var": "email"}},
}


def installed_sdk() -> Path:
    """The pinned SDK's package directory, installed with `npm ci` on first use."""
    npm = shutil.which("npm")
    if not shutil.which("node") or not npm:
        if os.environ.get("CI"):
            pytest.fail("node and npm are required in CI to check Membrane's SDK")
        pytest.skip("node/npm are not installed, so Membrane's SDK cannot be run")
    lock = (SDK_DIR / "package-lock.json").read_bytes()
    target = CACHE / hashlib.sha256(lock).hexdigest()[:16]
    package = target / "node_modules" / "@membranehq" / "sdk"
    if not (package / "package.json").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        # Install beside the target and rename, so a run stopped halfway leaves no half cache.
        staging = Path(tempfile.mkdtemp(dir=CACHE, prefix="install-"))
        for name in ("package.json", "package-lock.json"):
            shutil.copy(SDK_DIR / name, staging / name)
        installed = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=staging,
            timeout=600,
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"npm ci of the pinned Membrane SDK failed:\n{installed.stderr}")
        if target.exists():
            shutil.rmtree(staging)  # another run finished first
        else:
            staging.rename(target)
    return package


def admin_token() -> str:
    """A workspace admin token with Membrane's claims, as a product's backend mints it."""
    claims = {"iss": "test", "isAdmin": True, "name": "Backend", "exp": int(time.time()) + 600}
    return jwt.encode(claims, WORKSPACE_SECRET, algorithm="HS512")


async def run_calls(package: Path, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Runs the script (without blocking the loop the worker runs on) and parses its report."""
    process = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node",
        str(SDK_DIR / "calls.cjs"),
        env={
            **os.environ,
            "MEMBRANE_SDK": str(package),
            "OSMO_SDK_CONFIG": json.dumps(config),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=600)
    assert process.returncode == 0, stderr.decode()
    report: dict[str, dict[str, Any]] = json.loads(stdout.decode().strip().splitlines()[-1])
    return report


async def test_membrane_sdk_calls_work_against_osmo(
    osmo_sqlite: Osmo, crm, env: WorkflowEnvironment
) -> None:
    package = installed_sdk()
    osmo = osmo_sqlite
    connection_id = await crm_connection(osmo, crm[1])
    await define_all(
        osmo,
        CONTACTS_SOURCE,
        ("/actions", CREATE_CONTACT),
        ("/actions", GET_CONTACT),
        ("/flows", FLOW),
        ("/field-mappings", FIELD_MAPPING),
        ("/data-link-tables", {"key": "contact-links"}),
    )
    config = {
        "apiUri": osmo.url,
        "workspaceKey": "test",
        "workspaceSecret": WORKSPACE_SECRET,
        "tenantKey": "acme",
        "adminToken": admin_token(),
        "connectionId": connection_id,
        "integrationKey": "crm",
        "createAction": CREATE_CONTACT["key"],
        "getAction": GET_CONTACT["key"],
        "flowKey": FLOW["key"],
        "dataSourceKey": "contacts",
        "fieldMappingKey": FIELD_MAPPING["key"],
        "dataLinkTableKey": "contact-links",
        "proxyGetPath": "/api/v1/me",
        "proxyPostPath": "/api/v1/contacts",
    }
    async with flow_worker(osmo, env):
        report = await run_calls(package, config)
    failures = {call: r["error"] for call, r in report.items() if not r["ok"]}
    assert "(script)" not in report, report["(script)"]
    assert len(report) == 39, sorted(report)
    assert not failures, json.dumps(failures, indent=1)
