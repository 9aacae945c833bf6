"""The xl machinery at a tiny size: a province built in shards, one after the other.

A three-shard province of tiny shards is generated (Parquet, as xl writes it), then
checked the way xl must hold: identifiers disjoint across shards, shared parties
written once (the key units' assets and logs too), byte-identical twice, ingested
strictly, every detector right against truth.csv and no near miss flagged. The feeds
the key units' truth needs are imported first: the province's STIX bundle, and the real
NVD sample and KEV (vulnerable_asset is skipped, with the reason, when they are absent).
"""

from __future__ import annotations

import csv
import hashlib
import ipaddress
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from longpan.core.subjects import canonical_subject
from longpan.detect.evaluate import evaluate_database
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.resources.exchange.tables import SPECS
from longpan.resources.geo import provinces_of
from longpan.synth import assets, logs
from longpan.synth import reference as ref
from longpan.synth.generate import Carry, build, generate
from longpan.synth.inject import Province
from longpan.synth.model import (
    DEFAULT_RATES,
    NEAR_MISS_KINDS,
    SCALES,
    Shard,
    SynthConfig,
    make_config,
)
from longpan.synth.network import Allocator, SpaceExhausted, grow_access_provider
from longpan.synth.services import DomainNames
from tests.conftest import make_workspace
from tests.synth.conftest import load_province
from tests.vuln.helpers import needs_shared

SHARDS = 3
SEED = 11
KEY_UNIT_TYPES = ("ioc_hit", "threat_warning", "vulnerable_asset")
NEAR_KINDS = {*NEAR_MISS_KINDS, *logs.NEAR_MISS_KINDS, assets.NEAR_MISS_KIND}


def _config(seed: int = SEED) -> SynthConfig:
    cfg = make_config("tiny", seed)
    return replace(cfg, scale=replace(cfg.scale, parquet=True))  # the xl format


def _digest(folder: Path) -> dict[str, str]:
    """sha256 of every file, by its path in the folder (feeds/ included)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _rows(folder: Path, table: str) -> list[dict[str, Any]]:
    return pq.read_table(folder / f"{table}.parquet").to_pylist()


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sharded") / "province"
    generate(_config(), folder, shards=SHARDS)
    return folder


@dataclass(frozen=True)
class Evaluated:
    scores: dict[str, Any]
    findings: list[dict[str, Any]]
    near_misses: dict[str, str]
    errors: dict[str, str]
    rejected: int


@pytest.fixture(scope="module")
def evaluated(sharded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evaluated]:
    ws = make_workspace(tmp_path_factory.mktemp("home"))
    report = load_province(ws, sharded)
    result = run_detection(ws, engine="duckdb")
    with ws.sessions() as session:
        scores = evaluate_database(session, sharded / "truth.csv")["by_type"]
        findings = list_findings(session)
    ws.close()
    near = {r["subject"]: r["kind"] for r in _csv(sharded / "near_misses.csv")}
    rejected = sum(t.rejected for t in report.tables)
    yield Evaluated(scores, findings, near, result.errors, rejected)


def _shards(cfg: SynthConfig, count: int) -> Iterator[Province]:
    carry = Carry()
    for index in range(count):
        province = build(replace(cfg, shard=Shard(index, count)), None, carry)
        yield province
        carry.keep(province)


def _identifiers(p: Province) -> dict[str, set[Any]]:
    s = p.subjects
    companies = s.kind == "company"
    return {
        "uscc": {u for u in s.uscc.tolist() if u},
        "subject_licence": set(s.licence.tolist()),
        "company_name": {(c, n) for c, n in zip(s.city[companies], s.name[companies], strict=True)},
        "public_body": set(s.name[(s.kind != "company") & (s.kind != "individual")].tolist()),
        "domain": set(p.universe.by_domain),
        "ipv4_block": {
            (int(f.start), int(f.end)) for f in p.net.filings if isinstance(f.start, int)
        },
        "organisation": {o.uscc for o in p.net.organisations} if p.cfg.shard.index == 0 else set(),
        "key_unit": {o.uscc for o in p.net.key_units},
    }


def test_identifier_spaces_are_disjoint_across_shards() -> None:
    seen: dict[str, set[Any]] = {}
    key_units = []
    for province in _shards(_config(), SHARDS):
        key_units.append(len(province.net.key_units))
        for name, values in _identifiers(province).items():
            assert values or name in ("organisation", "key_unit", "public_body"), name
            assert not values & seen.get(name, set()), f"{name} repeats across shards"
            seen.setdefault(name, set()).update(values)
    assert key_units[0] > 0 and key_units[1:] == [0] * (SHARDS - 1)  # key units: once
    others = seen["organisation"] - seen["key_unit"]  # carriers, access providers, …
    assert others and not others & seen["uscc"]  # no organisation shares a subject's code


def test_same_seed_same_bytes(sharded: Path, tmp_path: Path) -> None:
    generate(_config(), tmp_path / "again", shards=SHARDS)
    assert _digest(tmp_path / "again") == _digest(sharded)
    generate(_config(SEED + 1), tmp_path / "other", shards=SHARDS)
    other = _digest(tmp_path / "other")
    assert other["icp_subjects.parquet"] != _digest(sharded)["icp_subjects.parquet"]


def test_csv_shards_are_deterministic_too(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate(make_config("tiny", 3), tmp_path / name, shards=2)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    lines = (tmp_path / "a" / "entities.csv").read_text("utf-8").splitlines()
    assert lines.count(lines[0]) == 1  # one header although two shards wrote the file


def test_shared_parties_are_written_once(sharded: Path) -> None:
    orgs = _rows(sharded, "organisations")
    assert len({o["uscc"] for o in orgs}) == len(orgs)
    assert len({o["name"] for o in orgs}) == len(orgs)
    carriers = [o for o in orgs if "carrier" in o["roles"]]
    assert len(carriers) == len(ref.CARRIERS)
    access = [o for o in orgs if "access_provider" in o["roles"] and "carrier" not in o["roles"]]
    assert len(access) == SCALES["tiny"].access_providers + 1  # and the CDN
    assert len(_rows(sharded, "registrars")) == len(ref.REGISTRARS)
    entities = Counter(e["uscc"] for e in _rows(sharded, "entities"))
    assert entities.most_common(1)[0][1] == 1
    assert {o["uscc"] for o in orgs} <= set(entities)


def test_every_key_is_unique_province_wide(sharded: Path) -> None:
    for path in sorted(sharded.glob("*.parquet")):
        table, spec = path.stem, SPECS[path.stem]
        rows = _rows(sharded, table)
        keys = Counter(tuple(r[c] for c in spec.dataset.key) for r in rows)
        assert rows and keys.most_common(1)[0][1] == 1, table
    services = _rows(sharded, "icp_services")
    domains = [d for r in services for d in r["domains"]]
    assert len(domains) == len(set(domains))


def test_in_province_filings_geolocate_to_the_province(sharded: Path) -> None:
    filings = _rows(sharded, "ip_filings")
    ipv4 = [f for f in filings if ":" not in f["start_ip"] and f["province"] == "江苏"]
    assert set(provinces_of([a for f in ipv4 for a in (f["start_ip"], f["end_ip"])])) == {"江苏"}
    blocks = sorted(
        (int(ipaddress.ip_address(f["start_ip"])), int(ipaddress.ip_address(f["end_ip"])))
        for f in filings
        if f["allocation"] == "再次分配" and ":" not in f["start_ip"]
    )
    assert all(a[1] < b[0] for a, b in itertools.pairwise(blocks))  # no overlap


def test_truth_and_near_misses(sharded: Path) -> None:
    truth = _csv(sharded / "truth.csv")
    assert {r["finding_type"] for r in truth} == set(DEFAULT_RATES) | set(KEY_UNIT_TYPES)
    assert all(canonical_subject(r["subject"]) == r["subject"] for r in truth)
    near = _csv(sharded / "near_misses.csv")
    assert {r["kind"] for r in near} == NEAR_KINDS
    assert not {r["subject"] for r in truth} & {r["subject"] for r in near}
    cdn = [r for r in near if r["kind"] == "cdn_shared_address"]
    assert len(cdn) == 4  # the CDN nodes are filed once, not once per shard
    manifest = json.loads((sharded / "manifest.json").read_text("utf-8"))
    assert manifest["shards"] == SHARDS and manifest["truth"] == len(truth)
    assert manifest["counts"]["icp_services"] == len(_rows(sharded, "icp_services"))


def test_ingest_accepts_it(evaluated: Evaluated) -> None:
    assert evaluated.rejected == 0 and not evaluated.errors


@pytest.mark.parametrize("finding_type", [*sorted(DEFAULT_RATES), "ioc_hit", "threat_warning"])
def test_detectors_agree_with_truth(evaluated: Evaluated, finding_type: str) -> None:
    scores = evaluated.scores[finding_type]
    assert scores["tp"] > 0, f"no {finding_type} planted"
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0, scores


@needs_shared
def test_vulnerable_assets_agree_with_truth(evaluated: Evaluated) -> None:
    scores = evaluated.scores["vulnerable_asset"]
    assert scores["tp"] > 0, "no vulnerable_asset planted"
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0, scores


def test_key_units_assets_and_logs_are_made_once(sharded: Path) -> None:
    key_units = {o["uscc"] for o in _rows(sharded, "organisations") if "key_unit" in o["roles"]}
    for table in ("assets", "dns_logs", "flow_logs", "http_logs"):
        assert {r["org_uscc"] for r in _rows(sharded, table)} == key_units, table
    manifest = json.loads((sharded / "manifest.json").read_text("utf-8"))
    assert manifest["key_units"]["units"] == len(key_units)
    assert manifest["counts"]["assets"] == len(_rows(sharded, "assets"))


def test_no_near_miss_is_flagged(evaluated: Evaluated) -> None:
    flagged = [
        (f["type"], f["subject"])
        for f in evaluated.findings
        if f["subject"] in evaluated.near_misses
    ]
    assert not flagged


def test_shard_shares_are_disjoint_and_cover_the_space() -> None:
    rng = np.random.default_rng(0)
    drawn = [Shard(i, 3).choose(rng, 100, Shard(i, 3).share(100)) for i in range(3)]
    values = np.concatenate(drawn)
    assert sorted(values.tolist()) == list(range(100))
    assert Shard().choose(np.random.default_rng(5), 1000, 10).tolist() == (
        np.random.default_rng(5).choice(1000, 10, replace=False).tolist()
    )  # one shard draws exactly what the unsharded generator drew


def test_domain_names_remember_earlier_shards() -> None:
    names = DomainNames()
    names.add("yunqing.com")
    names.seal()
    names.add("dingxin.cn")
    assert "yunqing.com" in names and "dingxin.cn" in names
    assert "other.com" not in names


def test_exhausted_carrier_hands_over_to_the_next() -> None:
    cfg = make_config("tiny", 2)
    province = build(cfg)
    net = province.net
    rng = np.random.default_rng(1)
    for _name, isp, _group in ref.CARRIERS[1:]:
        net.allocators[isp] = Allocator([], rng)  # 联通 and 移动 used up
    ap = net.access_providers[0]
    before = len(ap.blocks)
    for _ in range(6):
        grow_access_provider(cfg, net, ap, rng)
    telecom = net.carriers[0].uscc
    assert [b.reporter for b in ap.blocks[before:]] == [telecom] * 6
    net.allocators[ref.CARRIERS[0][1]] = Allocator([], rng)
    with pytest.raises(SpaceExhausted):
        grow_access_provider(cfg, net, ap, rng)
