"""`longpan demo` ends on a working loop: demo users for every role with generated
passwords (printed, and they really sign in), one batch issued through the services;
re-running reuses the users and the batch. Served only on request (--serve)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from longpan.accounts.users import check_credentials
from longpan.cli import demo as demo_command
from longpan.cli.app import app
from longpan.core.settings import load_settings
from longpan.store.models import Batch, Notice, User
from longpan.store.workspace import Workspace
from tests.conftest import EXAMPLE

LOGIN_ROW = re.compile(r"(demo-[a-z]+)\s*│\s*(\S+)\s*│\s*([a-z]+)\s*│")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LONGPAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")  # the logins table on one line per user
    return tmp_path / "home"


def _demo() -> Any:
    result = CliRunner().invoke(
        app, ["demo", "--data", str(EXAMPLE), "--no-serve"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result


def _logins(output: str) -> dict[str, tuple[str, str]]:
    return {name: (password, role) for name, password, role in LOGIN_ROW.findall(output)}


def test_demo_issues_a_batch_and_prints_logins_that_work(home: Path) -> None:
    first = _logins(_demo().stdout)
    assert {role for _pw, role in first.values()} == {
        "admin",
        "supervisor",
        "analyst",
        "auditor",
        "enterprise",
    }
    ws = Workspace(load_settings(home=home))
    with ws.sessions() as session:
        for username, (password, _role) in first.items():
            assert check_credentials(session, username, password).username == username
        [batch] = session.scalars(select(Batch)).all()
        assert (batch.status, batch.document_number) == ("issued", "苏通信安〔2024〕5号")
        enterprise = session.scalars(select(User).where(User.role == "enterprise")).one()
        own = session.scalar(
            select(func.count()).where(Notice.organisation_id == enterprise.organisation_id)
        )
        assert own == 1  # the enterprise user's organisation got a notice in the batch

    again = _demo()
    second = _logins(again.stdout)
    assert set(second) == set(first) and all(second[u][0] != first[u][0] for u in first)
    assert "not started" in again.stdout
    with ws.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1
        assert session.scalar(select(func.count()).select_from(User)) == len(first)
        for username, (password, _role) in second.items():
            assert check_credentials(session, username, password).username == username
    ws.close()


def test_demo_says_so_and_skips_when_the_reference_data_is_absent(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as on a machine without ../shared/data: no default location holds the feeds
    monkeypatch.setattr(demo_command, "REFERENCE_CANDIDATES", (tmp_path / "nowhere",))
    output = _demo().stdout
    assert "vulnerability alerts skipped" in output and str(tmp_path / "nowhere") in output
    assert "threat warnings skipped" in output  # the example folder has no STIX bundle


def test_demo_refuses_a_reference_folder_without_the_feeds(home: Path, tmp_path: Path) -> None:
    args = ["demo", "--data", str(EXAMPLE), "--no-serve", "--reference-data", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--reference-data" in result.output
