"""synth/logs.py: deterministic logs whose truth the ingest accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from longpan.resources.ingest import ingest_folder
from longpan.synth.logs import generate_logs, write_logs
from longpan.threat.stix import read_paths
from tests.conftest import make_workspace
from tests.threat.conftest import UNITS, generated


def test_same_seed_same_logs(tmp_path: Path) -> None:
    one, two = generated(), generated()
    assert one.dns_logs == two.dns_logs and one.bundle == two.bundle
    counts = write_logs(one, tmp_path / "a")
    write_logs(two, tmp_path / "b")
    for name in ("dns_logs.csv", "indicators.json", "threat_truth.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert counts["threat_truth"] == 11 and counts["threat_near_misses"] == 6


def test_ingest_accepts_the_logs_and_the_bundle_reads(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_logs(generated(), folder)
    ws = make_workspace(tmp_path / "home")
    report = ingest_folder(ws, folder)  # strict: any bad row would raise
    assert {t.table for t in report.tables} == {"dns_logs", "flow_logs", "http_logs"}
    content = read_paths([folder / "indicators.json"])
    assert sum(i.revoked for i in content.indicators) == 1
    assert all(i.observables for i in content.indicators)
    ws.close()


def test_needs_three_units() -> None:
    with pytest.raises(ValueError, match="three units"):
        generate_logs(UNITS[:2])
