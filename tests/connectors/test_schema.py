"""`connectors/connector.schema.json`: current, described, and what every connector names.

The schema is what editors validate `connector.yaml` files against; these tests keep it equal
to the pydantic spec, give every field a description, and check that each connector file in
the repository names it with `$schema` and is valid against it as written (request template
uses included), so an editor never flags a file that loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from connectors import schema as connector_schema
from connectors.registry import BUILTIN, load_connector
from connectors.schema import SCHEMA_PATH, schema_text
from tests.conftest import DEMO_CONNECTORS, FAKE_CONNECTORS

FILES = sorted(
    [
        *BUILTIN.glob("*/connector.yaml"),
        *FAKE_CONNECTORS.glob("*/connector.yaml"),
        *DEMO_CONNECTORS.glob("*/connector.yaml"),
    ]
)


def _ids(path: Path) -> str:
    return path.parent.name


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def test_the_checked_in_schema_is_the_generated_one() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), "run `make connector-schema`"


def test_check_fails_when_the_file_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "connector.schema.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(connector_schema, "SCHEMA_PATH", stale)
    assert connector_schema.main(["--check"]) == 1
    assert connector_schema.main(["--write"]) == 0
    assert connector_schema.main(["--check"]) == 0
    assert stale.read_text() == schema_text()


def _undescribed(node: Any, where: str = "#") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            if "description" not in prop:
                found.append(f"{where}/properties/{name}")
        for key, value in node.items():
            found += _undescribed(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _undescribed(value, f"{where}/{index}")
    return found


def test_every_field_has_a_description() -> None:
    assert _undescribed(json.loads(schema_text())) == []


@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_each_connector_names_the_schema(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    assert "$schema" in data, f"{path} has no `$schema` key"
    assert (path.parent / data["$schema"]).resolve() == SCHEMA_PATH


@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_each_connector_is_valid_against_the_schema(
    path: Path, validator: Draft202012Validator
) -> None:
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(yaml.safe_load(path.read_text()))
    ]
    assert errors == []
    load_connector(path)  # and the closed spec accepts it, `$schema` included


def test_the_schema_refuses_an_unknown_key(validator: Draft202012Validator) -> None:
    data = yaml.safe_load((DEMO_CONNECTORS / "fake_crm" / "connector.yaml").read_text())
    data["api"]["baseUrll"] = "https://typo.example.com"
    assert any("baseUrll" in error.message for error in validator.iter_errors(data))
