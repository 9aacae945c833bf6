"""`longpan threat import-stix` and `pull-taxii` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from longpan.cli.app import app
from longpan.store.datasets import INDICATORS
from longpan.store.lake import Lake

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LONGPAN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_import_stix_retro_hunts_and_reports(home: Path, logs_folder: Path) -> None:
    assert runner.invoke(app, ["ingest", str(logs_folder)]).exit_code == 0
    result = runner.invoke(
        app, ["threat", "import-stix", str(logs_folder / "indicators.json"), "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["imported"]["added"] == 5 and body["imported"]["revoked"] == 1
    assert len(body["retro_hunt"]["warnings"]) == 4
    assert body["retro_hunt"]["run"]["status"] == "succeeded"
    again = runner.invoke(app, ["threat", "import-stix", str(logs_folder / "indicators.json")])
    assert again.exit_code == 0 and "unchanged 6" in again.stdout


def test_bad_bundle_exit_2_with_where_and_nothing_stored(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"type": "bundle", "objects": []}), "utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "bundle",\n "objects": [}', "utf-8")
    result = runner.invoke(app, ["threat", "import-stix", str(good), str(bad)])
    assert result.exit_code == 2
    assert "bad.json" in result.stderr and "line 2" in result.stderr
    assert Lake(home / "lake").current(INDICATORS.name) is None
    missing = runner.invoke(app, ["threat", "import-stix", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_bad_pattern_names_the_field(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--1",
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "valid_from": "2024-01-01T00:00:00Z",
        "pattern": "[url:value = ",
        "pattern_type": "stix",
    }
    bad.write_text(json.dumps({"type": "bundle", "objects": [obj]}, indent=1), "utf-8")
    result = runner.invoke(app, ["threat", "import-stix", str(bad)])
    assert (
        result.exit_code == 2 and "pattern" in result.stderr and "line 7" in result.stderr
    )  # the line of its id
    assert Lake(home / "lake").current(INDICATORS.name) is None


def test_pull_taxii_from_nowhere_is_a_clear_error(home: Path) -> None:
    result = runner.invoke(
        app, ["threat", "pull-taxii", "http://127.0.0.1:9/taxii2/", "--collection", "x"]
    )
    assert result.exit_code == 2 and "cannot be reached" in result.stderr
