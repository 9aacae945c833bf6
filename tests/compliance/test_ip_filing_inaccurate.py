"""ip_filing_inaccurate: overlaps, province mismatches, check 1063 and busy 预留 blocks."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from longpan.core.identifiers.uscc import make_uscc
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.conftest import make_workspace

TYPE = "ip_filing_inaccurate"


def _uscc(n: int) -> str:
    return make_uscc("9", "1", "320102", f"{n:08d}")


CT, AP1, AP2, CDN = _uscc(1), _uscc(2), _uscc(3), _uscc(4)
C = {n: _uscc(100 + n) for n in range(1, 10)}  # customers

NOW, RECENT, OLD = "2024-12-31T00:00:00Z", "2024-12-20T08:00:00Z", "2024-09-01T00:00:00Z"
V6_32 = "240e:300::", "240e:300:ffff:ffff:ffff:ffff:ffff:ffff"
V6_48 = "240e:300:1::", "240e:300:1:ffff:ffff:ffff:ffff:ffff"
V6_64 = "240e:300:1:1::", "240e:300:1:1:ffff:ffff:ffff:ffff"
V6_OTHER = "240e:300:2::", "240e:300:2:ffff:ffff:ffff:ffff:ffff"


def _filing(
    start: str,
    end: str,
    reporter: str,
    allocation: str,
    user: str = "",
    user_uscc: str = "",
    province: str = "江苏",
) -> list[str]:
    return [
        start,
        end,
        reporter,
        "中国电信",
        allocation,
        user,
        user_uscc,
        province,
        "南京",
        "2020-01-01",
    ]


FILINGS = [
    # hierarchy: the carrier re-allocates, access providers allocate inside
    _filing("221.226.0.0", "221.226.255.255", CT, "再次分配", "云擎", AP1),
    _filing("221.228.0.0", "221.231.255.255", CT, "再次分配", "星桥", AP2),  # spans /16s
    _filing("221.229.1.0", "221.229.1.3", AP2, "分配且使用", "客户七", C[7]),
    _filing("221.229.2.0", "221.229.2.31", AP2, "自用", "星桥", AP2),
    # the same range filed to two users → one finding
    _filing("221.226.1.0", "221.226.1.3", AP1, "分配且使用", "客户一", C[1]),
    _filing("221.226.1.0", "221.226.1.3", AP1, "分配且使用", "客户二（重复备案）", C[2]),
    _filing("221.226.1.4", "221.226.1.7", AP1, "分配且使用", "客户三", C[3]),  # adjacent
    # a customer range inside the provider's own 自用 pool → two findings
    _filing("221.226.2.0", "221.226.2.31", AP1, "自用", "云擎", ""),
    _filing("221.226.2.8", "221.226.2.11", AP1, "分配且使用", "客户四", C[4]),
    # the same user, by the carrier and by the provider (name written differently)
    _filing("221.226.3.0", "221.226.3.15", CT, "分配且使用", "客户五（集团）", C[5]),
    _filing("221.226.3.0", "221.226.3.15", AP1, "分配且使用", " 客户五 (集团) ", C[5]),
    # users known by name only
    _filing("221.226.4.0", "221.226.4.3", AP1, "分配且使用", "甲（南京）公司"),
    _filing("221.226.4.0", "221.226.4.3", AP1, "分配且使用", "甲(南京)公司 "),
    _filing("221.226.4.8", "221.226.4.11", AP1, "分配且使用", "乙公司"),
    _filing("221.226.4.8", "221.226.4.15", AP1, "分配且使用", "丙公司"),
    # a 自用 block spanning two /8s with small ranges of another user inside
    _filing("10.0.0.0", "11.255.255.255", CT, "自用", "中国电信", CT),
    _filing("10.200.0.0", "10.200.0.3", AP2, "分配且使用", "客户六", C[6]),
    _filing("11.1.1.0", "11.1.1.3", AP2, "分配且使用", "客户六", C[6]),
    _filing("12.0.0.0", "12.0.0.3", AP2, "分配且使用", "客户六", C[6]),  # adjacent
    # IPv6: re-allocation, an overlap, and a declared province nobody can check
    _filing(*V6_32, CT, "再次分配", "云擎", AP1),
    _filing(*V6_48, AP1, "分配且使用", "客户一", C[1]),
    _filing(*V6_64, AP1, "分配且使用", "客户二", C[2]),
    _filing(*V6_OTHER, AP1, "分配且使用", "客户三", C[3], province="浙江"),
    # province: declared elsewhere; a range whose last address is in 浙江
    _filing("221.226.5.0", "221.226.5.3", AP1, "分配且使用", "客户八", C[8], province="浙江"),
    _filing("42.247.5.204", "42.247.5.211", CT, "分配且使用", "客户九", C[9]),
    # reserves: serving (access address, DNS only, a big block) and idle ones
    _filing("221.226.8.0", "221.226.8.15", AP1, "预留"),
    _filing("221.226.9.0", "221.226.9.15", AP1, "预留"),
    _filing("221.226.10.0", "221.226.10.15", AP1, "预留"),
    _filing("100.64.0.0", "100.127.255.255", CT, "预留"),
    _filing("2408:8200::", "2408:8200:0:ffff:ffff:ffff:ffff:ffff", CT, "预留"),
    # a CDN's own addresses answering for many filed sites
    _filing("61.155.10.0", "61.155.10.15", CDN, "自用", "云加速", CDN),
]

FLAGGED = {
    "221.226.1.0-221.226.1.3": ["overlap"],
    "221.226.2.0-221.226.2.31": ["overlap"],
    "221.226.2.8-221.226.2.11": ["overlap"],
    "221.226.4.8-221.226.4.11": ["overlap"],
    "221.226.4.8-221.226.4.15": ["overlap"],
    "10.0.0.0-11.255.255.255": ["overlap"],
    "10.200.0.0-10.200.0.3": ["overlap"],
    "11.1.1.0-11.1.1.3": ["overlap"],
    f"{V6_48[0]}-{V6_48[1]}": ["overlap"],
    f"{V6_64[0]}-{V6_64[1]}": ["overlap"],
    "221.226.5.0-221.226.5.3": ["province_mismatch"],
    "42.247.5.204-42.247.5.211": ["province_mismatch"],
    "221.226.7.7-221.226.7.7": ["access_outside_provider"],
    "221.226.7.8-221.226.7.8": ["access_outside_provider"],  # filed, even if not served there
    "240e:300:1::5-240e:300:1::5": ["access_outside_provider"],
    "240e:300:2::8-240e:300:2::8": ["access_outside_provider"],
    "221.226.8.0-221.226.8.15": ["reserved_but_serving"],
    "221.226.9.0-221.226.9.15": ["reserved_but_serving"],
    "100.64.0.0-100.127.255.255": ["reserved_but_serving"],
}


def _service(
    n: int,
    kind: str,
    domains: str,
    provider: str,
    ips: str,
    status: str = "active",
) -> list[str]:
    licence = f"苏ICP备20200000{n:02d}号"
    return [f"{licence}-1", licence, kind, f"站点{n}", domains, provider, ips, "2020-02-01", status]


SERVICES = [
    _service(1, "website", "a.com", AP1, "221.226.2.20"),  # its provider's space
    _service(2, "website", "b.cn", AP2, "221.226.7.7"),  # 1063, seen in DNS
    _service(3, "website", "c.com.cn", AP2, "221.226.7.8"),  # 1063 (strict); not served there
    _service(4, "app", "", AP2, "240e:300:1::5"),  # 1063, IPv6, no domain to confirm
    _service(5, "app", "", AP1, "240e:300:1:1::9"),  # covered by the provider's IPv6
    _service(6, "website", "bank.com.cn", CT, "221.226.3.5"),  # leased line of the carrier
    _service(7, "website", "g.com", AP2, "221.226.7.9", status="cancelled"),
    _service(8, "website", "h.net", AP2, "240e:300:2::8"),  # 1063, IPv6, seen in DNS
    _service(9, "website", "i.com", AP1, "221.226.8.2"),  # inside a 预留 block
    _service(10, "website", "j.com;j.cn", AP1, "221.226.2.21"),
    _service(11, "website", "l.org.cn", CT, "100.100.1.1"),  # inside the big 预留 block
    _service(12, "website", "m.com", AP2, "221.229.2.6"),  # user of the carrier's block
    _service(13, "website", "n.com", AP2, "221.226.7.10"),  # its subject is cancelled
    _service(14, "website", "例子.中国", AP1, "221.226.2.22"),
]
CANCELLED_SUBJECT = "苏ICP备2020000013号"


def _dns(fqdn: str, rrtype: str, value: str, last: str = RECENT) -> list[str]:
    return [fqdn, rrtype, value, "2024-01-01T00:00:00Z", last, "10"]


DNS = [
    _dns("www.a.com", "CNAME", "a.com.cdn.example.net"),
    _dns("a.com.cdn.example.net", "A", "61.155.10.1"),
    _dns("www.b.cn", "A", "221.226.7.7"),
    _dns("c.com.cn", "A", "221.229.2.5"),  # served from its own provider's pool
    _dns("h.net", "AAAA", "240e:300:2::8"),
    _dns("I.COM.", "A", "221.226.8.2"),
    _dns("shop.j.cn", "A", "221.226.9.3"),  # a filed domain answering from a reserve
    _dns("www.unfiled.com", "A", "221.226.10.3"),  # not filed: not "serving a filed site"
    _dns("j.com", "A", "221.226.10.4", last=OLD),  # long gone
    _dns("www.例子.中国", "A", "61.155.10.2"),
    _dns("g.com", "A", "221.226.7.9"),
    _dns("n.com", "A", "221.226.7.10"),
    _dns("www.m.com", "A", "221.229.2.6", last=NOW),
]


def _write(folder: Path, name: str, header: str, rows: list[list[str]]) -> None:
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header.split(","))
        writer.writerows(rows)


def _status(licence: str) -> str:
    return "cancelled" if licence == CANCELLED_SUBJECT else "active"


def write_lake(folder: Path, filings: list[list[str]] = FILINGS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder,
        "ip_filings",
        "start_ip,end_ip,reporter_uscc,source_unit,allocation,user_name,user_uscc,province,"
        "city,filed_at",
        filings,
    )
    _write(
        folder,
        "icp_services",
        "service_licence,subject_licence,service_type,name,domains,access_provider_uscc,"
        "access_ips,approved_at,status",
        SERVICES,
    )
    subjects = sorted({row[1] for row in SERVICES})
    _write(
        folder,
        "icp_subjects",
        "subject_licence,uscc,unit_name,nature,province,approved_at,status",
        [
            [lic, _uscc(500 + n), f"单位{n}", "企业", "江苏", "2020-01-01", _status(lic)]
            for n, lic in enumerate(subjects)
        ],
    )
    _write(folder, "dns_observations", "fqdn,rrtype,value,first_seen,last_seen,count", DNS)
    return folder


def _run(ws: Workspace, engine: str, **kwargs: Any) -> dict[str, dict[str, Any]]:
    result = run_detection(ws, only=[TYPE], engine=engine, **kwargs)
    assert result.status == "succeeded", result.errors
    with ws.sessions() as session:
        found = list_findings(session)
    return {f["subject"]: f for f in found if f["type"] == TYPE and f["observed"]}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lake(tmp_path_factory.mktemp("ipf") / "in")


@pytest.fixture
def workspace(tmp_path: Path, lake: Path) -> Iterator[Workspace]:
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, lake)
    yield ws
    ws.close()


def test_each_check_and_its_near_misses(workspace: Workspace, engine_name: str) -> None:
    found = _run(workspace, engine_name)
    assert {s: f["evidence"]["checks"] for s, f in found.items()} == FLAGGED
    twin = found["221.226.1.0-221.226.1.3"]
    assert twin["severity"] == "low" and twin["responsible_uscc"] == AP1
    assert {f["user_uscc"] for f in twin["evidence"]["filings"]} == {C[1], C[2]}
    assert len(twin["evidence"]["overlap"]) == 1
    pool = found["221.226.2.0-221.226.2.31"]["evidence"]["overlap"]
    assert [p["other"]["user_uscc"] for p in pool] == [C[4]]
    big = found["10.0.0.0-11.255.255.255"]["evidence"]["overlap"]
    assert sorted(p["other"]["start_ip"] for p in big) == ["10.200.0.0", "11.1.1.0"]
    straddle = found["42.247.5.204-42.247.5.211"]["evidence"]["province_mismatch"]
    assert [(m["position"], m["geolocated"]["province"]) for m in straddle] == [("end", "浙江")]
    assert found["42.247.5.204-42.247.5.211"]["responsible_uscc"] == CT
    outside = found["221.226.7.7-221.226.7.7"]
    assert outside["severity"] == "medium" and outside["responsible_uscc"] == AP2
    ev = outside["evidence"]["access_outside_provider"]
    assert ev["services"][0]["service_licence"] == "苏ICP备2020000002号-1"
    assert ev["services"][0]["dns_answer"]["fqdn"] == "www.b.cn"
    assert {f["reporter_uscc"] for f in ev["filed_by"]} == {CT}
    assert found["240e:300:1::5-240e:300:1::5"]["responsible_uscc"] == AP2
    reserve = found["221.226.8.0-221.226.8.15"]
    assert reserve["severity"] == "medium" and reserve["responsible_uscc"] == AP1
    serving = reserve["evidence"]["reserved_but_serving"]["serving"]
    assert {(s["source"], s.get("service_licence") or s.get("fqdn")) for s in serving} == {
        ("icp_service", "苏ICP备2020000009号-1"),
        ("dns", "i.com"),
    }
    assert found["100.64.0.0-100.127.255.255"]["responsible_uscc"] == CT


def test_dns_confirmed_1063_and_a_shorter_dns_window(
    tmp_path: Path, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "LONGPAN_DETECTORS", f'{{"{TYPE}": {{"confirm_access_by_dns": true, "dns_days": 5}}}}'
    )
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, lake)
    found = _run(ws, "duckdb")
    ws.close()
    # DNS-confirmed 1063 spares the access address the site does not use and the sites
    # whose answers are older than 5 days; so is the reserve only DNS showed serving
    expected = set(FLAGGED) - {
        "221.226.7.8-221.226.7.8",
        "221.226.7.7-221.226.7.7",
        "240e:300:2::8-240e:300:2::8",
        "221.226.9.0-221.226.9.15",
    }
    assert set(found) == expected


def test_recheck_touches_only_the_subject(workspace: Workspace) -> None:
    _run(workspace, "duckdb")
    for subject in (
        "221.226.1.0-221.226.1.3",
        "221.226.7.7-221.226.7.7",
        "100.64.0.0-100.127.255.255",
    ):
        result = run_detection(workspace, only=[TYPE], engine="duckdb", subjects=[subject])
        assert result.counts[TYPE]["found"] == 1, subject
    clean = "221.226.1.4-221.226.1.7"
    result = run_detection(workspace, only=[TYPE], engine="duckdb", subjects=[clean])
    assert result.counts[TYPE]["found"] == 0
    with workspace.sessions() as session:
        found = {f["subject"]: f for f in list_findings(session) if f["type"] == TYPE}
    assert set(found) == set(FLAGGED) and all(f["observed"] for f in found.values())


def test_fixed_filings_are_no_longer_observed(tmp_path: Path) -> None:
    folder = write_lake(tmp_path / "in", [f for f in FILINGS if "（重复备案）" not in f[5]])
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, folder)
    found = _run(ws, "duckdb")
    ws.close()
    assert "221.226.1.0-221.226.1.3" not in found
