"""An imported connector's file names the connector JSON Schema, wherever it is written."""

from __future__ import annotations

from pathlib import Path

import yaml

from connectors.openapi import import_openapi, write_connector
from connectors.registry import load_connector
from connectors.schema import SCHEMA_PATH

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Example API", "version": "2.1.0"},
    "servers": [{"url": "https://api.example.com/v1"}],
    "paths": {
        "/things": {
            "get": {"operationId": "listThings", "responses": {"200": {"description": "OK"}}}
        }
    },
}


def test_the_written_file_names_the_schema_relative_to_itself(tmp_path: Path) -> None:
    path = write_connector(import_openapi(DOCUMENT, "example"), tmp_path / "connectors")
    text = path.read_text()
    data = yaml.safe_load(text)
    assert (path.parent / data["$schema"]).resolve() == SCHEMA_PATH
    assert text.splitlines()[1].startswith("$schema: ")  # first, as a person would put it
    assert load_connector(path).key == "example"
