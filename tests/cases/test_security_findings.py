"""Security findings through the whole closed loop with no change to cases/: real
``vulnerable_asset`` (S2) and ``ioc_hit`` / ``threat_warning`` (S3) findings, produced by
the real detectors from real feeds, go through batch → four-eyes approval → issue →
notice (PDF + Excel) → enterprise answer → verification → figures (``longpan report``)."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from longpan.cases.access import ForbiddenError
from longpan.cases.answers import submit_answer
from longpan.cases.batches import BatchView, approve_batch, create_batch, issue_batch, preview_batch
from longpan.cases.notices import NoticeView, get_notice, list_notices, open_attachment
from longpan.cases.selection import FindingFilter
from longpan.cases.uploads import TEXT, Upload
from longpan.cases.verify import verify_answer
from longpan.cli import common
from longpan.cli.app import app
from longpan.core.errors import NotFoundError
from longpan.core.settings import Settings
from longpan.detect.findings import list_findings
from longpan.metrics.loop import loop_figures
from longpan.store.models import DetectionRun, Finding
from longpan.store.workspace import Workspace
from tests.cases.conftest import People, audit_actions
from tests.cases.pdftext import pdf_text
from tests.cases.security_lake import (
    APACHE,
    APACHE_CVE,
    BANK,
    BROKER,
    C2_BLOCK,
    C2_DOMAIN,
    FORTIGATE,
    FORTIGATE_CVES,
    FORTIOS_FIXED,
    OPENSSH,
    SECURITY_TYPES,
    TITLES,
    build_security_lake,
    deliver_rescan,
    expected_findings,
    needs_real_feeds,
    security_people,
)
from tests.conftest import StepClock

pytestmark = needs_real_feeds
Key = tuple[str, str | None]  # (subject, CVE) — the CVE tells apart findings of one service


@pytest.fixture
def security(ws: Workspace, tmp_path: Path) -> tuple[Workspace, People]:
    build_security_lake(ws, tmp_path / "delivery")
    return ws, security_people(ws)


def stored(ws: Workspace) -> list[dict[str, Any]]:
    with ws.sessions() as session:
        return list_findings(session, types=list(SECURITY_TYPES))


def key_of(record: dict[str, Any]) -> Key:
    return record["subject"], record["evidence"].get("cve")


def issue_security_batch(ws: Workspace, people: People) -> BatchView:
    """Built by one supervisor, approved by another (four-eyes), issued by an analyst."""
    batch = create_batch(
        ws,
        people.supervisor,
        title="2025年第1批网络安全威胁通报",
        document_number="苏通信安〔2025〕1号",
        filters=FindingFilter(types=SECURITY_TYPES),
        deadline_days=10,
        issuing_office="江苏省通信管理局",
        address="10.0.0.2",
    )
    with pytest.raises(ForbiddenError, match="other than"):
        approve_batch(ws, people.supervisor, batch.id)
    approved = approve_batch(ws, people.supervisor2, batch.id, address="10.0.0.3")
    assert (approved.created_by, approved.approved_by) == ("sup", "sup2")
    return issue_batch(ws, people.analyst, batch.id, address="10.0.0.1")


def bank_notice(ws: Workspace, people: People) -> NoticeView:
    [notice] = list_notices(ws, people.ent_a)  # the bank's user sees its one notice
    return get_notice(ws, people.ent_a, notice.id)


def bank_keys() -> set[Key]:
    """The bank's addressable findings: its three CVEs and its two indicator hits."""
    expected = expected_findings()
    return expected["vulnerable_asset"] | {k for k in expected["ioc_hit"] if BANK[0] in k[0]}


def items_by_key(notice: NoticeView) -> dict[Key, Any]:
    return {(i.subject, i.evidence.get("cve")): i for i in notice.items}


def test_one_notice_per_unit_with_documents(security: tuple[Workspace, People]) -> None:
    ws, people = security
    _check_detected(ws)
    _check_preview(ws, people)
    issued = issue_security_batch(ws, people)
    assert (issued.status, issued.notice_count, issued.finding_count) == ("issued", 2, 6)
    notice = bank_notice(ws, people)
    assert set(items_by_key(notice)) == bank_keys()
    service_items = [i for i in notice.items if i.subject == FORTIGATE]
    assert sorted(i.evidence["cve"] for i in service_items) == list(FORTIGATE_CVES)
    assert {i.type: i.type_title for i in notice.items} == {
        "vulnerable_asset": TITLES["vulnerable_asset"],
        "ioc_hit": TITLES["ioc_hit"],
    }
    assert {i.finding_status for i in notice.items} == {"notified"}
    [broker] = list_notices(ws, people.ent_b)
    assert broker.id != notice.id and broker.item_count == 1
    _check_statuses_and_audit(ws)
    _check_documents(ws, people, notice)


def _check_detected(ws: Workspace) -> None:
    """What the real detectors found: exactly the planted findings, attributed."""
    records = stored(ws)
    by_type: dict[str, set[Key]] = {t: set() for t in SECURITY_TYPES}
    for record in records:
        by_type[record["type"]].add(key_of(record))
    assert by_type == expected_findings()
    assert OPENSSH not in {r["subject"] for r in records}  # 9.8p1 is the fixed release
    responsible: dict[str, set[str | None]] = {}
    for record in records:
        responsible.setdefault(record["type"], set()).add(record["responsible_uscc"])
    assert responsible == {
        "vulnerable_asset": {BANK[0]},
        "ioc_hit": {BANK[0], BROKER[0]},
        "threat_warning": {None},  # for the regulator: every unit hit, nobody to notify
    }
    vulns = [r for r in records if r["type"] == "vulnerable_asset"]
    assert {r["severity"] for r in vulns} == {"critical"}  # all three CVEs are in KEV
    warning = next(r for r in records if r["subject"] == f"indicator:{C2_DOMAIN}")
    assert {u["org_uscc"] for u in warning["evidence"]["units"]} == {BANK[0], BROKER[0]}


def _check_preview(ws: Workspace, people: People) -> None:
    preview = preview_batch(ws, people.analyst, FindingFilter(types=SECURITY_TYPES))
    assert {g.uscc: len(g.findings) for g in preview.groups} == {BANK[0]: 5, BROKER[0]: 1}
    assert {f.subject for f in preview.unaddressable} == {
        f"indicator:{C2_DOMAIN}",
        f"indicator:{C2_BLOCK}",
    }
    assert all("无责任单位" in f.note for f in preview.unaddressable)


def _check_statuses_and_audit(ws: Workspace) -> None:
    with ws.sessions() as session:
        rows = session.execute(select(Finding.type, Finding.status)).all()
    assert Counter(rows) == {
        ("vulnerable_asset", "notified"): 3,
        ("ioc_hit", "notified"): 3,
        ("threat_warning", "open"): 2,  # unaddressable: left open, not dropped silently
    }
    actions = Counter(action for _actor, action, _address in audit_actions(ws))
    assert actions["notice.issued"] == 2 and actions["finding.notified"] == 6
    assert actions["batch.approved"] == actions["batch.issued"] == 1


def _check_documents(ws: Workspace, people: People, notice: NoticeView) -> None:
    """The notice's PDF (its text, as the notice-PDF test reads it) and Excel."""
    files = {a.kind: a.id for a in notice.attachments}
    pdf_path, _meta = open_attachment(ws, people.ent_a, files["notice_pdf"])
    text = "".join(pdf_text(pdf_path.read_bytes()).split())  # table cells wrap anywhere
    for needle in (
        BANK[1],
        TITLES["vulnerable_asset"],
        TITLES["ioc_hit"],
        APACHE,
        FORTIGATE,
        APACHE_CVE,
        *FORTIGATE_CVES,
        f"{BANK[0]}:{C2_DOMAIN}",
        f"{BANK[0]}:{C2_BLOCK}",
        "下列5条线索",
    ):
        assert needle in text, needle
    assert BROKER[0] not in text  # the other unit's finding is in its own notice only

    xlsx_path, _meta = open_attachment(ws, people.ent_a, files["findings_xlsx"])
    sheet = load_workbook(io.BytesIO(xlsx_path.read_bytes())).active
    assert sheet is not None
    rows = [row for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert sorted(r[4] for r in rows) == sorted(subject for subject, _cve in bank_keys())
    assert {r[3]: r[2] for r in rows} == {t: TITLES[t] for t in ("vulnerable_asset", "ioc_hit")}
    cves = sorted(str(r[7]).split(";")[0] for r in rows if r[3] == "vulnerable_asset")
    assert cves == sorted(f"cve: {c}" for c in (APACHE_CVE, *FORTIGATE_CVES))


def test_answers_verification_and_figures(
    security: tuple[Workspace, People], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, people = security
    issue_security_batch(ws, people)
    items = items_by_key(bank_notice(ws, people))
    fixed, unchanged = _answer_two(ws, people, items)
    deliver_rescan(ws, tmp_path / "rescan", FORTIOS_FIXED)  # the bank upgraded FortiOS

    gone = verify_answer(ws, people.ent_a, fixed, address="192.0.2.7")
    assert gone.outcome == "gone" and gone.evidence_before["cve"] == FORTIGATE_CVES[0]
    present = verify_answer(ws, people.analyst, unchanged, address="10.0.0.1")
    assert present.outcome == "still_present"
    assert present.evidence_after and present.evidence_after["asset"]["version"] == "2.4.49"
    _check_runs_were_scoped(ws, [gone.run_id, present.run_id])

    # The verification ran on the whole service: the other CVE of the upgraded FortiGate
    # is no longer observed but still awaits its own answer, which then closes it.
    sibling = items[(FORTIGATE, FORTIGATE_CVES[1])]
    assert _status(ws, sibling.finding_id) == ("notified", False)
    again = submit_answer(ws, people.ent_a, sibling.id, kind="rectified", text="同一次升级已修复")
    assert verify_answer(ws, people.ent_a, again.id).outcome == "gone"
    outcomes = {k: i.outcome for k, i in items_by_key(bank_notice(ws, people)).items()}
    assert Counter(outcomes.values()) == {"closed": 2, None: 3}
    assert _status(ws, items[(APACHE, APACHE_CVE)].finding_id) == ("reopened", True)
    _check_figures(ws)
    _check_report_json(ws, monkeypatch)


def _answer_two(ws: Workspace, people: People, items: dict[Key, Any]) -> tuple[int, int]:
    """Rectified with an evidence file (FortiGate, first CVE) and without (Apache)."""
    note = Upload("FortiOS升级记录.txt", f"FortiOS 6.0.4 → {FORTIOS_FIXED}\n".encode())
    fixed = submit_answer(
        ws,
        people.ent_a,
        items[(FORTIGATE, FORTIGATE_CVES[0])].id,
        kind="rectified",
        text=f"已将 SSL VPN 升级至 FortiOS {FORTIOS_FIXED}",
        uploads=[note],
    )
    [evidence] = fixed.attachments
    assert (evidence.original_name, evidence.content_type) == ("FortiOS升级记录.txt", TEXT)
    path, _meta = open_attachment(ws, people.ent_a, evidence.id)
    assert path.read_bytes() == note.data
    with pytest.raises(NotFoundError):  # another unit never reaches it
        open_attachment(ws, people.ent_b, evidence.id)
    unchanged = submit_answer(
        ws, people.ent_a, items[(APACHE, APACHE_CVE)].id, kind="rectified", text="已加固配置"
    )
    return fixed.id, unchanged.id


def _status(ws: Workspace, finding_id: int) -> tuple[str, bool]:
    with ws.sessions() as session:
        finding = session.get_one(Finding, finding_id)
        return finding.status, finding.observed


def _check_runs_were_scoped(ws: Workspace, run_ids: list[int | None]) -> None:
    with ws.sessions() as session:
        runs = [session.get_one(DetectionRun, run_id) for run_id in run_ids]
    assert [(r.detectors, r.status) for r in runs] == [(["vulnerable_asset"], "succeeded")] * 2


def _check_figures(ws: Workspace) -> None:
    figures = loop_figures(ws)
    by_type = {r["type"]: r for r in figures["by_type"]}
    assert {t: r["title"] for t, r in by_type.items()} == {
        "vulnerable_asset": TITLES["vulnerable_asset"],
        "ioc_hit": TITLES["ioc_hit"],
    }
    vuln, ioc = by_type["vulnerable_asset"], by_type["ioc_hit"]
    assert (vuln["findings_notified"], vuln["closed"], vuln["closure_rate"]) == (3, 2, 0.6667)
    assert (ioc["findings_notified"], ioc["closed"], ioc["open"]) == (3, 0, 3)
    overall = figures["overall"]
    assert (overall["organisations_notified"], overall["findings_notified"]) == (2, 6)


def _check_report_json(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """``longpan report --json`` on the same stores shows the same figures."""
    monkeypatch.setenv("LONGPAN_HOME", str(ws.settings.home))
    if ws.settings.database_url:
        monkeypatch.setenv("LONGPAN_DATABASE_URL", ws.settings.database_url)
    clock = StepClock(datetime(2025, 1, 3, tzinfo=UTC))  # before the notice's deadline

    def fixed_clock(settings: Settings) -> Workspace:
        return Workspace(settings, clock=clock)

    monkeypatch.setattr(common, "workspace_factory", fixed_clock)
    result = CliRunner().invoke(app, ["report", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    open_counts = {r["type"]: r["count"] for r in report["counts"]["by_type"]}
    assert open_counts == {"vulnerable_asset": 1, "ioc_hit": 3, "threat_warning": 2}
    titles = {r["type"]: r["title"] for r in report["counts"]["by_type"]}
    assert titles["threat_warning"] == "APT威胁预警"  # never notified, still named in Chinese
    loop = {r["type"]: r for r in report["loop"]["by_type"]}
    assert loop["vulnerable_asset"]["title"] == TITLES["vulnerable_asset"]
    assert loop["ioc_hit"]["title"] == TITLES["ioc_hit"]
    assert (loop["vulnerable_asset"]["closed"], report["loop"]["overall"]["overdue"]) == (2, 0)
