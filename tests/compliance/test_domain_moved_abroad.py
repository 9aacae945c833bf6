"""domain_moved_abroad: filed domains whose latest WHOIS shows an overseas registrar."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from longpan.compliance import _registrations
from longpan.compliance.domain_moved_abroad import NO_DOMESTIC, DomainMovedAbroad
from longpan.detect.base import DetectionContext
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.compliance.test_expired_domain import (
    AP_A,
    AP_B,
    AP_C,
    findings,
    write_tables,
)
from tests.conftest import make_workspace

TYPE = "domain_moved_abroad"
AS_OF = datetime(2024, 12, 31, tzinfo=UTC)
LICENCE = "工信部域名注册服务机构许可（示例）"
ALIYUN = (420, "Alibaba Cloud Computing (Beijing) Co., Ltd.")
XINNET = (120, "Xin Net Technology Corporation")
GODADDY = (146, "GoDaddy.com, LLC")
NAMECHEAP = (1068, "NameCheap, Inc.")
REGISTRARS = [
    (*ALIYUN, "CN", LICENCE),
    (*XINNET, "CN", LICENCE),
    (*GODADDY, "US", ""),
    (*NAMECHEAP, "US", ""),
    (9001, "Harbour Names Ltd", "HK", LICENCE),  # licence text, but not in CN
    (9002, "Unlicensed Names Co., Ltd.", "CN", ""),  # domestic, without the licence
    (9003, "Twin Registrar", "CN", LICENCE),
    (9004, "twin registrar", "US", ""),  # the same name: ambiguous
]


def whois(
    domain: str, observed: str, registrar: tuple[Any, str] | None, status: str = "ok"
) -> tuple[Any, ...]:
    iana, name = registrar if registrar else ("", "")
    expires = "2026-01-01T00:00:00Z" if registrar else ""
    return (domain, observed, iana, name, "某单位", "2018-01-01T00:00:00Z", expires, status)


def history(domain: str, *registrars: tuple[Any, str] | None) -> list[tuple[Any, ...]]:
    """One observation per registrar, on the 1st of successive months from March."""
    return [
        whois(domain, f"2024-{month:02d}-01T08:00:00+08:00", registrar)
        for month, registrar in enumerate(registrars, start=3)
    ]


def province() -> dict[str, list[tuple[Any, ...]]]:
    services = [  # licence, domains, access provider, status
        ("苏ICP备30000001号-1", "www.moved.com", AP_A, "active"),
        ("苏ICP备30000001号-2", "hop.net", AP_B, "active"),
        ("苏ICP备30000001号-3", "always-abroad.cn", AP_A, "active"),
        ("苏ICP备30000001号-4", "domestic-move.com", AP_A, "active"),
        ("苏ICP备30000001号-5", "came-home.com", AP_A, "active"),
        ("苏ICP备30000001号-6", "unknown-reg.com", AP_A, "active"),
        ("苏ICP备30000001号-7", "by-name.cn", AP_C, "active"),
        ("苏ICP备30000001号-8", "gone-abroad.com", AP_A, "active"),
        ("苏ICP备30000001号-9", "cancelled-abroad.com", AP_A, "cancelled"),
        ("苏ICP备30000001号-10", "harbour.com", AP_A, "active"),
        ("苏ICP备30000001号-11", "unlicensed.com.cn", AP_A, "active"),
        ("苏ICP备30000001号-12", "twin.com", AP_A, "active"),
        ("苏ICP备30000001号-13", "www.江海文旅.中国", AP_B, "active"),
        ("苏ICP备30000001号-14", "News.Example-Media.COM.", AP_B, "active"),
        ("苏ICP备30000001号-15", "free-again.com", AP_A, "active"),
        ("苏ICP备30000001号-16", "xw.wuxi.gov.cn", AP_A, "active"),
        ("苏ICP备30000002号-1", "orphan-abroad.com", AP_A, "active"),  # subject cancelled
    ]
    registrations = [
        *history("moved.com", ALIYUN, ALIYUN, GODADDY),
        *history("hop.net", XINNET, NAMECHEAP, GODADDY),
        *history("always-abroad.cn", NAMECHEAP),
        *history("domestic-move.com", ALIYUN, XINNET),
        *history("came-home.com", GODADDY, ALIYUN),
        *history("unknown-reg.com", ALIYUN, (5555, "Mystery Registrar")),
        *history("by-name.cn", ("", ALIYUN[1].upper()), ("", "  godaddy.com, llc ")),
        *history("gone-abroad.com", GODADDY, None),
        *history("cancelled-abroad.com", ALIYUN, GODADDY),
        *history("harbour.com", (9001, "Harbour Names Ltd")),
        *history("unlicensed.com.cn", ("", "Unlicensed Names Co., Ltd.")),
        *history("twin.com", ("", "Twin Registrar")),
        *history("xn--7dv6es6r95a.xn--fiqs8s", ALIYUN, NAMECHEAP),  # punycode here
        *history("EXAMPLE-MEDIA.COM.", ALIYUN, GODADDY),
        *history("wuxi.gov.cn", NAMECHEAP),
        *history("orphan-abroad.com", GODADDY),
        whois("free-again.com", "2024-03-01T00:00:00Z", GODADDY),
        whois("free-again.com", "2024-06-01T00:00:00Z", GODADDY, "free"),
        whois("gone-abroad.com", "2024-09-01T00:00:00Z", None, "unregistered"),
    ]
    return {
        "icp_subjects": [
            ("苏ICP备30000001号", "", "李四", "个人", "江苏", "2016-08-10", "active"),
            ("苏ICP备30000002号", "", "王五", "个人", "江苏", "2016-08-10", "cancelled"),
        ],
        "icp_services": [
            (lic, lic.split("-")[0], "website", "站点", dom, ap, "", "2016-08-10", status)
            for lic, dom, ap, status in services
        ],
        "registrars": REGISTRARS,
        "domain_registrations": registrations,
    }


EXPECTED = {  # subject: (current registrar id, previous domestic registrar id, responsible)
    "moved.com": (146, 420, AP_A),
    "hop.net": (146, 120, AP_B),
    "always-abroad.cn": (1068, None, AP_A),
    "by-name.cn": (146, 420, AP_C),
    "harbour.com": (9001, None, AP_A),
    "unlicensed.com.cn": (9002, None, AP_A),
    "xn--7dv6es6r95a.xn--fiqs8s": (1068, 420, AP_B),
    "example-media.com": (146, 420, AP_B),
    "wuxi.gov.cn": (1068, None, AP_A),
}


@pytest.fixture
def lake(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, write_tables(tmp_path / "in", province()))
    return ws


def test_flags_domains_at_overseas_registrars(lake: Workspace, engine_name: str) -> None:
    result = run_detection(lake, only=[TYPE], engine=engine_name, as_of=AS_OF)
    assert result.status == "succeeded", result.errors
    found = findings(lake, TYPE)
    assert sorted(found) == sorted(EXPECTED)
    for subject, (current, domestic, responsible) in EXPECTED.items():
        evidence = found[subject]["evidence"]
        assert evidence["current_registrar"]["iana_id"] == current, subject
        previous = evidence["previous_domestic_registrar"]
        assert (previous["iana_id"] if previous else None) == domestic, subject
        assert evidence["note"] == (None if domestic else NO_DOMESTIC), subject
        assert found[subject]["responsible_uscc"] == responsible, subject
        assert found[subject]["severity"] == "medium"

    moved = found["moved.com"]["evidence"]
    assert moved["current_registrar"] == {
        "name": "GoDaddy.com, LLC",
        "iana_id": 146,
        "country": "US",
        "cn_licence": None,
        "name_in_record": "GoDaddy.com, LLC",
        "matched_by": "iana_id",
        "observed_at": "2024-05-01T00:00:00",
    }
    assert moved["previous_domestic_registrar"]["observed_at"] == "2024-04-01T00:00:00"
    assert moved["previous_domestic_registrar"]["cn_licence"] == LICENCE
    assert moved["transfer_window"] == {
        "after": "2024-04-01T00:00:00",
        "by": "2024-05-01T00:00:00",
        "days": 30,
    }
    assert [o["overseas"] for o in moved["observations"]] == [False, False, True]
    assert moved["service_licences"] == ["苏ICP备30000001号-1"]
    assert set(moved["snapshots"]) == set(DomainMovedAbroad.inputs)

    hop = found["hop.net"]["evidence"]  # Xin Net → NameCheap → GoDaddy
    assert hop["transfer_window"]["by"] == "2024-04-01T00:00:00"  # the first step abroad
    assert found["always-abroad.cn"]["evidence"]["transfer_window"] is None

    by_name = found["by-name.cn"]["evidence"]
    assert by_name["current_registrar"]["matched_by"] == "name"
    assert by_name["current_registrar"]["name_in_record"] == "godaddy.com, llc"  # trimmed
    assert by_name["previous_domestic_registrar"]["matched_by"] == "name"
    assert found["xn--7dv6es6r95a.xn--fiqs8s"]["evidence"]["domain_unicode"] == "江海文旅.中国"


def test_long_domain_lists_on_both_engines(
    lake: Workspace, engine_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_registrations, "_LITERAL_LIST", 0)
    run_detection(lake, only=[TYPE], engine=engine_name, as_of=AS_OF)
    assert sorted(findings(lake, TYPE)) == sorted(EXPECTED)


def test_near_misses_are_not_flagged(lake: Workspace) -> None:
    run_detection(lake, only=[TYPE], as_of=AS_OF)
    found = findings(lake, TYPE)
    for subject in (
        "domestic-move.com",  # between two licensed registrars
        "came-home.com",  # back at a domestic registrar
        "unknown-reg.com",  # a registrar the table does not know
        "twin.com",  # a name shared by two registrars: ambiguous
        "gone-abroad.com",  # no longer registered
        "free-again.com",  # 'free' answer, stale registrar
        "cancelled-abroad.com",  # filing cancelled
        "orphan-abroad.com",  # subject filing cancelled
    ):
        assert subject not in found


def test_as_of_in_the_past(lake: Workspace) -> None:
    run_detection(lake, only=[TYPE], as_of=datetime(2024, 3, 15, tzinfo=UTC))
    found = findings(lake, TYPE)
    assert "moved.com" not in found and "hop.net" not in found  # still at home in March
    assert "came-home.com" in found  # at GoDaddy until 04-01
    assert "always-abroad.cn" in found


def test_recheck_one_subject_touches_only_it(lake: Workspace, tmp_path: Path) -> None:
    run_detection(lake, only=[TYPE], as_of=AS_OF)
    before = findings(lake, TYPE)
    tables = province()  # both transferred back home; only moved.com is re-checked
    tables["domain_registrations"] += [
        whois("moved.com", "2024-12-01T00:00:00Z", ALIYUN),
        whois("hop.net", "2024-12-01T00:00:00Z", XINNET),
    ]
    ingest_folder(lake, write_tables(tmp_path / "again", tables))
    result = run_detection(lake, only=[TYPE], as_of=AS_OF, subjects=["moved.com"])
    assert (result.counts[TYPE]["found"], result.counts[TYPE]["not_observed"]) == (0, 1)
    after = findings(lake, TYPE)
    assert after["moved.com"]["status"] == "not_observed"
    for subject in set(before) - {"moved.com"}:
        assert after[subject]["status"] == "open"
        assert after[subject]["last_seen"] == before[subject]["last_seen"]


def test_context_subjects_limit_the_output(lake: Workspace) -> None:
    engine = lake.analytics("duckdb")
    ctx = DetectionContext(engine, AS_OF, DomainMovedAbroad.inputs, lake.lake.current_snapshots())
    ctx.subjects = frozenset({"hop.net", "domestic-move.com", "苏ICP备30000001号"})
    assert [d.subject for d in DomainMovedAbroad().detect(ctx)] == ["hop.net"]
