"""Accuracy rates (census and the pilots' sampling method) and counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from longpan.detect.runner import run_detection
from longpan.metrics.accuracy import Record, accuracy
from longpan.metrics.report import build_report
from longpan.metrics.sampling import Stratum, draw, sample_size, stratified, wilson
from longpan.resources.ingest import ingest_folder
from tests.conftest import EXAMPLE, make_workspace


@pytest.mark.parametrize(
    ("population", "expected"),
    [(0, 0), (1, 1), (2, 2), (49, 2), (50, 3), (100, 3), (101, 4), (1000, 30), (1001, 31)],
)
def test_pilot_sample_sizes(population: int, expected: int) -> None:
    assert sample_size(population) == expected


def test_sample_is_reproducible_and_within_stratum() -> None:
    ids = [f"r{i}" for i in range(500)]
    first = draw(ids, seed=7, stratum="ap1")
    assert first == draw(list(reversed(ids)), seed=7, stratum="ap1")
    assert first != draw(ids, seed=8, stratum="ap1")
    assert len(first) == 15 and set(first) <= set(ids)


def test_intervals() -> None:
    low, high = wilson(97, 100)
    assert 0.91 < low < 0.97 < high < 0.995
    assert wilson(0, 0) == (0.0, 1.0)


def test_a_providers_interval_knows_its_sample_came_from_few_records() -> None:
    """Without replacement from N records: every record checked is exact, and a sample
    of most records is narrower than the same sample from a large population."""
    assert wilson(1, 1, population=1) == (1.0, 1.0)
    assert wilson(2, 3, population=3) == (2 / 3, 2 / 3)
    few_low, few_high = wilson(2, 2, population=5)
    many_low, many_high = wilson(2, 2, population=10_000)
    assert many_low < few_low < 1.0 == few_high == many_high
    assert wilson(2, 2) == pytest.approx((many_low, many_high), abs=1e-3)
    low, high = wilson(29, 30, population=1000)
    assert low < 29 / 30 < high
    estimate, low, high = stratified([Stratum(1000, 30, 29), Stratum(10, 2, 2)])
    assert low < estimate < high and estimate == pytest.approx((1000 * 29 / 30 + 10) / 1010)
    assert stratified([Stratum(5, 5, 5)]) == (1.0, 1.0, 1.0)  # a census has no error


def test_accuracy_counts_records_touched_by_findings() -> None:
    records = [
        Record("s1-1", "ap", ("s1", "a.com", "1.1.1.1-1.1.1.1")),
        Record("s2-1", "ap", ("s2", "b.com")),
        Record("s3-1", "other", ("s3", "c.com")),
    ]
    figures = accuracy(records, {"a.com"}, {"ap": "某接入商"})
    assert figures["census"] == {"records": 3, "accurate": 2, "rate": 2 / 3}
    by = {r["uscc"]: r for r in figures["by_provider"]}
    assert by["ap"]["accurate"] == 1 and by["ap"]["name"] == "某接入商"
    assert by["ap"]["sampled"] == 2 and by["other"]["sampled"] == 1
    assert by["other"]["ci95"] == [1.0, 1.0]  # its one record checked: no sampling error


def test_report_on_the_example(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    ingest_folder(ws, EXAMPLE)
    run_detection(ws, only=["dissolved_subject"])
    figures = build_report(ws)
    icp = figures["icp_accuracy"]
    dissolved = figures["counts"]["by_type"][0]
    assert dissolved == {"type": "dissolved_subject", "count": 3, "title": "主体失效"}
    assert icp["census"]["records"] - icp["census"]["accurate"] >= 3
    assert {r["city"] for r in figures["counts"]["by_city"]} != {"未知"}
    assert sum(r["count"] for r in figures["counts"]["by_provider"]) == 3
    types = {r["service_type"] for r in figures["filings"]["services"]}
    assert {"website", "app", "miniprogram"} <= types
    ws.close()
