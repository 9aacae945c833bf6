"""Web test fixtures: a real app on a real (temporary) workspace.

The example province is ingested and detected once per session (DuckDB, SQLite); each
test gets its own copy of that database (so login attempts, users and sessions never
leak between tests) beside a link to the shared, read-only lake.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from longpan.accounts.users import create_user
from longpan.core.settings import load_settings
from longpan.detect import registry
from longpan.detect.runner import run_detection
from longpan.detect.store import fingerprint
from longpan.resources.ingest import ingest_folder
from longpan.store.models import SEVERITIES, Finding, Organisation
from longpan.store.workspace import Workspace
from longpan.web.app import create_app
from tests.accounts.conftest import _cheap_argon2  # noqa: F401 - autouse fixture
from tests.conftest import EXAMPLE

PASSWORD = "correct-horse-battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class MovableClock:
    """A clock tests can move forward (session expiry, rate-limit windows)."""

    def __init__(self, start: datetime = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the example province ingested and every detector run once."""
    home = tmp_path_factory.mktemp("seeded") / "home"
    ws = Workspace(load_settings(home=home))
    ws.init()
    ingest_folder(ws, EXAMPLE)
    result = run_detection(ws)
    assert result.status == "succeeded", result.errors
    _add_volume(ws)
    ws.close()
    return home


def _add_volume(ws: Workspace, count: int = 60) -> None:
    """The example province yields only a few findings; add more (of every declared type,
    severity and several organisations) so that pages, sorting and scoping have work."""
    types = sorted(registry.finding_types())
    with ws.sessions() as session, session.begin():
        usccs = list(session.scalars(select(Organisation.uscc).order_by(Organisation.uscc)))[:4]
        for n in range(count):
            finding_type = types[n % len(types)]
            subject = _volume_subject(finding_type, n, usccs[n % len(usccs)])
            seen = datetime(2024, 1 + n % 12, 1 + n % 27, tzinfo=UTC)
            session.add(
                Finding(
                    fingerprint=fingerprint(finding_type, subject),
                    type=finding_type,
                    severity=SEVERITIES[n % len(SEVERITIES)],
                    subject=subject,
                    evidence={"note": f"test volume {n}"},
                    detector=registry.finding_types()[finding_type].id,
                    detector_version="test",
                    status="open",
                    observed=True,
                    responsible_uscc=usccs[n % len(usccs)],
                    first_seen=seen,
                    last_seen=seen,
                )
            )


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def web_ws(seeded_home: Path, tmp_path: Path, clock: MovableClock) -> Iterator[Workspace]:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(seeded_home / "longpan.db", home / "longpan.db")
    (home / "lake").symlink_to(seeded_home / "lake", target_is_directory=True)
    ws = Workspace(load_settings(home=home, login_max_failures=3), clock=clock)
    ws.init()
    yield ws
    ws.close()


@pytest.fixture
def app(web_ws: Workspace) -> FastAPI:
    return create_app(workspace=web_ws)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def orgs(web_ws: Workspace) -> tuple[str, str]:
    """The two organisations responsible for the most findings: A and B."""
    with web_ws.sessions() as session:
        rows = session.execute(
            select(Finding.responsible_uscc, func.count())
            .where(Finding.responsible_uscc.is_not(None))
            .group_by(Finding.responsible_uscc)
            .order_by(func.count().desc(), Finding.responsible_uscc)
        ).all()
    assert len(rows) >= 2
    return rows[0][0], rows[1][0]


@pytest.fixture
def make_user(web_ws: Workspace) -> Callable[..., str]:
    counter = iter(range(1, 1000))

    def make(role: str, org_uscc: str | None = None, username: str | None = None) -> str:
        name = username or f"{role}{next(counter)}"
        with web_ws.sessions() as session, session.begin():
            create_user(
                session,
                username=name,
                role=role,
                password=PASSWORD,
                actor="test",
                org_uscc=org_uscc,
                clock=web_ws.clock,
            )
        return name

    return make


def csrf(client: TestClient, path: str = "/login") -> str:
    """The CSRF token the browser would have (read from a page's form)."""
    response = client.get(path)
    found = CSRF_INPUT.search(response.text)
    assert found, f"no csrf_token on {path}"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response


def api_token(client: TestClient) -> str:
    response = client.get("/api/me")
    assert response.status_code == 200
    return str(response.json()["csrf_token"])


def _volume_subject(finding_type: str, n: int, uscc: str) -> str:
    """A subject of the kind the type's detector declares (a re-check of another kind
    would not run that detector)."""
    kinds = registry.finding_types()[finding_type].subject_kinds
    kind = kinds[0] if kinds else "domain"
    return {
        "icp_subject": f"苏ICP备{20240000 + n}号",
        "ip_range": f"10.99.{n}.0-10.99.{n}.255",
        "service": f"10.99.0.{n + 1}:443",
        "ioc": f"{uscc}:extra{n:03d}.example-site.cn",
        "indicator": f"indicator:extra{n:03d}.example-site.cn",
    }.get(kind, f"extra{n:03d}.example-site.cn")
