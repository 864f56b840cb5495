from __future__ import annotations

from pathlib import Path

import pytest

from connectors.registry import ConnectorLoadError, ConnectorRegistry, load_connector
from tests.conftest import DEMO_CONNECTORS, FAKE_CONNECTORS


def write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    path = folder / "connector.yaml"
    path.write_text(text)
    return path


def test_fake_connectors_load() -> None:
    registry = ConnectorRegistry([FAKE_CONNECTORS, DEMO_CONNECTORS])
    crm = registry.get("fake-crm")
    assert crm is not None and crm.auth_option("client-credentials") is not None
    assert crm.auth_option(None) is crm.auth[0]


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "key: x\nname: X\napi: {baseUrl: 'https://x'}\n"
        "auth: [{key: k, type: oauth2, authorizeUrl: a, tokenUrl: t, scopez: [a]}]\n",
    )
    with pytest.raises(ConnectorLoadError, match="scopez"):
        load_connector(path)


def test_unknown_auth_type_and_missing_apply_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "key: x\nname: X\napi: {baseUrl: b}\nauth: [{key: k, type: magic}]\n")
    with pytest.raises(ConnectorLoadError, match="magic"):
        load_connector(path)
    path.write_text("key: x\nname: X\napi: {baseUrl: b}\nauth: [{key: k, type: api-key}]\n")
    with pytest.raises(ConnectorLoadError, match="needs `apply`"):
        load_connector(path)


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "dup" / "fake-crm"
    copy.mkdir(parents=True)
    (copy / "connector.yaml").write_text(
        (DEMO_CONNECTORS / "fake_crm" / "connector.yaml").read_text()
    )
    with pytest.raises(ConnectorLoadError, match="duplicate"):
        ConnectorRegistry([DEMO_CONNECTORS, tmp_path / "dup"])
