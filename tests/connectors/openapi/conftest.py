"""Vendors' real OpenAPI descriptions (tests/connectors/specs), parsed and imported once."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from connectors.openapi import ImportResult, build_connector, read_document

SPECS = Path(__file__).resolve().parents[1] / "specs"
FILES = {
    "asana": "asana_oas.yaml",
    "slack": "slack_web_openapi_v2.json",
    "intercom": "intercom_api_2.16.yaml",
    "jira": "jira_platform_v3.json",
    "github": "github_issues_pulls_subset.json",
    "xero": "xero_accounting.yaml",
    "xero-webhooks": "xero-webhooks.yaml",
}


@cache
def _document(name: str) -> dict[str, Any]:
    return read_document(SPECS / FILES[name])


@cache
def _imported(name: str) -> ImportResult:
    return build_connector(_document(name), f"oas-{name}")


@pytest.fixture(scope="session")
def document() -> Callable[[str], dict[str, Any]]:
    """Parsed descriptions by short name (`asana`...); parsing Asana's 3 MB takes a second."""
    return _document


@pytest.fixture(scope="session")
def imported() -> Callable[[str], ImportResult]:
    """Descriptions imported as `oas-<name>` connectors (shared: treat them as read-only)."""
    return _imported


def oas(
    paths: dict[str, Any], components: dict[str, Any] | None = None, **top: Any
) -> dict[str, Any]:
    """A small OpenAPI 3.0 description around `paths`."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Example API", "version": "2.1.0"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "paths": paths,
        "components": components or {},
        **top,
    }


def ok(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `responses` object answering 200 with `schema` as JSON."""
    content = {"application/json": {"schema": schema}} if schema is not None else None
    return {"200": {"description": "OK", **({"content": content} if content else {})}}
