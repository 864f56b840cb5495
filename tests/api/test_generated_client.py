"""The OpenAPI is usable: a client generated from it (openapi-python-client) at test time runs
a scenario end to end — integration, connection, data source and action, an action run, and the
flow-run list — against Osmo on loopback, with the dev server running the action."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import CRM_CLIENT, Osmo
from tests.workflows.flow_fixtures import flow_worker

PACKAGE = "osmo_client"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated client package, importable for the tests of this module."""
    from api.main import create_app

    where = tmp_path_factory.mktemp("generated")
    (where / "openapi.json").write_text(json.dumps(create_app().openapi()))
    config = f"post_hooks: []\nproject_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\n"
    (where / "config.yaml").write_text(config)
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run(
        [str(generator), "generate", "--path", "openapi.json", "--output-path", PACKAGE,
         "--meta", "none", "--config", "config.yaml"],
        cwd=where, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # The generator warns (and skips the operation) on schemas it cannot use.
    assert result.returncode == 0 and "Warning" not in result.stdout, result.stdout + result.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_a_generated_client_runs_an_action_end_to_end(
    client_package: ModuleType, osmo_sqlite: Osmo, crm, env: WorkflowEnvironment
) -> None:
    osmo, (fake, url) = osmo_sqlite, crm
    models = _module("models")
    admin = client_package.AuthenticatedClient(base_url=osmo.url, token=osmo.token())
    customer = client_package.AuthenticatedClient(base_url=osmo.url, token=osmo.token("acme"))

    integration = await _module("api.integrations.integrations_create_integration").asyncio(
        client=admin,
        body=models.IntegrationCreate.from_dict(
            {
                "key": "crm",
                "connectorKey": "fake-crm",
                "clientId": CRM_CLIENT[0],
                "clientSecret": CRM_CLIENT[1],
                "parameters": {"baseUrl": url},
                "authOptions": ["client-credentials"],
            }
        ),
    )
    assert isinstance(integration, models.IntegrationPublic) and integration.key == "crm"

    connection = await _module("api.connections.connections_create_connection").asyncio(
        client=customer, body=models.ConnectionCreate(integration_key="crm")
    )
    assert isinstance(connection, models.ConnectionPublic), connection
    assert connection.state == "connected" and connection.user_id == connection.customer_id

    source = await _module("api.data_sources.data_sources_create_element").asyncio(
        client=admin,
        body=models.DataSourceCreate.from_dict({"key": "contacts", "collectionKey": "contacts"}),
    )
    assert isinstance(source, models.DataSourcePublic) and source.layer == "universal"
    action = await _module("api.actions.actions_create_element").asyncio(
        client=admin,
        body=models.ActionCreate.from_dict(
            {
                "key": "create-contact",
                "type": "create-data-record",
                "config": {
                    "dataSourceKey": "contacts",
                    "fields": {"email": {"$var": "input.email"}},
                },
                "outputMapping": {"id": {"$var": "output.record.id"}},
            }
        ),
    )
    assert isinstance(action, models.ActionPublic), action

    async with flow_worker(osmo, env):
        result = await _module("api.actions.actions_run_connection_action").asyncio(
            connection.id,
            "create-contact",
            client=customer,
            body={"input": {"email": "ada@example.com"}},
        )
    assert isinstance(result, models.ActionRunResult), result
    assert result.action_run_id.startswith("action-run-")
    created_id = result.output["id"]
    assert fake.contacts[created_id]["properties"]["email"] == "ada@example.com"

    missing = await _module("api.connections.connections_read_connection").asyncio(
        "no-such-connection", client=customer
    )
    assert isinstance(missing, models.ErrorBody) and missing.key == "connection_not_found"

    runs = await _module("api.flow_runs.flow_runs_list_flow_runs").asyncio(client=customer)
    assert isinstance(runs, models.FlowRunList) and runs.items == []
