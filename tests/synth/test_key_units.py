"""The key units' assets and network logs in the synthetic province (issue 6).

They come from the units' own filed, in-province lines; once the province is ingested
and the feeds imported (its STIX bundle; the real NVD sample and KEV when
../shared/data is there), the detectors find exactly the truth and no near miss.
"""

from __future__ import annotations

import csv
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from longpan.detect.evaluate import evaluate_database
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.resources.geo import provinces_of
from longpan.synth import assets, logs
from longpan.synth.generate import generate
from longpan.synth.model import make_config
from tests.conftest import make_workspace
from tests.synth.conftest import load_province
from tests.vuln.helpers import needs_shared

SEED = 3
NEW_TYPES = ("vulnerable_asset", "ioc_hit", "threat_warning")
NEW_KINDS = {*logs.NEAR_MISS_KINDS, assets.NEAR_MISS_KIND}
KEY_TABLES = {"assets", "dns_logs", "flow_logs", "http_logs"}


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("key-units") / "province"
    generate(make_config("tiny", SEED), folder)
    return folder


@dataclass(frozen=True)
class Detected:
    scores: dict[str, Any]
    subjects: set[str]
    rejected: int
    tables: set[str]
    errors: dict[str, str]


@pytest.fixture(scope="module")
def detected(province: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Detected]:
    ws = make_workspace(tmp_path_factory.mktemp("home"))
    report = load_province(ws, province)
    result = run_detection(ws, only=["ioc_hit", "vulnerable_asset"])
    with ws.sessions() as session:
        scores = evaluate_database(session, province / "truth.csv")["by_type"]
        subjects = {f["subject"] for f in list_findings(session, types=list(NEW_TYPES))}
    ws.close()
    rejected = sum(t.rejected for t in report.tables)
    yield Detected(scores, subjects, rejected, {t.table for t in report.tables}, result.errors)


def test_new_truth_types_and_near_misses_are_planted(province: Path) -> None:
    truth = _rows(province, "truth.csv")
    for finding_type in NEW_TYPES:
        assert any(r["finding_type"] == finding_type for r in truth), finding_type
    kinds = {r["kind"] for r in _rows(province, "near_misses.csv")}
    assert kinds >= NEW_KINDS


def test_ingest_takes_the_new_tables_without_rejects(detected: Detected) -> None:
    assert detected.tables >= KEY_TABLES
    assert detected.rejected == 0 and not detected.errors


@pytest.mark.parametrize("finding_type", ["ioc_hit", "threat_warning"])
def test_threat_truth_is_found_exactly(detected: Detected, finding_type: str) -> None:
    scores = detected.scores[finding_type]
    assert scores["tp"] > 0
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0, scores


@needs_shared
def test_vulnerable_assets_are_found_exactly(detected: Detected) -> None:
    scores = detected.scores["vulnerable_asset"]
    assert scores["tp"] > 0
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0, scores


def test_no_near_miss_of_the_new_kinds_is_flagged(province: Path, detected: Detected) -> None:
    near = {r["subject"] for r in _rows(province, "near_misses.csv") if r["kind"] in NEW_KINDS}
    assert near and not near & detected.subjects


def _lines(province: Path) -> dict[str, list[tuple[int, int]]]:
    """Each key unit's filed leased lines (first, last address)."""
    roles = {r["uscc"]: r["roles"] for r in _rows(province, "organisations.csv")}
    lines: dict[str, list[tuple[int, int]]] = {}
    for r in _rows(province, "ip_filings.csv"):
        if "key_unit" in roles.get(r["user_uscc"], ""):
            span = (
                int(ipaddress.ip_address(r["start_ip"])),
                int(ipaddress.ip_address(r["end_ip"])),
            )
            lines.setdefault(r["user_uscc"], []).append(span)
    return lines


def test_addresses_are_the_key_units_own_and_in_the_province(province: Path) -> None:
    lines = _lines(province)
    used = [(r["org_uscc"], r["ip"]) for r in _rows(province, "assets.csv")]
    used += [(r["org_uscc"], r["client_ip"]) for r in _rows(province, "dns_logs.csv")]
    used += [(r["org_uscc"], r["src"]) for r in _rows(province, "flow_logs.csv")]
    assert len({unit for unit, _ in used}) == len(lines) >= 3
    for unit, address in used:
        value = int(ipaddress.ip_address(address))
        assert any(a <= value <= b for a, b in lines[unit]), (unit, address)
    assert set(provinces_of(sorted({address for _, address in used}))) == {"江苏"}


def test_logs_cover_the_fortnight_before_the_as_of_day(province: Path) -> None:
    as_of = datetime(2024, 12, 31)
    for name in ("dns_logs.csv", "flow_logs.csv", "http_logs.csv"):
        times = [datetime.fromisoformat(r["ts"]) for r in _rows(province, name)]
        assert as_of - timedelta(days=14) <= min(times) and max(times) < as_of, name
