"""Shared fixtures: workspaces on SQLite and PostgreSQL, engines DuckDB and Spark.

`make test` starts a throwaway PostgreSQL cluster and sets LONGPAN_TEST_POSTGRES_URL;
it also sets LONGPAN_REQUIRE_POSTGRES / LONGPAN_REQUIRE_SPARK so that a missing backend
fails the run instead of being skipped.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from longpan.core.settings import get_settings, load_settings
from longpan.store.workspace import Workspace

DATA = Path(__file__).parent / "data"
EXAMPLE = DATA / "example"
SHARED = Path(__file__).resolve().parents[2] / "shared"


class StepClock:
    """A deterministic clock: each call is one second after the previous one."""

    def __init__(self, start: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _postgres_url() -> str | None:
    url = os.environ.get("LONGPAN_TEST_POSTGRES_URL")
    if not url and os.environ.get("LONGPAN_REQUIRE_POSTGRES") == "1":
        pytest.fail("LONGPAN_TEST_POSTGRES_URL is not set (run the suite with `make test`)")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'longpan.db'}"
        return
    base = _postgres_url()
    if not base:
        pytest.skip("PostgreSQL not available: run the suite with `make test`")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def spark_available() -> bool:
    if importlib.util.find_spec("pyspark") is None:
        if os.environ.get("LONGPAN_REQUIRE_SPARK") == "1":
            pytest.fail("pyspark is not installed (run: make setup)")
        return False
    return True


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine_name(request: pytest.FixtureRequest) -> str:
    if request.param == "spark" and not spark_available():
        pytest.skip("pyspark not installed: pip install 'longpan[spark]'")
    return str(request.param)


def make_workspace(home: Path, database_url: str | None = None, **settings: object) -> Workspace:
    ws = Workspace(
        load_settings(home=home, database_url=database_url, **settings), clock=StepClock()
    )
    ws.init()
    return ws


@pytest.fixture
def ws(tmp_path: Path, database_url: str) -> Iterator[Workspace]:
    """A migrated workspace on each database backend (DuckDB engine)."""
    workspace = make_workspace(tmp_path / "home", database_url)
    yield workspace
    workspace.close()


@pytest.fixture
def sqlite_ws(tmp_path: Path) -> Iterator[Workspace]:
    """A migrated workspace on SQLite only, for tests that are not about the backend."""
    workspace = make_workspace(tmp_path / "home")
    yield workspace
    workspace.close()


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A writable copy of the example province, for tests that change records."""
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE, target)
    return target


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test reads the environment anew (the CLI caches settings per process)."""
    for key in list(os.environ):
        if key.startswith("LONGPAN_") and not key.startswith(("LONGPAN_TEST_", "LONGPAN_REQUIRE_")):
            monkeypatch.delenv(key)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
