"""The one settings class. Every field is read from a ``LONGPAN_``-prefixed environment
variable (or a ``.env`` file), documented in docs/configuration.md, and checked on load."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from longpan.core.errors import ConfigError

DEFAULT_SECRET_KEY = "insecure-development-key-change-me"


class Settings(BaseSettings):
    """Platform configuration. See docs/configuration.md for each field."""

    model_config = SettingsConfigDict(
        env_prefix="LONGPAN_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["development", "test", "production"] = "development"
    home: Path = Path("./var")
    database_url: str | None = None
    engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str = "local[2]"
    # Extra Spark properties (JSON), e.g. {"spark.driver.memory": "8g"}: applied over the
    # engine's defaults when the session is created (store/engine.py).
    spark_conf: dict[str, str] = Field(default_factory=dict)
    secret_key: str = DEFAULT_SECRET_KEY
    lang: Literal["zh", "en"] = "zh"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    # Detector thresholds, by detector id: {"shell_website": {"days": 45}} (JSON in the env).
    detectors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Holidays and make-up working days of years chinese_calendar lacks (cases/deadlines.py).
    workday_calendar: Path | None = None
    # Detectors run side by side in a full run on DuckDB (detect/runner.py).
    detect_workers: int = Field(default=2, ge=1, le=32)
    # Web sign-in (accounts/, web/): session lifetime, cookie Secure flag, login rate limit.
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # The closed loop (cases/): evidence upload limit; SMTP for reminder emails (off when
    # no host is set).
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "longpan@localhost"
    smtp_starttls: bool = False

    @model_validator(mode="after")
    def _refuse_default_secret_outside_development(self) -> Settings:
        if self.env == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "LONGPAN_SECRET_KEY is still the development default; "
                "set a long random value before running with LONGPAN_ENV=production"
            )
        return self

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file inside LONGPAN_HOME."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'longpan.db').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; turn validation failures into ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"LONGPAN_{'_'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
    except SettingsError as exc:  # raised before validation, e.g. a JSON setting's bad JSON
        named = re.search(r'field "(\w+)"', str(exc))
        where = f"LONGPAN_{named.group(1).upper()}" if named else "settings"
        raise ConfigError(f"invalid configuration: {where}: {exc.__cause__ or exc}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, loaded once."""
    return load_settings()
