"""The issue's acceptance answers, from the real NVD records and KEV catalogue in
../shared/data, through the real path: feeds and assets into the lake, the detector
through the runner, findings in the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from longpan.detect.base import DetectionContext
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.store.workspace import Workspace
from longpan.vuln.feeds import import_kev, import_nvd
from longpan.vuln.matching import match_assets
from longpan.vuln.vulnerable_asset import VulnerableAsset
from tests.conftest import make_workspace
from tests.vuln.helpers import KEV, NVD, ORG, asset, ingest_assets, needs_shared

pytestmark = needs_shared

CITRIX_FW = "cpe:2.3:o:citrix:application_delivery_controller_firmware:12.0:*:*:*:*:*:*:*"
CITRIX_HW = "cpe:2.3:h:citrix:application_delivery_controller:-:*:*:*:*:*:*:*"

ASSETS = [
    asset("198.51.100.1", 80, product="Apache httpd", version="2.4.49"),
    asset("198.51.100.2", 80, product="Apache httpd", version="2.4.51"),
    asset("198.51.100.3", 80, product="nginx", version="1.4.0"),
    asset("198.51.100.4", 80, product="nginx", version="1.18.0"),
    asset("198.51.100.5", 22, product="OpenSSH", version="8.9p1"),
    asset("198.51.100.6", 22, product="OpenSSH", version="9.8p1"),
    asset("198.51.100.7", 22, product="OpenSSH", version="7.4p1"),
    asset("198.51.100.8", 443, product="Citrix ADC", cpe=CITRIX_FW, hw_cpe=CITRIX_HW),
    asset("198.51.100.9", 443, product="Citrix ADC", cpe=CITRIX_FW),
    # other records of the sample
    asset("198.51.100.10", 443, product="Citrix ADC", version="13.0-92.18"),
    asset("198.51.100.11", 443, product="Citrix ADC", version="13.0-92.19"),
    asset("198.51.100.12", 8080, product="Apache Tomcat", version="9.0.0.M10"),
    asset("198.51.100.13", 8080, product="Apache Tomcat", version="9.0.99"),
    asset("198.51.100.14", 8443, product="Apache Struts", version="2.5.10"),
    asset("198.51.100.15", 8443, product="Apache Struts", version="2.5.10.1"),
    asset("198.51.100.16", 7001, product="Oracle WebLogic Server", version="12.2.1.3.0"),
    asset("198.51.100.17", 7001, product="Oracle WebLogic Server", version="12.2.1.2.0"),
    asset("198.51.100.18", 80, product="GitLab Community Edition", version="13.8.7"),
    asset("198.51.100.19", 80, product="GitLab Community Edition", version="13.8.8"),
    asset("198.51.100.20", 443, product="Ivanti Connect Secure", version="9.1R11.3"),
    asset(
        "198.51.100.21",
        443,
        product="Microsoft Exchange",
        cpe="cpe:2.3:a:microsoft:exchange_server:2016:cumulative_update_12:*:*:*:*:*:*",
    ),
    asset("198.51.100.22", 443, product="Microsoft Exchange", version="2016"),
    asset("198.51.100.23", 8080, product="Jenkins", version="2.441"),
    asset("198.51.100.24", 8080, product="Jenkins", version="2.442"),
    asset(
        "198.51.100.25",
        6379,
        product="Redis",
        version="6.0.16",
        os_cpe="cpe:2.3:o:debian:debian_linux:11.0:*:*:*:*:*:*:*",
    ),
    asset("198.51.100.26", 80, product="Apache httpd", version="2.4.49-ubuntu"),
    asset("198.51.100.27", 80, product="Apache httpd", version="unknown"),
    asset("2001:db8::28", 22, product="OpenSSH", version="8.5p1"),
    asset("198.51.100.29", 443, product="FortiGate SSL VPN", version="6.0.4"),
    asset("198.51.100.30", 9200, product="Elasticsearch", version="1.4.2"),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    home = tmp_path_factory.mktemp("acceptance")
    ws = make_workspace(home / "home")
    import_nvd(ws, [NVD])
    import_kev(ws, KEV)
    ingest_assets(ws, home / "assets", ASSETS)
    run = run_detection(ws, detectors=[VulnerableAsset])
    assert run.status == "succeeded", run.errors
    with ws.sessions() as session:
        records = list_findings(session, types=["vulnerable_asset"])
    ws.close()
    # Keyed "ip:port/CVE": the subject is the service, the CVE is the finding's key.
    yield {f"{r['subject']}/{r['evidence']['cve']}": r for r in records}


def _flagged(findings: dict[str, dict[str, Any]], service: str) -> set[str]:
    return {s.split("/")[-1] for s in findings if s.rsplit("/", 1)[0] == service}


def test_apache_2_4_49_is_critical_for_cve_2021_41773_and_2_4_51_is_not(
    findings: dict[str, dict[str, Any]],
) -> None:
    hit = findings["198.51.100.1:80/CVE-2021-41773"]
    assert hit["severity"] == "critical"
    assert hit["evidence"]["kev"]["listed"] is True
    assert hit["evidence"]["kev"]["due_date"] == "2021-11-17"
    assert hit["evidence"]["cvss"]["3.1"]["score"] == 7.5  # critical because of KEV
    assert hit["responsible_uscc"] == ORG
    assert hit["evidence"]["matched"][0]["criteria"].startswith(
        "cpe:2.3:a:apache:http_server:2.4.49"
    )
    assert "CVE-2021-41773" not in _flagged(findings, "198.51.100.2:80")


def test_nginx_1_4_0_is_flagged_under_vendor_f5_and_1_18_0_is_not(
    findings: dict[str, dict[str, Any]],
) -> None:
    hit = findings["198.51.100.3:80/CVE-2013-2028"]
    matched = hit["evidence"]["matched"][0]
    assert matched["criteria"].startswith("cpe:2.3:a:f5:nginx:*")
    assert matched["range"] == {"versionStartIncluding": "1.3.9", "versionEndIncluding": "1.4.0"}
    assert hit["evidence"]["kev"] == {"listed": False}
    assert hit["severity"] == "high"  # only CVSS v2 7.5 in the record, not in KEV
    assert not _flagged(findings, "198.51.100.4:80")


def test_openssh_8_9p1_flagged_for_regresshion_9_8p1_and_7_4p1_not(
    findings: dict[str, dict[str, Any]],
) -> None:
    hit = findings["198.51.100.5:22/CVE-2024-6387"]
    assert hit["severity"] == "high"  # CVSS 3.1 8.1, not in KEV
    assert "8.6" in hit["evidence"]["matched"][0]["why"]
    assert "CVE-2024-6387" not in _flagged(findings, "198.51.100.6:22")
    assert "CVE-2024-6387" not in _flagged(findings, "198.51.100.7:22")
    # 8.5p1 is named exactly (version 8.5, update p1) in the record
    assert "[2001:db8::28]:22/CVE-2024-6387" in findings


def test_citrix_firmware_is_flagged_only_on_its_hardware(
    findings: dict[str, dict[str, Any]],
) -> None:
    hit = findings["198.51.100.8:443/CVE-2019-19781"]
    assert hit["severity"] == "critical"
    matched = hit["evidence"]["matched"][0]
    assert matched["operator"] == "AND"
    assert matched["platform"][0]["asset_cpe"] == CITRIX_HW
    assert "CVE-2019-19781" not in _flagged(findings, "198.51.100.9:443")


@pytest.mark.parametrize(
    ("service", "cve", "expected"),
    [
        ("198.51.100.10:443", "CVE-2023-4966", True),  # 13.0-92.18 < 13.0-92.19
        ("198.51.100.11:443", "CVE-2023-4966", False),  # the fixed build
        ("198.51.100.12:8080", "CVE-2025-24813", True),  # 9.0.0.M10 = 9.0.0:milestone10
        ("198.51.100.13:8080", "CVE-2025-24813", False),  # 9.0.99 is the fix
        ("198.51.100.14:8443", "CVE-2017-5638", True),  # four-part bound 2.5.10.1
        ("198.51.100.15:8443", "CVE-2017-5638", False),
        ("198.51.100.16:7001", "CVE-2020-14882", True),  # five-part exact version
        ("198.51.100.17:7001", "CVE-2020-14882", False),
        ("198.51.100.18:80", "CVE-2021-22205", True),  # sw_edition community
        ("198.51.100.19:80", "CVE-2021-22205", False),
        ("198.51.100.20:443", "CVE-2023-46805", True),  # 9.1R11.3 = 9.1 update r11.3
        ("198.51.100.21:443", "CVE-2021-26855", True),  # update cumulative_update_12
        ("198.51.100.22:443", "CVE-2021-26855", False),  # no CU known: no claim
        ("198.51.100.23:8080", "CVE-2024-23897", True),  # edition - (weekly) < 2.442
        ("198.51.100.24:8080", "CVE-2024-23897", False),
        ("198.51.100.29:443", "CVE-2018-13379", True),  # FortiOS, part o
        ("198.51.100.30:9200", "CVE-2015-1427", True),
    ],
)
def test_other_records_of_the_sample(
    findings: dict[str, dict[str, Any]], service: str, cve: str, expected: bool
) -> None:
    assert (cve in _flagged(findings, service)) is expected


def test_false_positive_traps(findings: dict[str, dict[str, Any]]) -> None:
    # redis:- (NA version, Debian's package) does not cover a versioned Redis
    assert not _flagged(findings, "198.51.100.25:6379")
    # an unparseable version is never called vulnerable
    assert not _flagged(findings, "198.51.100.27:80")
    # a distribution build of 2.4.49 is 2.4.49, flagged with a backport note
    hit = findings["198.51.100.26:80/CVE-2021-41773"]
    assert "backported" in hit["evidence"]["note"]


def test_one_finding_per_asset_and_cve(findings: dict[str, dict[str, Any]]) -> None:
    assert all(r["type"] == "vulnerable_asset" for r in findings.values())
    assert all("/" not in r["subject"] for r in findings.values())  # subject: ip:port
    pairs = [(r["subject"], r["evidence"]["cve"]) for r in findings.values()]
    assert len(pairs) == len(set(pairs))


def test_same_findings_on_both_engines(engine_name: str, tmp_path: Path) -> None:
    ws: Workspace = make_workspace(tmp_path / "home")
    import_nvd(ws, [NVD])
    import_kev(ws, KEV)
    ingest_assets(ws, tmp_path / "assets", ASSETS[:9])
    ctx = DetectionContext(
        ws.analytics(engine_name),
        ws.clock(),
        VulnerableAsset.inputs,
        ws.lake.current_snapshots(),
    )
    got = {(f"{d.subject}/{d.key}", d.severity) for d in VulnerableAsset().detect(ctx)}
    assert got == {
        ("198.51.100.1:80/CVE-2021-41773", "critical"),
        ("198.51.100.3:80/CVE-2013-2028", "high"),
        ("198.51.100.5:22/CVE-2024-6387", "high"),
        ("198.51.100.8:443/CVE-2019-19781", "critical"),
    }
    ctx.subjects = frozenset({"198.51.100.5:22"})
    drafts = list(VulnerableAsset().detect(ctx))
    assert [(d.subject, d.key) for d in drafts] == [("198.51.100.5:22", "CVE-2024-6387")]
    ws.close()


def test_rematching_one_cve_alone_equals_the_full_match(tmp_path: Path) -> None:
    """The engine pre-filter of a CVE-alone re-match never drops an asset it matches."""
    ws = make_workspace(tmp_path / "home")
    import_nvd(ws, [NVD])
    ingest_assets(ws, tmp_path / "assets", ASSETS)
    engine = ws.analytics()
    full = {(h.asset["ip"], h.cve_id) for h in match_assets(engine).hits}
    cves = sorted({cve for _, cve in full})
    assert len(cves) >= 15
    for cve in cves:
        alone = {(h.asset["ip"], h.cve_id) for h in match_assets(engine, cve_ids=[cve]).hits}
        assert alone == {pair for pair in full if pair[1] == cve}
    ws.close()
