"""The synthetic province: deterministic, valid, complete, and loadable."""

from __future__ import annotations

import csv
import hashlib
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from longpan.core.identifiers import parse_service_licence, parse_subject_licence, parse_uscc
from longpan.core.subjects import canonical_subject
from longpan.detect.evaluate import evaluate_database
from longpan.detect.runner import run_detection
from longpan.resources.exchange.tables import SPECS
from longpan.resources.geo import provinces_of
from longpan.resources.ingest import ingest_folder
from longpan.synth import assets, logs
from longpan.synth.generate import generate
from longpan.synth.model import DEFAULT_RATES, NEAR_MISS_KINDS, make_config
from tests.conftest import make_workspace

# Every exchange table: the compliance (固源) tables, and the key units' assets and
# network logs (issue 6).
PROVINCE_TABLES = set(SPECS)
TRUTH_TYPES = set(DEFAULT_RATES) | {"vulnerable_asset", "ioc_hit", "threat_warning"}
NEAR_KINDS = {*NEAR_MISS_KINDS, *logs.NEAR_MISS_KINDS, assets.NEAR_MISS_KIND}


def _digest(folder: Path) -> dict[str, str]:
    """sha256 of every file, by its path in the folder (feeds/ included)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("small") / "province"
    generate(make_config("small", 20241231), folder)
    yield folder


def test_same_seed_same_bytes_other_seed_other_province(tmp_path: Path) -> None:
    generate(make_config("tiny", 5), tmp_path / "a")
    generate(make_config("tiny", 5), tmp_path / "b")
    generate(make_config("tiny", 6), tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    different = _digest(tmp_path / "c")
    assert all(
        different[name] != digest
        for name, digest in _digest(tmp_path / "a").items()
        if name not in ("registrars.csv",)
    )


def test_identifiers_are_valid(small: Path) -> None:
    entities = _rows(small, "entities.csv")
    assert entities and all(parse_uscc(r["uscc"]) == r["uscc"] for r in entities)
    subjects = _rows(small, "icp_subjects.csv")
    assert all(
        parse_subject_licence(r["subject_licence"]) == r["subject_licence"] for r in subjects
    )
    assert all(parse_uscc(r["uscc"]) for r in subjects if r["uscc"])
    assert {len(r["subject_licence"]) for r in subjects} == {14, 16}  # 8- and 10-digit forms
    services = _rows(small, "icp_services.csv")
    assert all(
        parse_service_licence(r["service_licence"]) == r["service_licence"] for r in services
    )
    assert {r["service_type"] for r in services} == {"website", "app", "miniprogram", "quickapp"}


def test_in_province_filings_geolocate_to_the_province(small: Path) -> None:
    filings = [
        r
        for r in _rows(small, "ip_filings.csv")
        if r["province"] == "江苏" and ":" not in r["start_ip"]
    ]
    assert len(filings) > 100
    addresses = [a for r in filings for a in (r["start_ip"], r["end_ip"])]
    assert set(provinces_of(addresses)) == {"江苏"}
    assert any(":" in r["start_ip"] for r in _rows(small, "ip_filings.csv"))  # IPv6 too
    for r in filings:
        assert ipaddress.ip_address(r["start_ip"]) <= ipaddress.ip_address(r["end_ip"])


def test_truth_is_canonical_and_complete(small: Path) -> None:
    truth = _rows(small, "truth.csv")
    assert {r["finding_type"] for r in truth} == TRUTH_TYPES
    assert all(canonical_subject(r["subject"]) == r["subject"] for r in truth)
    near = _rows(small, "near_misses.csv")
    assert {r["kind"] for r in near} == NEAR_KINDS
    assert all(canonical_subject(r["subject"]) == r["subject"] for r in near)
    flagged = {r["subject"] for r in truth}
    assert not flagged & {r["subject"] for r in near}


def test_domains_cover_the_expected_suffixes(small: Path) -> None:
    services = _rows(small, "icp_services.csv")
    domains = {d for r in services for d in r["domains"].split(";") if d}
    suffixes = {d.split(".", 1)[1] for d in domains}
    assert {"com", "cn", "com.cn", "net", "org.cn", "gov.cn", "top", "xyz"} <= suffixes
    assert any(d.startswith("xn--") or ".xn--" in d for d in domains)  # IDN
    footers = [r["footer_icp"] for r in _rows(small, "web_crawls.csv") if r["footer_icp"]]
    assert any("１" in f or "２" in f or "３" in f for f in footers)  # full-width digits


def test_manifest(small: Path) -> None:
    import json

    manifest = json.loads((small / "manifest.json").read_text("utf-8"))
    assert manifest["scale"] == "small" and manifest["seed"] == 20241231
    assert set(manifest["counts"]) == PROVINCE_TABLES
    table = pacsv.read_csv(small / "icp_services.csv")
    assert manifest["counts"]["icp_services"] == table.num_rows
    assert 4_000 < table.num_rows < 6_500
    for name in ("assets", "dns_logs", "flow_logs", "http_logs"):
        assert manifest["counts"][name] == pacsv.read_csv(small / f"{name}.csv").num_rows > 0
    bundle = json.loads((small / "feeds" / "indicators.stix.json").read_text("utf-8"))
    feed = next(f for f in manifest["feeds"] if f["path"] == "feeds/indicators.stix.json")
    assert feed["objects"] == len(bundle["objects"]) > 0 and "import-stix" in feed["import"]
    assert manifest["generator_version"] == "1.1.0"


def test_ingest_accepts_it_and_dissolved_subjects_are_found(small: Path, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    report = ingest_folder(ws, small)  # strict: any bad row would raise
    assert {t.table for t in report.tables} == PROVINCE_TABLES
    assert all(t.rejected == 0 for t in report.tables)
    run_detection(ws, only=["dissolved_subject"])
    with ws.sessions() as session:
        scores = evaluate_database(session, small / "truth.csv")["by_type"]["dissolved_subject"]
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0
    ws.close()


def test_bad_options_are_refused() -> None:
    from longpan.core.errors import InputError

    with pytest.raises(InputError, match="--scale"):
        make_config("huge", 1)
    with pytest.raises(InputError, match="--rate"):
        make_config("tiny", 1, rates={"nonsense": 0.1})


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 99])
def test_every_seed_ingests_cleanly(seed: int, tmp_path: Path) -> None:
    """Validation at ingest is the independent check of what the generator writes."""
    generate(make_config("tiny", seed), tmp_path / "p")
    ws = make_workspace(tmp_path / "home")
    report = ingest_folder(ws, tmp_path / "p")
    assert all(t.rejected == 0 for t in report.tables)
    ws.close()
