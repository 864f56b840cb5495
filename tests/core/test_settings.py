from __future__ import annotations

import pytest

from core.crypto import generate_key
from core.settings import InsecureSettingsError, Settings


def test_dev_mode_runs_on_builtin_secrets() -> None:
    assert Settings(env="dev").workspace_secret


@pytest.mark.parametrize("env", ["test", "production"])
def test_default_secrets_are_refused_outside_dev(env: str) -> None:
    with pytest.raises(InsecureSettingsError, match="OSMO_WORKSPACE_SECRET"):
        Settings(
            env=env, encryption_keys=f"k:{generate_key()}", allowed_redirect_origins="https://a"
        )
    with pytest.raises(InsecureSettingsError, match="OSMO_ENCRYPTION_KEYS"):
        Settings(env=env, workspace_secret="x" * 64, allowed_redirect_origins="https://a")


def test_production_needs_redirect_origins() -> None:
    with pytest.raises(InsecureSettingsError, match="ALLOWED_REDIRECT_ORIGINS"):
        Settings(env="production", workspace_secret="x" * 64, encryption_keys=f"k:{generate_key()}")


def test_settings_come_from_osmo_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSMO_TASK_QUEUE", "from-env")
    monkeypatch.setenv("OSMO_CONNECTOR_PATHS", "/a:/b")
    settings = Settings()
    assert settings.task_queue == "from-env"
    assert [str(p) for p in settings.extra_connector_paths] == ["/a", "/b"]
