"""Every detector against generated provinces: the issue's acceptance rule, in one place.

Each province is generated, ingested and run through all detectors once (DuckDB);
every finding type must reach precision and recall ≥ 0.97, and no near miss of
near_misses.csv may be flagged by any detector.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from longpan.detect.evaluate import evaluate_database
from longpan.detect.findings import list_findings
from longpan.detect.registry import finding_types
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from longpan.synth.generate import generate
from longpan.synth.model import make_config
from tests.conftest import make_workspace

SEEDS = (101, 404)
# Look-alikes of a brand (not a key unit) have no responsible organisation in the lake.
MAY_LACK_RESPONSIBLE = {"lookalike_domain"}


@dataclass(frozen=True)
class Evaluated:
    scores: dict[str, Any]
    findings: list[dict[str, Any]]
    near_misses: dict[str, str]
    errors: dict[str, str]


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def province(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Evaluated]:
    base = tmp_path_factory.mktemp(f"province-{request.param}")
    folder = base / "province"
    generate(make_config("small", request.param), folder)
    ws = make_workspace(base / "home")
    ingest_folder(ws, folder)
    result = run_detection(ws, engine="duckdb")
    with ws.sessions() as session:
        scores = evaluate_database(session, folder / "truth.csv")["by_type"]
        findings = list_findings(session)
    ws.close()
    yield Evaluated(scores, findings, _near_misses(folder / "near_misses.csv"), result.errors)


def _near_misses(path: Path) -> dict[str, str]:
    with open(path, encoding="utf-8", newline="") as f:
        return {r["subject"]: r["kind"] for r in csv.DictReader(f)}


# The compliance (G2) types; other capabilities evaluate their own detectors.
COMPLIANCE_TYPES = sorted(t for t, cls in finding_types().items() if cls.capability == "G2")


@pytest.mark.parametrize("finding_type", COMPLIANCE_TYPES)
def test_precision_and_recall(province: Evaluated, finding_type: str) -> None:
    assert not province.errors
    scores = province.scores[finding_type]
    assert scores["tp"] > 0, f"the province plants no {finding_type}"
    assert scores["precision"] >= 0.97 and scores["recall"] >= 0.97, scores


def test_no_near_miss_is_flagged(province: Evaluated) -> None:
    flagged = {
        (f["subject"], f["type"]) for f in province.findings if f["subject"] in province.near_misses
    }
    assert not flagged
    assert set(province.near_misses.values()) >= {"old_similar_domain", "site_404"}


def test_findings_are_attributed(province: Evaluated) -> None:
    unattributed = [
        (f["type"], f["subject"])
        for f in province.findings
        if not f["responsible_uscc"] and f["type"] not in MAY_LACK_RESPONSIBLE
    ]
    assert not unattributed
