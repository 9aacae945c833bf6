"""Notice documents: official layout in the PDF (Chinese text, embedded font), every
finding in the Excel, any finding type."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from longpan.cases import documents
from longpan.cases.documents import NoticeDocument, findings_xlsx, notice_pdf
from longpan.cases.views import FindingSummary, evidence_summary
from tests.cases.pdftext import embedded_fonts, pdf_text


def _finding(n: int, finding_type: str = "ioc_hit") -> FindingSummary:
    return FindingSummary(
        id=n,
        type=finding_type,
        type_title=finding_type,
        type_title_en=finding_type,
        subject=f"91320115MA1N4Q7K0N:evil{n}.example",
        severity="critical",
        status="open",
        responsible_uscc="91320115MA1N4Q7K0N",
        first_seen=datetime(2024, 9, 1, tzinfo=UTC),
        summary=f"indicator: evil{n}.example",
    )


def _doc(count: int) -> NoticeDocument:
    return NoticeDocument(
        title="2024年第5批网络安全通报",
        number="苏通信安〔2024〕5号-007",
        issuing_office="江苏省通信管理局",
        addressee="南京云擎数据科技有限公司",
        addressee_uscc="91320115MA1N4Q7K0N",
        deadline=date(2024, 10, 12),
        issue_date=date(2024, 9, 27),
        findings=[_finding(n) for n in range(1, count + 1)],
    )


def test_long_notices_list_the_rest_in_the_excel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "PDF_MAX_ROWS", 2)
    doc = _doc(5)
    text = pdf_text(notice_pdf(doc))
    assert "下列 5 条线索" in text and "其余 3 条详见附件《线索清单》" in text
    assert "evil2.example" in text and "evil3.example" not in text
    sheet = load_workbook(io.BytesIO(findings_xlsx(doc))).active
    assert sheet is not None
    subjects = [row[4] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert len(subjects) == 5 and subjects[-1] == "91320115MA1N4Q7K0N:evil5.example"


def test_pdf_layout_and_font() -> None:
    pdf = notice_pdf(_doc(1))
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == "江苏省通信管理局"  # the issuing office heads the page
    assert text.index("苏通信安〔2024〕5号-007") < text.index("2024年第5批网络安全通报")
    assert "2024年10月12日 前完成整改" in text and "2024年9月27日" in text
    assert "严重" in text  # severity in Chinese
    assert [f for f in embedded_fonts(pdf) if "WenQuanYi" in f]


def test_evidence_summary_is_generic_and_short() -> None:
    evidence = {
        "snapshots": {"entities": "20240101"},
        "registry": {"status": "注销", "nested": {"x": 1}},
        "ips": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"],
        "note": "x" * 300,
    }
    summary = evidence_summary(evidence)
    assert summary.startswith("registry: status=注销; ips: 1.1.1.1, 2.2.2.2, 3.3.3.3 …")
    assert "snapshots" not in summary and len(summary) <= 160 and summary.endswith("…")
