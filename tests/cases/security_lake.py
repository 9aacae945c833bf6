"""A tiny lake of security findings from real inputs, for the closed-loop tests of
vulnerability alerts (S2) and threat warnings (S3).

A key unit (重点单位) runs Apache httpd 2.4.49 and a FortiGate SSL VPN on FortiOS 6.0.4
(two KEV CVEs under ONE ``ip:port`` subject) and a safe OpenSSH 9.8p1; its resolver and
flow logs, and those of a second unit, hit indicators of the real APT1 report bundle
(OASIS STIX 2.1 examples). The real NVD sample and CISA KEV catalogue in ../shared/data
are imported and the real detectors run through the runner.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from longpan.core import identifiers as ids
from longpan.detect.runner import RunResult, run_detection
from longpan.resources.ingest import ingest_folder
from longpan.store.db import transaction
from longpan.store.models import Organisation
from longpan.store.workspace import Workspace
from longpan.threat.feeds import import_stix
from longpan.vuln.feeds import import_kev, import_nvd
from tests.cases.conftest import People, add_people
from tests.conftest import SHARED
from tests.vuln.helpers import KEV, NVD, asset, write_assets

APT1 = SHARED / "data" / "stix" / "stix2-examples" / "threat-reports" / "apt1.json"
BANK = (ids.make_uscc("9", "1", "320100", "MA1LP001"), "江苏龙磐示范银行股份有限公司")
BROKER = (ids.make_uscc("9", "1", "320500", "MA1LP002"), "苏州龙磐示范证券股份有限公司")
SECURITY_TYPES = ("vulnerable_asset", "ioc_hit", "threat_warning")
TITLES = {
    "vulnerable_asset": "高危漏洞资产",
    "ioc_hit": "失陷指标命中",
    "threat_warning": "APT威胁预警",
}

APACHE, FORTIGATE, OPENSSH = "198.51.100.1:443", "198.51.100.29:443", "198.51.100.6:22"
APACHE_CVE = "CVE-2021-41773"
FORTIGATE_CVES = ("CVE-2018-13379", "CVE-2024-21762")  # FortiOS 6.0.4: both, both in KEV
FORTIOS_FIXED = "7.4.3"  # outside every vulnerable range of both CVEs
C2_DOMAIN, C2_BLOCK = "hugesoft.org", "223.166.0.0/15"  # APT1 indicators
FIRST_SCAN, RESCAN = "2024-12-30T02:00:00Z", "2025-01-02T02:00:00Z"

needs_real_feeds = pytest.mark.skipif(
    not (NVD.is_dir() and KEV.is_file() and APT1.is_file()),
    reason="../shared/data/nvd, ../shared/data/kev and the STIX APT1 example "
    "(../shared/data/stix/stix2-examples/threat-reports/apt1.json) are absent",
)


def expected_findings() -> dict[str, set[tuple[str, str | None]]]:
    """(subject, CVE or None) by type: what the real detectors must report."""
    bank, broker = BANK[0], BROKER[0]
    return {
        "vulnerable_asset": {(APACHE, APACHE_CVE)} | {(FORTIGATE, c) for c in FORTIGATE_CVES},
        "ioc_hit": {
            (f"{bank}:{C2_DOMAIN}", None),
            (f"{bank}:{C2_BLOCK}", None),
            (f"{broker}:{C2_DOMAIN}", None),
        },
        "threat_warning": {(f"indicator:{C2_DOMAIN}", None), (f"indicator:{C2_BLOCK}", None)},
    }


def _write_csv(path: Path, header: str, rows: Iterable[tuple[Any, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header.split(","))
        writer.writerows(rows)


def asset_rows(fortios: str = "6.0.4", observed_at: str = FIRST_SCAN) -> list[dict[str, Any]]:
    """The bank's internet-facing services as one scan delivers them."""
    return [
        asset("198.51.100.1", 443, org_uscc=BANK[0], product="Apache httpd", version="2.4.49",
              observed_at=observed_at, hostname="www.lp-bank.example"),
        asset("198.51.100.29", 443, org_uscc=BANK[0], product="FortiGate SSL VPN",
              version=fortios, observed_at=observed_at, hostname="vpn.lp-bank.example"),
        asset("198.51.100.6", 22, org_uscc=BANK[0], product="OpenSSH", version="9.8p1",
              observed_at=observed_at),
    ]  # fmt: skip


def write_first_delivery(folder: Path) -> Path:
    """Organisations, the bank's assets, and both units' DNS and flow logs."""
    bank, broker = BANK[0], BROKER[0]
    folder.mkdir(parents=True)
    _write_csv(
        folder / "organisations.csv",
        "uscc,name,roles",
        [(bank, BANK[1], "key_unit"), (broker, BROKER[1], "key_unit")],
    )
    write_assets(folder, asset_rows())
    _write_csv(folder / "dns_logs.csv", "ts,org_uscc,client_ip,qname,answer", [
        ("2024-12-30T08:00:00+08:00", bank, "10.20.0.5", f"update.{C2_DOMAIN}", "198.18.7.7"),
        ("2024-12-30T09:30:00+08:00", bank, "10.20.0.5", C2_DOMAIN.upper(), ""),
        ("2024-12-30T09:31:00+08:00", bank, "10.20.0.9", "www.baidu.com", "110.242.68.66"),
        ("2024-12-31T10:00:00+08:00", broker, "10.30.0.7", f"mail.{C2_DOMAIN}", ""),
        ("2024-12-31T10:01:00+08:00", broker, "10.30.0.7", f"not{C2_DOMAIN}", ""),  # look-alike
    ])  # fmt: skip
    _write_csv(folder / "flow_logs.csv", "ts,org_uscc,src,dst,dport,bytes", [
        ("2024-12-30T08:05:00Z", bank, "10.20.0.5", "223.167.10.20", 443, 40960),  # in /15
        ("2024-12-30T08:06:00Z", broker, "10.30.0.7", "223.168.0.1", 443, 512),  # just outside
    ])  # fmt: skip
    return folder


def deliver_rescan(ws: Workspace, folder: Path, fortios: str) -> None:
    """A later scan of the bank's assets (Apache unchanged, FortiOS at ``fortios``)."""
    ingest_folder(ws, write_assets(folder, asset_rows(fortios, RESCAN)))


def build_security_lake(ws: Workspace, folder: Path) -> RunResult:
    """Feeds, deliveries and bundle into the lake; the real detectors through the runner."""
    import_nvd(ws, [NVD])
    import_kev(ws, KEV)
    ingest_folder(ws, write_first_delivery(folder))
    import_stix(ws, [APT1], hunt=False)
    result = run_detection(ws, only=list(SECURITY_TYPES), actor="test")
    assert result.status == "succeeded", result.errors
    return result


def security_people(ws: Workspace) -> People:
    """Regulator staff (two supervisors for four-eyes) and one user of each unit."""
    with transaction(ws.sessions) as session:
        bank, broker = (
            session.scalars(select(Organisation).where(Organisation.uscc == uscc)).one()
            for uscc in (BANK[0], BROKER[0])
        )
        logins = (("bank_it", "it@lp-bank.example"), ("broker_it", "it@lp-broker.example"))
        return add_people(session, (bank, broker), logins)
