"""Scanner imports and the ``longpan vuln`` commands, as a user runs them: clear errors
with file/line/field, exit 2, nothing stored; a new CVE re-matched alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from longpan.cli.app import app
from longpan.core.errors import InputError
from longpan.vuln.importers import read_nmap, read_nuclei
from tests.conftest import DATA
from tests.vuln.helpers import KEV, NVD, ORG, needs_shared

SCANS = DATA / "vuln"
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LONGPAN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_nmap_open_ports_with_cpes_and_os() -> None:
    rows = {(r["ip"], r["port"]): r for r in read_nmap(SCANS / "scan-nmap.xml")}
    assert set(rows) == {("198.51.100.2", "22"), ("198.51.100.2", "80"), ("198.51.100.3", "443")}
    ssh = rows[("198.51.100.2", "22")]
    assert ssh["product"] == "OpenSSH" and ssh["version"] == "8.9p1 Ubuntu 3ubuntu0.6"
    assert ssh["cpe"] == "cpe:2.3:a:openbsd:openssh:8.9p1:*:*:*:*:*:*:*"
    assert ssh["os_cpe"] == "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*"
    assert ssh["hostname"] == "www.example-bank.cn"
    assert ssh["observed_at"] == "2024-11-28T08:01:00Z"
    assert rows[("198.51.100.2", "80")]["os_cpe"] == "cpe:2.3:o:linux:linux_kernel:5:*:*:*:*:*:*:*"


def test_nuclei_rows_take_versions_from_extractions() -> None:
    rows = {r["ip"]: r for r in read_nuclei(SCANS / "scan-nuclei.jsonl")}
    assert rows["203.0.113.21"]["cpe"].startswith("cpe:2.3:a:apache:http_server:2.4.49")
    tomcat = rows["203.0.113.22"]
    assert (tomcat["version"], tomcat["port"], tomcat["hostname"]) == (
        "9.0.98",
        "8443",
        "oa.example-power.cn",
    )
    assert tomcat["observed_at"] == "2024-11-28T10:06:40Z"  # +08:00 to UTC


def test_bad_scans_say_where() -> None:
    with pytest.raises(InputError) as info:
        read_nuclei(SCANS / "bad-nuclei.jsonl")
    assert (info.value.line, info.value.column) == (2, "ip")
    with pytest.raises(InputError, match="not well-formed XML") as xml_info:
        read_nmap(SCANS / "bad-nmap.xml")
    assert xml_info.value.line == 5


@needs_shared
def test_import_commands_and_rematch(home: Path, tmp_path: Path) -> None:
    assert run("init").exit_code == 0
    scan = run("vuln", "import-scan", str(SCANS / "scan-nmap.xml"), "--org", ORG, "--json")
    assert scan.exit_code == 0, scan.output
    assert json.loads(scan.output)["services"] == 3
    kev = run("vuln", "import-kev", str(KEV), "--json")
    assert kev.exit_code == 0 and len(json.loads(kev.output)["new"]) == 1404
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    shutil.copy(NVD / "CVE-2024-6387.json", feeds)
    first = json.loads(run("vuln", "import-nvd", str(feeds), "--json").output)
    assert first["new"] == ["CVE-2024-6387"]
    assert first["run"]["counts"]["vulnerable_asset"]["new"] == 1  # 198.51.100.2:22 only
    # a newly arrived record is re-matched alone: one subject, the others untouched
    second = json.loads(
        run("vuln", "import-nvd", str(NVD / "CVE-2021-41773.json"), "--json").output
    )
    assert second["new"] == ["CVE-2021-41773"] and second["rematched_subjects"] == 1
    assert second["run"]["counts"]["vulnerable_asset"] == {
        "found": 1,
        "new": 1,
        "refreshed": 0,
        "reobserved": 0,
        "not_observed": 0,
    }
    listed = json.loads(run("findings", "--json").output)
    subjects = {f"{f['subject']}/{f['evidence']['cve']}": f["severity"] for f in listed}
    assert subjects == {
        "198.51.100.2:22/CVE-2024-6387": "high",
        "198.51.100.2:80/CVE-2021-41773": "critical",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import-scan", "bad-nuclei.jsonl", "--org", ORG], "bad-nuclei.jsonl, line 2, column ip"),
        (["import-scan", "scan-nmap.xml", "--org", "123"], "统一社会信用代码"),
        (["import-nvd", "nvd-traps.json", "missing.json"], "no such file or folder"),
        (["import-kev", "scan-nuclei.jsonl"], "not valid JSON"),
    ],
)
def test_bad_input_exits_2_and_stores_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(SCANS)
    result = run("vuln", *args)
    assert result.exit_code == 2
    assert message in result.output
    lake = home / "lake" / "_catalog.json"
    assert not lake.exists() or json.loads(lake.read_text())["datasets"] == {}


def test_bad_asset_row_is_refused_with_its_line(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "scan.jsonl"
    line = (SCANS / "scan-nuclei.jsonl").read_text().splitlines()[2]
    event = json.loads(line)
    event["port"] = "70000"
    bad.write_text(json.dumps(event) + "\n")
    result = run("vuln", "import-scan", str(bad), "--org", ORG)
    assert result.exit_code == 2
    assert "column port" in result.output and "1-65535" in result.output
