"""`osmo connectors import-openapi` writes a loadable connector; the API route only returns it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import cli
from connectors.registry import BUILTIN, ConnectorRegistry
from tests.conftest import Osmo
from tests.connectors.openapi.conftest import SPECS, oas, ok

GITHUB = SPECS / "github_issues_pulls_subset.json"


def github_document() -> dict[str, Any]:
    return dict(json.loads(GITHUB.read_text()))


def test_cli_writes_a_connector_the_registry_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["connectors", "import-openapi", str(GITHUB), "--key", "oas-github", "--output"]
    cli.main([*argv, str(tmp_path), "--name", "GitHub (issues)"])
    path = tmp_path / "oas-github" / "connector.yaml"
    out = capsys.readouterr().out
    assert f"wrote {path}" in out
    assert "GitHub (issues) (oas-github): 11 operations (6 read-only)" in out
    assert "auth options: custom (custom)" in out
    connector = ConnectorRegistry([tmp_path]).get("oas-github")
    assert connector is not None and connector.name == "GitHub (issues)"
    assert len(connector.operations) == 11
    assert connector.operation("issues-create") is not None

    with pytest.raises(SystemExit) as refused:
        cli.main([*argv, str(tmp_path)])
    assert "exists (pass --force to replace it)" in str(refused.value.code)
    cli.main([*argv, str(tmp_path), "--force"])


def test_cli_reports_a_malformed_description(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(yaml.safe_dump(oas({"/x": {"get": {"responses": ["nope"]}}})))
    with pytest.raises(SystemExit) as failed:
        cli.main(
            ["connectors", "import-openapi", str(spec), "--key", "x", "--output", str(tmp_path)]
        )
    assert "paths./x.get.responses: must be a mapping, got list" in str(failed.value.code)
    assert not (tmp_path / "x").exists()


async def test_api_returns_the_connector_and_writes_nothing(osmo: Osmo) -> None:
    body = {"key": "oas-github", "name": "GitHub", "document": github_document()}
    response = await osmo.call("POST", "/connectors/import-openapi", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["operations"] == 11 and result["skipped"] == []
    connector = result["connector"]
    assert connector["key"] == "oas-github" and connector["name"] == "GitHub"
    assert connector["api"]["baseUrl"] == "https://api.github.com"
    create = next(op for op in connector["operations"] if op["key"] == "issues-create")
    assert create["inputSchema"]["required"] == ["owner", "repo", "title"]
    assert yaml.safe_load(result["yaml"])["operations"][2]["key"] == "issues-create"
    # Not installed: the deployment's connectors are unchanged.
    assert (await osmo.call("GET", "/connectors/oas-github")).status_code == 404
    assert not (BUILTIN / "oas-github").exists()


async def test_api_is_for_admins_and_reports_where_a_description_is_malformed(
    osmo: Osmo,
) -> None:
    body = {"key": "oas-x", "document": oas({"/x": {"get": {"responses": ok()}}})}
    forbidden = await osmo.call("POST", "/connectors/import-openapi", tenant="acme", json=body)
    assert forbidden.status_code == 403 and forbidden.json()["key"] == "forbidden"
    broken = {"key": "oas-x", "document": oas({"/x": {"get": {"responses": "nope"}}})}
    response = await osmo.call("POST", "/connectors/import-openapi", json=broken)
    assert response.status_code == 422
    assert response.json()["key"] == "validation_error"
    assert response.json()["data"]["errors"] == [
        {"path": "document.paths./x.get.responses", "message": "must be a mapping, got str"}
    ]
    bad_key = await osmo.call("POST", "/connectors/import-openapi", json={**body, "key": "Bad Key"})
    assert bad_key.status_code == 422
    assert bad_key.json()["data"]["errors"][0]["path"] == "key"
