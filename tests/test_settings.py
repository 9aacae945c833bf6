"""Settings: every field documented, fail fast on bad values and unsafe secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from longpan.core.errors import ConfigError
from longpan.core.settings import DEFAULT_SECRET_KEY, Settings, load_settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    assert f"LONGPAN_{field.upper()}" in DOC.read_text("utf-8"), (
        f"LONGPAN_{field.upper()} is not documented in docs/configuration.md"
    )


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.home == Path("./var")
    assert settings.engine == "duckdb"
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("var/longpan.db")


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LONGPAN_HOME", str(tmp_path))
    monkeypatch.setenv("LONGPAN_ENGINE", "spark")
    settings = load_settings()
    assert settings.home == tmp_path and settings.engine == "spark"
    assert settings.lake_dir == tmp_path / "lake"


def test_unknown_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGPAN_ENGINE", "oracle")
    with pytest.raises(ConfigError, match="LONGPAN_ENGINE"):
        load_settings()


def test_default_secret_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGPAN_ENV", "production")
    with pytest.raises(ConfigError, match="LONGPAN_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("LONGPAN_SECRET_KEY", "x" * 40)
    assert load_settings().secret_key != DEFAULT_SECRET_KEY
