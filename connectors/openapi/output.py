"""Writing an imported connector: `connector.yaml` text, the file, and a summary for people."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from connectors.schema import SCHEMA_PATH
from connectors.spec import ConnectorSpec

if TYPE_CHECKING:
    from connectors.openapi.builder import ImportResult

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
HEADER = "# Generated from an OpenAPI description by `osmo connectors import-openapi`.\n"


class _NoAliasDumper(_Dumper):  # type: ignore[valid-type,misc]
    """Schemas shared by many operations are written out each time, never as YAML anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def connector_yaml(connector: ConnectorSpec) -> str:
    """The connector as `connector.yaml` text (defaults left out, as a person would write it)."""
    data = connector.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude_defaults=True
    )
    text = yaml.dump(data, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + text


def write_connector(connector: ConnectorSpec, folder: Path, *, force: bool = False) -> Path:
    """Writes `<folder>/<key>/connector.yaml`, where `ConnectorRegistry([folder])` finds it.

    Raises:
        FileExistsError: The file exists and `force` is not set, or `<folder>/<key>` is a
            folder that holds no connector (a Python package such as `connectors/spec`).
    """
    target = folder / connector.key
    path = target / "connector.yaml"
    if target.exists() and not path.exists():
        raise FileExistsError(f"{target} exists and is not a connector folder")
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists (pass --force to replace it)")
    target.mkdir(parents=True, exist_ok=True)
    # `$schema` points editors at the spec's JSON Schema, relative to where the file lands.
    schema = os.path.relpath(SCHEMA_PATH, target.resolve())
    path.write_text(connector_yaml(connector.model_copy(update={"schema_": schema})), "utf-8")
    return path


def summarize(result: ImportResult) -> str:
    """What was generated and what was left out, one fact per line."""
    connector = result.connector
    read_only = sum(1 for op in connector.operations if op.read_only)
    options = ", ".join(f"{option.key} ({option.type})" for option in connector.auth)
    lines = [
        f"{connector.name} ({connector.key}): {len(connector.operations)} operations "
        f"({read_only} read-only)",
        f"  base URL: {connector.api.base_url}",
        f"  auth options: {options}",
    ]
    test = connector.auth[0].test
    lines.append(f"  credential test: GET {test.path}" if test else "  credential test: none")
    if result.skipped:
        lines.append(f"  skipped {len(result.skipped)} operations:")
        lines += [f"    {s.method} {s.path}: {s.reason}" for s in result.skipped]
    lines += [f"  note: {note}" for note in result.notes]
    return "\n".join(lines)
