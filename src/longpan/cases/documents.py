"""Notice attachments: the notice as PDF (official-document layout) and its findings
as Excel. Both are built from generic finding fields, so any finding type fits.

The PDF is HTML + CSS rendered by WeasyPrint with the WenQuanYi Micro Hei font
(Debian's fonts-wqy-microhei), which WeasyPrint embeds as a subset.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from longpan.cases.views import FindingSummary

TEMPLATES = Path(__file__).parent / "templates"
# A notice's PDF lists at most this many findings (long tables make WeasyPrint slow and
# the paper unreadable); the Excel attachment always lists all of them (详见附件).
PDF_MAX_ROWS = 100
SEVERITY_ZH = {"info": "提示", "low": "低", "medium": "中", "high": "高", "critical": "严重"}
XLSX_COLUMNS = (
    ("序号 No.", 6),
    ("线索编号 Finding id", 12),
    ("线索类型 Type", 22),
    ("类型代码 Type id", 20),
    ("对象 Subject", 30),
    ("级别 Severity", 10),
    ("发现时间 First seen", 14),
    ("证据摘要 Evidence", 60),
    ("整改期限 Deadline", 14),
)


@dataclass(frozen=True)
class NoticeDocument:
    """Everything a notice document shows."""

    title: str
    number: str
    issuing_office: str
    addressee: str
    addressee_uscc: str
    deadline: date
    issue_date: date
    findings: list[FindingSummary]

    @property
    def deadline_text(self) -> str:
        return chinese_date(self.deadline)

    @property
    def date_text(self) -> str:
        return chinese_date(self.issue_date)

    @property
    def omitted(self) -> int:
        """Findings left out of the PDF's table (they are in the Excel)."""
        return max(0, len(self.findings) - PDF_MAX_ROWS)

    @property
    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "type_title": f.type_title,
                "subject": f.subject,
                "severity": SEVERITY_ZH.get(f.severity, f.severity),
                "first_seen": f.first_seen.date().isoformat(),
                "summary": f.summary,
            }
            for f in self.findings[:PDF_MAX_ROWS]
        ]


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def notice_html(doc: NoticeDocument) -> str:
    return _environment().get_template("notice.html").render(doc=doc)


def notice_pdf(doc: NoticeDocument) -> bytes:
    """The notice as PDF bytes (WeasyPrint is imported here: it is slow to import)."""
    from weasyprint import HTML

    pdf = HTML(string=notice_html(doc), base_url=str(TEMPLATES)).write_pdf()
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return bytes(pdf)


def findings_xlsx(doc: NoticeDocument) -> bytes:
    """The notice's findings as one Excel sheet, with the notice's header rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "线索清单"
    sheet.append([doc.title])
    sheet.append([f"文号 {doc.number}", f"主送 {doc.addressee}", f"期限 {doc.deadline_text}"])
    sheet.append([])
    sheet.append([title for title, _width in XLSX_COLUMNS])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for seq, f in enumerate(doc.findings, start=1):
        sheet.append(_xlsx_row(seq, f, doc.deadline))
    for index, (_title, width) in enumerate(XLSX_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows(min_row=5):
        row[7].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_row(seq: int, f: FindingSummary, deadline: date) -> list[object]:
    return [
        seq,
        f.id,
        f.type_title,
        f.type,
        f.subject,
        SEVERITY_ZH.get(f.severity, f.severity),
        f.first_seen.date().isoformat(),
        f.summary,
        deadline.isoformat(),
    ]
