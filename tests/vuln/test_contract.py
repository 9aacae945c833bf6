"""The detector's declared contract (tests/detect/test_contract.py runs it too once the
package is reinstalled with the new entry point)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from longpan.core.subjects import canonical_subject, parse_subject
from longpan.vuln.vulnerable_asset import VulnerableAsset, severity_of

ROOT = Path(__file__).resolve().parents[2]


def test_contract_docs_and_entry_point() -> None:
    VulnerableAsset.check_contract()
    assert (ROOT / "docs" / "detectors" / "vulnerable_asset.md").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    points = project["project"]["entry-points"]["longpan.detectors"]
    assert points["vulnerable_asset"] == "longpan.vuln.vulnerable_asset:VulnerableAsset"


def test_subjects_are_canonical() -> None:
    assert parse_subject("[2001:DB8::5]:22").kind == "service"
    assert canonical_subject("[2001:DB8::5]:22") == "[2001:db8::5]:22"
    assert canonical_subject("192.0.2.1:161/UDP") == "192.0.2.1:161/udp"
    assert canonical_subject("203.0.113.5:443") == "203.0.113.5:443"
    assert canonical_subject("1:2") == "1:2"  # no service (nor anything else): unchanged


def test_severity() -> None:
    assert severity_of({"cvss31_score": 7.5}, in_kev=True) == "critical"
    assert severity_of({"cvss31_score": 9.8}, in_kev=False) == "critical"
    assert severity_of({"cvss40_score": 6.9}, in_kev=False) == "medium"
    assert severity_of({"cvss2_score": 7.5}, in_kev=False) == "high"
    assert severity_of({"cvss31_score": 3.1}, in_kev=False) == "low"
    assert severity_of({}, in_kev=False) == "medium"
