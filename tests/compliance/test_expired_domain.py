"""expired_domain: filed domains whose latest WHOIS shows an expired or vanished
registration. The evaluation on generated provinces is in test_evaluation.py."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from longpan.compliance import _registrations
from longpan.compliance.expired_domain import ExpiredDomain
from longpan.detect.base import DetectionContext
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.conftest import make_workspace

TYPE = "expired_domain"
AS_OF = datetime(2024, 12, 31, tzinfo=UTC)
COLUMNS = {
    "icp_subjects": "subject_licence,uscc,unit_name,nature,province,approved_at,status",
    "icp_services": "service_licence,subject_licence,service_type,name,domains,"
    "access_provider_uscc,access_ips,approved_at,status",
    "registrars": "iana_id,name,country,cn_licence",
    "domain_registrations": "domain,observed_at,registrar_iana_id,registrar_name,registrant,"
    "created_at,expires_at,status",
}
AP_A, AP_B, AP_C = "91320115MA1N4Q7K0N", "91320505MA1MT2H35C", "91320211586621401N"
XINNET = (120, "Xin Net Technology Corporation")
NAMECHEAP = (1068, "NameCheap, Inc.")


def write_tables(folder: Path, tables: dict[str, list[tuple[Any, ...]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS[name].split(","))
            writer.writerows(rows)
    return folder


def whois(
    domain: str,
    observed: str,
    expires: str | None,
    status: str = "clientTransferProhibited",
    registrar: tuple[int, str] | None = XINNET,
) -> tuple[Any, ...]:
    iana, name = registrar if registrar else ("", "")
    created = "2018-01-01T00:00:00Z" if registrar else ""
    return (
        domain,
        observed,
        iana,
        name,
        "某单位" if registrar else "",
        created,
        expires or "",
        status,
    )


def province() -> dict[str, list[tuple[Any, ...]]]:
    """Filed domains named after what their WHOIS shows (as of 2024-12-31)."""
    subjects = [
        ("苏ICP备20000001号", "active"),
        ("苏ICP备20000002号", "active"),
        ("苏ICP备20000003号", "cancelled"),  # its service is (wrongly) still active
    ]
    services = [  # licence, type, domains, access provider, status
        ("苏ICP备20000001号-1", "website", "www.expired-shop.com", AP_A, "active"),
        ("苏ICP备20000001号-2", "website", "gone.cn", AP_B, "active"),
        ("苏ICP备20000001号-3", "website", "renewed.com.cn", AP_A, "active"),
        ("苏ICP备20000001号-4", "website", "cancelled-site.net", AP_A, "cancelled"),
        ("苏ICP备20000001号-5", "website", "www.例子.中国", AP_A, "active"),
        ("苏ICP备20000001号-6", "website", "WWW.Shop-Example.COM.", AP_B, "active"),
        ("苏ICP备20000001号-7", "website", "xw.czlcvc.edu.cn;jw.czlcvc.edu.cn", AP_A, "active"),
        ("苏ICP备20000001号-8", "website", "xwwl.nanjing.gov.cn", AP_A, "active"),
        ("苏ICP备20000001号-9", "app", "app-api.com", AP_A, "active"),
        ("苏ICP备20000001号-10", "website", "autorenewed.net", AP_A, "active"),
        ("苏ICP备20000001号-11", "website", "shared-portal.com", AP_B, "active"),
        ("苏ICP备20000001号-12", "website", "shared-portal.com;tie-portal.com", AP_C, "active"),
        ("苏ICP备20000002号-1", "website", "www.shared-portal.com", AP_C, "active"),
        ("苏ICP备20000002号-2", "website", "m.tie-portal.com", AP_B, "active"),
        ("苏ICP备20000002号-3", "website", "future-renew.com", AP_A, "active"),
        ("苏ICP备20000002号-4", "website", "fine-site.com", AP_A, "active"),
        ("苏ICP备20000003号-1", "website", "orphan-site.com", AP_A, "active"),
    ]
    registrations = [
        whois("expired-shop.com", "2024-03-01T10:00:00+08:00", "2024-10-01T00:00:00Z"),
        whois(
            "expired-shop.com",
            "2024-11-15T10:00:00+08:00",
            "2024-10-01T00:00:00Z",
            "redemptionPeriod",
        ),
        whois("gone.cn", "2024-02-01T00:00:00Z", "2024-06-30T00:00:00Z"),
        whois("gone.cn", "2024-09-01T00:00:00Z", None, "unregistered", None),
        whois("renewed.com.cn", "2024-04-01T00:00:00Z", "2024-05-01T00:00:00Z"),
        whois("renewed.com.cn", "2024-05-20T00:00:00Z", "2025-05-01T00:00:00Z"),
        whois("cancelled-site.net", "2024-04-01T00:00:00Z", "2024-05-01T00:00:00Z"),
        whois("例子.中国", "2024-06-01T00:00:00Z", "2024-12-01T00:00:00Z"),  # seen before expiry
        whois("SHOP-EXAMPLE.com.", "2024-11-01T00:00:00Z", "2024-10-15T00:00:00Z", "ok", NAMECHEAP),
        whois("czlcvc.edu.cn", "2024-01-01T00:00:00Z", "2025-06-01T00:00:00Z"),
        whois("czlcvc.edu.cn", "2024-10-01T00:00:00Z", None, "No Match", None),
        # nanjing.gov.cn: never observed
        whois("app-api.com", "2024-04-01T00:00:00Z", "2024-05-01T00:00:00Z"),
        whois(
            "autorenewed.net",
            "2024-12-01T00:00:00Z",
            "2025-10-01T00:00:00Z",
            "client transfer prohibited, pending delete",
            NAMECHEAP,
        ),
        whois("shared-portal.com", "2024-08-01T00:00:00Z", "2024-09-01T00:00:00Z"),
        whois("tie-portal.com", "2024-08-01T00:00:00Z", "2024-09-01T00:00:00Z"),
        whois("future-renew.com", "2024-06-01T00:00:00Z", "2024-11-01T00:00:00Z"),
        whois("future-renew.com", "2025-01-10T00:00:00Z", "2025-11-01T00:00:00Z"),  # after as-of
        whois("fine-site.com", "2024-06-01T00:00:00Z", "2026-06-01T00:00:00Z"),
        whois("orphan-site.com", "2024-04-01T00:00:00Z", "2024-05-01T00:00:00Z"),
    ]
    return {
        "icp_subjects": [
            (lic, "", "张三", "个人", "江苏", "2016-08-10", status) for lic, status in subjects
        ],
        "icp_services": [
            (lic, lic.split("-")[0], kind, "站点", dom, ap, "", "2016-08-10", status)
            for lic, kind, dom, ap, status in services
        ],
        "domain_registrations": registrations,
    }


EXPECTED = {  # subject: (reason, responsible)
    "expired-shop.com": ("expired", AP_A),
    "gone.cn": ("not_registered", AP_B),
    "xn--fsqu00a.xn--fiqs8s": ("expired", AP_A),
    "shop-example.com": ("expired", AP_B),
    "czlcvc.edu.cn": ("not_registered", AP_A),
    "autorenewed.net": ("registration_deleted", AP_A),
    "shared-portal.com": ("expired", AP_C),  # two of its three services are AP_C's
    "tie-portal.com": ("expired", min(AP_B, AP_C)),  # one service each: the smallest code
    "future-renew.com": ("expired", AP_A),  # the renewal is read after the as-of time
}


@pytest.fixture
def lake(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, write_tables(tmp_path / "in", province()))
    return ws


def findings(ws: Workspace, finding_type: str = TYPE) -> dict[str, dict[str, Any]]:
    with ws.sessions() as session:
        return {f["subject"]: f for f in list_findings(session, types=[finding_type])}


def test_flags_expired_and_vanished_registrations(lake: Workspace, engine_name: str) -> None:
    result = run_detection(lake, only=[TYPE], engine=engine_name, as_of=AS_OF)
    assert result.status == "succeeded", result.errors
    found = findings(lake)
    assert sorted(found) == sorted(EXPECTED)
    for subject, (reason, responsible) in EXPECTED.items():
        assert found[subject]["evidence"]["reason"] == reason, subject
        assert found[subject]["responsible_uscc"] == responsible, subject
        assert found[subject]["severity"] == "medium"

    shop = found["expired-shop.com"]["evidence"]
    assert shop["expires_at"] == "2024-10-01T00:00:00"
    assert shop["days_since_expiry"] == 91
    assert shop["observed_after_expiry"] is True
    assert shop["latest_observation"]["status"] == "redemptionPeriod"
    assert shop["latest_observation"]["observed_at"] == "2024-11-15T02:00:00"
    assert shop["service_licences"] == ["苏ICP备20000001号-1"]
    assert set(shop["snapshots"]) == {"icp_services", "icp_subjects", "domain_registrations"}

    gone = found["gone.cn"]["evidence"]  # the last expiry seen before the name vanished
    assert (gone["expires_at"], gone["days_since_expiry"]) == ("2024-06-30T00:00:00", 184)
    assert gone["latest_observation"]["registrar_name"] is None

    idn = found["xn--fsqu00a.xn--fiqs8s"]["evidence"]
    assert idn["domain_unicode"] == "例子.中国"
    assert idn["observed_after_expiry"] is False  # inferred from a record read before

    school = found["czlcvc.edu.cn"]["evidence"]  # two filed subdomains, one filing
    assert school["service_licences"] == ["苏ICP备20000001号-7"]
    assert school["expires_at"] == "2025-06-01T00:00:00" and school["days_since_expiry"] is None

    deleted = found["autorenewed.net"]["evidence"]
    assert deleted["days_since_expiry"] is None

    shared = found["shared-portal.com"]["evidence"]
    assert shared["service_licences"] == [
        "苏ICP备20000001号-11",
        "苏ICP备20000001号-12",
        "苏ICP备20000002号-1",
    ]
    assert shared["subject_licences"] == ["苏ICP备20000001号", "苏ICP备20000002号"]
    assert shared["access_providers"] == sorted([AP_B, AP_C])


def test_long_domain_lists_on_both_engines(
    lake: Workspace, engine_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many flagged domains are looked up through an in-memory table, not a literal list."""
    monkeypatch.setattr(_registrations, "_LITERAL_LIST", 0)
    run_detection(lake, only=[TYPE], engine=engine_name, as_of=AS_OF)
    assert sorted(findings(lake)) == sorted(EXPECTED)


def test_near_misses_are_not_flagged(lake: Workspace) -> None:
    run_detection(lake, only=[TYPE], as_of=AS_OF)
    found = findings(lake)
    for subject in (
        "renewed.com.cn",  # renewal observed after the expiry
        "cancelled-site.net",  # filing cancelled
        "orphan-site.com",  # subject filing cancelled
        "nanjing.gov.cn",  # no WHOIS observation: not judged
        "app-api.com",  # an app filing
        "fine-site.com",
    ):
        assert subject not in found


def test_as_of_in_the_past_ignores_later_observations(lake: Workspace) -> None:
    run_detection(lake, only=[TYPE], as_of=datetime(2024, 7, 1, tzinfo=UTC))
    found = findings(lake)
    # gone.cn had expired (06-30) but its 'unregistered' answer came later
    assert found["gone.cn"]["evidence"]["reason"] == "expired"
    assert found["gone.cn"]["evidence"]["days_since_expiry"] == 1
    assert "expired-shop.com" not in found  # expires 2024-10-01
    assert "renewed.com.cn" not in found  # renewed on 05-20


def test_params(tmp_path: Path) -> None:
    ws = make_workspace(
        tmp_path / "home",
        detectors={TYPE: {"grace_days": 100, "lapsed_statuses": [], "service_types": ["app"]}},
    )
    ingest_folder(ws, write_tables(tmp_path / "in", province()))
    run_detection(ws, only=[TYPE], as_of=AS_OF)
    assert sorted(findings(ws)) == ["app-api.com"]  # expired 244 days ago
    ws.close()


def test_recheck_one_subject_touches_only_it(lake: Workspace, tmp_path: Path) -> None:
    run_detection(lake, only=[TYPE], as_of=AS_OF)
    before = findings(lake)
    tables = province()  # expired-shop.com is renewed, gone.cn too (but not re-checked)
    tables["domain_registrations"] += [
        whois("expired-shop.com", "2024-12-20T00:00:00Z", "2025-10-01T00:00:00Z"),
        whois("gone.cn", "2024-12-20T00:00:00Z", "2025-10-01T00:00:00Z"),
    ]
    ingest_folder(lake, write_tables(tmp_path / "again", tables))
    result = run_detection(lake, only=[TYPE], as_of=AS_OF, subjects=["expired-shop.com"])
    assert result.counts[TYPE]["found"] == 0
    assert result.counts[TYPE]["not_observed"] == 1
    after = findings(lake)
    assert after["expired-shop.com"]["status"] == "not_observed"
    for subject in set(before) - {"expired-shop.com"}:
        assert after[subject]["status"] == "open"
        assert after[subject]["last_seen"] == before[subject]["last_seen"]


def test_context_subjects_limit_the_output(lake: Workspace) -> None:
    engine = lake.analytics("duckdb")
    ctx = DetectionContext(engine, AS_OF, ExpiredDomain.inputs, lake.lake.current_snapshots())
    ctx.subjects = frozenset({"gone.cn", "fine-site.com", "苏ICP备20000001号"})
    assert [d.subject for d in ExpiredDomain().detect(ctx)] == ["gone.cn"]
