"""The loop's commands: batch create/approve/issue/list, verify, remind, escalation, and
the loop figures in ``longpan report --json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from longpan.cli import common
from longpan.cli.app import app
from longpan.core.settings import load_settings
from longpan.store.workspace import Workspace
from tests.cases.conftest import ORG_A, make_people
from tests.conftest import EXAMPLE, StepClock

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LONGPAN_HOME", str(tmp_path / "home"))
    # A fixed clock (2025): deadlines must not depend on the day the suite runs, and the
    # working-day calendar only covers the years chinese_calendar has data for.
    clock = StepClock()
    monkeypatch.setattr(common, "workspace_factory", lambda s: Workspace(s, clock=clock))
    assert run("ingest", str(EXAMPLE), "--json").exit_code == 0
    assert run("detect", "--json", "--only", "dissolved_subject").exit_code == 0
    ws = Workspace(load_settings(home=tmp_path / "home"))
    make_people(ws)
    ws.close()
    return tmp_path / "home"


def test_batch_commands(home: Path) -> None:
    preview = run("batch", "preview", "--user", "ana", "--org", ORG_A[0], "--json")
    assert preview.exit_code == 0, preview.output
    [group] = json.loads(preview.stdout)["groups"]
    assert group["uscc"] == ORG_A[0] and len(group["findings"]) == 1

    created = run(
        "batch", "create", "--user", "ana", "--json", "--title", "2024年第5批网络安全通报",
        "--number", "苏通信安〔2024〕5号", "--office", "江苏省通信管理局", "--deadline-days", "10",
        "--type", "dissolved_subject",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    batch = json.loads(created.stdout)
    assert batch["status"] == "draft" and batch["finding_count"] == 3

    refused = run("batch", "approve", str(batch["id"]), "--user", "ana")
    assert refused.exit_code == 2 and "approve" in refused.stderr
    assert run("batch", "approve", str(batch["id"]), "--user", "sup").exit_code == 0
    issued = run("batch", "issue", str(batch["id"]), "--user", "ana", "--json")
    assert issued.exit_code == 0, issued.output
    assert {n["status"] for n in json.loads(issued.stdout)["notices"]} == {"issued"}

    listed = json.loads(run("batch", "list", "--user", "aud", "--json").stdout)
    assert [b["status"] for b in listed] == ["issued"]
    assert json.loads(run("escalation", "--user", "sup", "--json").stdout) == []
    assert json.loads(run("remind", "--user", "ana", "--json").stdout)["notices"] == 0
    assert json.loads(run("verify", "--user", "ana", "--json").stdout) == []

    loop = json.loads(run("report", "--json").stdout)["loop"]["overall"]
    assert loop["findings_notified"] == 3 and loop["organisations_notified"] == 3


def test_unknown_user_is_a_clear_error(home: Path) -> None:
    result = run("batch", "list", "--user", "nobody")
    assert result.exit_code == 2
    assert "no platform user 'nobody'" in result.stderr
