"""Discovers connectors: every `*/connector.yaml` under the built-in and extra folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import ValidationError

from connectors.spec import ConnectorSpec

BUILTIN = Path(__file__).resolve().parent
# libyaml's loader when available: connector files are large and parsed at every start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConnectorLoadError(Exception):
    """A connector file is not valid YAML or does not match the spec."""


_LOADED: dict[tuple[Path, int, int], ConnectorSpec] = {}
"""Specs parsed in this process, by file and version (an API and a worker in one process, or
one test after another, parse each file once; a changed file is parsed again)."""


def load_connector(path: Path) -> ConnectorSpec:
    """Parses and validates one `connector.yaml`."""
    stat = path.stat()
    version = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    if version in _LOADED:
        return _LOADED[version]
    try:
        data = yaml.load(path.read_text(), Loader=_LOADER)
        spec = ConnectorSpec.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConnectorLoadError(f"{path}: {exc}") from exc
    _LOADED[version] = spec
    return spec


class ConnectorRegistry:
    """The connectors this deployment knows, by key."""

    def __init__(self, folders: Iterable[Path] = ()) -> None:
        self._specs: dict[str, ConnectorSpec] = {}
        for folder in [BUILTIN, *folders]:
            for path in sorted(folder.glob("*/connector.yaml")):
                spec = load_connector(path)
                if spec.key in self._specs:
                    raise ConnectorLoadError(f"{path}: duplicate connector key {spec.key!r}")
                self._specs[spec.key] = spec

    def get(self, key: str) -> ConnectorSpec | None:
        return self._specs.get(key)

    def all(self) -> list[ConnectorSpec]:
        return sorted(self._specs.values(), key=lambda spec: spec.key)
