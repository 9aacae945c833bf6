"""The command line, as a user runs it: exit codes, JSON shapes, one-line errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from longpan.cli.app import app
from longpan.cli.common import out
from tests.conftest import DATA, EXAMPLE, SHARED

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LONGPAN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_ingest_detect_findings_eval(home: Path) -> None:
    assert run("init").exit_code == 0
    ingested = run("ingest", str(EXAMPLE), "--json")
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)["changed"] is True
    assert json.loads(run("ingest", str(EXAMPLE), "--json").stdout)["changed"] is False

    detected = run("detect", "--json", "--only", "dissolved_subject")
    assert detected.exit_code == 0, detected.output
    body = json.loads(detected.stdout)
    assert body["run"]["status"] == "succeeded" and body["findings"]

    listed = json.loads(run("findings", "--json", "--status", "open").stdout)
    keys = {
        "type",
        "subject",
        "severity",
        "status",
        "responsible_uscc",
        "first_seen",
        "last_seen",
        "evidence",
    }
    assert listed and all(keys <= set(r) for r in listed)
    assert json.loads(run("findings", "--json", "--type", "nothing_like_this").stdout) == []

    scores = json.loads(run("eval", str(EXAMPLE / "truth.csv"), "--json").stdout)
    assert scores["by_type"]["dissolved_subject"] == {
        "precision": 1.0,
        "recall": 1.0,
        "tp": 3,
        "fp": 0,
        "fn": 0,
        "missing_inputs": [],
    }
    assert set(scores["overall"]) == {"precision", "recall", "tp", "fp", "fn"}


def test_eval_counts_misses_and_false_alarms(home: Path, tmp_path: Path) -> None:
    run("ingest", str(EXAMPLE))
    run("detect")
    truth = tmp_path / "truth.csv"
    truth.write_text(
        "finding_type,subject\n"
        "dissolved_subject,苏ICP备16078901号\n"  # a real one
        "dissolved_subject,苏ICP备 1234 5678号\n"  # not found: a miss (full-width/space folded)
        "expired_domain,example.com\n",  # a type nothing detects yet
        "utf-8",
    )
    scores = json.loads(run("eval", str(truth), "--json").stdout)
    dissolved = scores["by_type"]["dissolved_subject"]
    assert (dissolved["tp"], dissolved["fp"], dissolved["fn"]) == (1, 2, 1)
    assert scores["by_type"]["expired_domain"]["recall"] == 0.0


def test_eval_names_the_inputs_a_missed_type_never_received(home: Path, tmp_path: Path) -> None:
    """A recall of 0 for a type whose feed was never imported says so: the detector's
    datasets the lake lacks are listed, in JSON and in the table with a note."""
    run("ingest", str(EXAMPLE))
    run("detect")
    truth = tmp_path / "truth.csv"
    truth.write_text(
        "finding_type,subject\ndissolved_subject,苏ICP备16078901号\nioc_hit,evil.example.com\n",
        "utf-8",
    )
    scores = json.loads(run("eval", str(truth), "--json").stdout)["by_type"]
    assert scores["ioc_hit"]["recall"] == 0.0
    assert "indicators" in scores["ioc_hit"]["missing_inputs"]
    assert scores["dissolved_subject"]["missing_inputs"] == []
    table = run("eval", str(truth))
    assert table.exit_code == 0
    assert "indicators" in table.stdout and "docs/synth.md" in table.stdout


def test_show_prints_the_neighbourhood(home: Path) -> None:
    run("ingest", str(EXAMPLE))
    graph = json.loads(run("show", "苏ICP备16078901号", "--json").stdout)
    assert graph["kind"] == "icp_subject"
    assert graph["entity"]["status"] == "注销"
    assert graph["responsible"]["uscc"]
    human = run("show", "苏ICP备16078901号")
    flat = re.sub(r"[\s│├└─]", "", human.stdout)  # undo the tree's wrapping at 80 columns
    assert human.exit_code == 0 and "status=注销" in flat


@pytest.mark.parametrize("case", ["gbk_encoding", "missing_column", "truncated_parquet"])
def test_bad_input_exits_2_with_one_clear_line(home: Path, case: str) -> None:
    result = run("ingest", str(DATA / "bad" / case))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    expected = dict(
        line.split("=", 1)
        for line in (DATA / "bad" / case / "expected.txt").read_text("utf-8").split()
    )
    assert expected["file"] in result.stderr and f"line {expected['line']}" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["detect", "--only", "no_such_type"],
        ["detect", "--engine", "oracle"],
        ["findings", "--status", "bogus"],
        ["show", "not a subject!"],
        ["eval", "/nonexistent/truth.csv"],
        ["ingest", "/nonexistent/folder"],
    ],
)
def test_user_mistakes_exit_2(home: Path, args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_installed_entry_point_runs(tmp_path: Path) -> None:
    """The real `longpan` executable, as a subprocess: bad input → exit 2, no traceback."""
    exe = Path(sys.executable).with_name("longpan")
    env = {**os.environ, "LONGPAN_HOME": str(tmp_path)}
    done = subprocess.run(
        [str(exe), "ingest", str(DATA / "bad" / "empty_file")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "entities.csv, line 1, column 1" in done.stderr and "Traceback" not in done.stderr


def test_demo_runs_to_the_end(home: Path) -> None:
    """`make demo`'s command: synth a small province, ingest, detect, score, figures."""
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "unfiled_website: precision 1.000, recall 1.000" in result.stdout
    for found in ("ioc_hit", "threat_warning"):  # the province's STIX bundle is imported
        assert f"{found}: precision 1.000, recall 1.000" in result.stdout
    if (SHARED / "data" / "nvd").is_dir():  # the real NVD sample and KEV are imported
        assert "vulnerable_asset: precision 1.000, recall 1.000" in result.stdout
    else:
        assert "vulnerability alerts skipped" in result.stdout
    assert "ICP备案准确率" in result.stdout
    again = run("demo")  # the province is generated once; a rerun changes nothing
    assert again.exit_code == 0 and "0 rows written" in again.stdout


def test_report_prints_each_access_providers_accuracy(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The star rating's view in the text report: every provider's census and sampled
    accuracy with its interval, the least accurate first."""
    monkeypatch.setattr(out, "width", 250)  # one line per row
    run("ingest", str(EXAMPLE))
    run("detect")
    providers = json.loads(run("report", "--json").stdout)["icp_accuracy"]["by_provider"]
    text = run("report").stdout
    section = text.split("ICP备案准确率 (ICP-filing accuracy) 按接入商 (by access provider)")[1]
    section = section.split("IP地址备案准确率")[0]
    ranked = sorted(providers, key=lambda r: (r["rate"], r["sample_rate"], r["uscc"]))
    positions = [section.index(r["uscc"]) for r in ranked]
    assert len(providers) > 1 and positions == sorted(positions)
    low, high = ranked[0]["ci95"]
    assert f"{ranked[0]['rate']:.2%}" in section and f"{low:.1%}–{high:.1%}" in section


def test_ingest_says_what_it_left_out_and_how_to_import_a_stix_bundle(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files that are not tables are named, and a STIX bundle in the folder (a synthetic
    province's feeds/) comes with the command that imports it."""
    monkeypatch.setattr(out, "width", 250)
    folder = tmp_path / "province"
    shutil.copytree(EXAMPLE, folder)
    (folder / "feeds").mkdir()
    bundle = folder / "feeds" / "indicators.stix.json"
    bundle.write_text('{"type": "bundle", "id": "bundle--1", "objects": []}', "utf-8")
    result = run("ingest", str(folder))
    assert result.exit_code == 0, result.output
    assert "feeds" in result.stdout.split("未入湖 (not tables, left out):")[1].splitlines()[0]
    assert f"longpan threat import-stix {bundle}" in result.stdout
