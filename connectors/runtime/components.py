"""The Python escape hatch: a connector's `components: module:Class` for what YAML cannot say."""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

import httpx

from connectors.runtime.errors import ConnectorError
from connectors.runtime.mapping import RenderedRequest


class Components:
    """Hooks a connector may override; the defaults do nothing."""

    def prepare_request(
        self, request: RenderedRequest, variables: dict[str, Any]
    ) -> RenderedRequest:
        """Adjusts a rendered request before it is sent (e.g. builds a GraphQL body)."""
        return request

    def check_response(self, response: httpx.Response) -> ConnectorError | None:
        """Returns an error for responses the YAML handlers cannot classify (e.g. GraphQL)."""
        return None

    def records(self, body: Any, records_path: str | None) -> list[Any] | None:
        """Extracts records from a list response; None falls back to `recordsPath`."""
        return None


DEFAULT = Components()


@lru_cache(maxsize=128)
def load_components(reference: str | None) -> Components:
    """Instantiates `module:Class` once per process."""
    if not reference:
        return DEFAULT
    module_name, _, class_name = reference.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    instance = cls()
    if not isinstance(instance, Components):
        raise TypeError(f"{reference} must subclass connectors.runtime.components.Components")
    return instance
