"""Fixtures shared by the connector tests."""

from __future__ import annotations

import pytest

from connectors.registry import ConnectorRegistry
from tests.connectors.harness import builtin_registry


@pytest.fixture
def registry() -> ConnectorRegistry:
    """The built-in connectors, parsed once per session (the harness uses the same one)."""
    return builtin_registry()
