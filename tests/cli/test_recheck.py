"""``longpan detect --subject``: re-check subjects with the detectors of their kind only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from longpan.cli.app import app
from tests.conftest import EXAMPLE

runner = CliRunner()
LICENCE = "苏ICP备16078901号"  # a planted dissolved_subject of the example


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LONGPAN_HOME", str(tmp_path / "home"))
    assert runner.invoke(app, ["ingest", str(EXAMPLE), "--json"]).exit_code == 0
    assert runner.invoke(app, ["detect", "--json"]).exit_code == 0
    return tmp_path / "home"


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_licence_recheck_reports_that_subject_only(home: Path) -> None:
    result = run("detect", "--json", "--subject", LICENCE)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["run"]["counts"]) == {"dissolved_subject"}
    assert data["run"]["counts"]["dissolved_subject"]["refreshed"] == 1
    found = [(f["type"], f["subject"], f["status"]) for f in data["findings"]]
    assert found == [("dissolved_subject", LICENCE, "open")]


def test_domain_recheck_runs_the_domain_detectors(home: Path) -> None:
    result = run("detect", "--subject", "DingXinMall.com")  # canonical: dingxinmall.com
    assert result.exit_code == 0, result.output
    assert "unfiled_website:" in result.stdout and "lookalike_domain:" in result.stdout
    assert "shell_website: found 1, new 0, refreshed 1" in result.stdout
    assert "dissolved_subject" not in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 1 and "shell_website" in rows[0]  # that subject's findings only
    assert "dingxinmall" in rows[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subject", "not a subject!"], "'not a subject!' is of no kind"),
        (
            ["--only", "dissolved_subject", "--subject", "dingxinmall.com"],
            "no chosen detector re-checks subjects of kind domain",
        ),
    ],
)
def test_subject_mistakes_exit_2_and_store_nothing(
    home: Path, args: list[str], message: str
) -> None:
    runs = json.loads(run("detect", "--json", "--subject", LICENCE).stdout)["run"]["id"]
    result = run("detect", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    after = json.loads(run("detect", "--json", "--subject", LICENCE).stdout)["run"]["id"]
    assert after == runs + 1  # the mistaken re-check opened no run
