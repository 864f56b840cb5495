"""The connector spec as JSON Schema: `connectors/connector.schema.json`.

Each `connector.yaml` names the file with `$schema`, so editors validate and complete it.
The file is generated from the pydantic models in `connectors/spec/`: `python -m
connectors.schema --write` (or `make connector-schema`) rewrites it, and `--check` exits 1
when the checked-in copy is stale (a test runs the same check in CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from connectors.registry import BUILTIN
from connectors.spec import ConnectorSpec

SCHEMA_PATH = BUILTIN / "connector.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def connector_schema() -> dict[str, Any]:
    """The JSON Schema of a `connector.yaml` (camelCase keys, closed objects)."""
    schema = ConnectorSpec.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": DIALECT, **schema}


def schema_text() -> str:
    """The schema as the checked-in file holds it."""
    return json.dumps(connector_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Writes or checks `connectors/connector.schema.json`; 1 when `--check` finds it stale."""
    parser = argparse.ArgumentParser(description="The JSON Schema of connector.yaml files.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate the schema file")
    action.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    wanted = schema_text()
    if args.write:
        SCHEMA_PATH.write_text(wanted)
        return 0
    if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text() != wanted:
        print(f"{SCHEMA_PATH.name} is stale; run `make connector-schema`.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
