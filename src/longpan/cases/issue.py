"""Issuing a batch's notices: deadlines, documents, findings → notified.

Rendering a PDF takes about a second (more for long tables), so the documents are
rendered BEFORE the write transaction, from a read of the approved batch
(``prepare_documents``); the transaction (``issue_notices``) then re-checks every
finding and only re-renders a notice whose findings changed meanwhile. Files are
written through a FileStore that removes them again if the transaction fails, so
nothing is left half-issued and the database is not locked while WeasyPrint works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.cases.documents import NoticeDocument, findings_xlsx, notice_pdf
from longpan.cases.selection import SELECTABLE
from longpan.cases.transitions import Who, move_finding
from longpan.cases.uploads import PDF, XLSX, FileStore, StoredFile, safe_download_name
from longpan.cases.views import finding_summary
from longpan.store.db import audit
from longpan.store.models import Attachment, Batch, Finding, Notice, NoticeItem, Organisation


@dataclass(frozen=True)
class RenderedDocuments:
    """A notice's stored documents and the findings they list, in order."""

    finding_ids: tuple[int, ...]
    deadline: date
    pdf: StoredFile
    xlsx: StoredFile


def prepare_documents(
    session: Session, files: FileStore, batch: Batch, issue_date: date, deadline: date
) -> dict[int, RenderedDocuments]:
    """Render every draft notice of an approved batch as it would be issued today."""
    rendered: dict[int, RenderedDocuments] = {}
    for notice in _draft_notices(session, batch):
        findings = [f for _item, f in _items(session, notice) if f.status in SELECTABLE]
        if findings:
            rendered[notice.id] = _render(
                session, files, batch, notice, findings, deadline, issue_date
            )
    return rendered


def issue_notices(
    session: Session,
    files: FileStore,
    batch: Batch,
    who: Who,
    prepared: dict[int, RenderedDocuments],
    deadline: date,
) -> list[int]:
    """Issue every draft notice of ``batch``; returns the ids of findings dropped."""
    assert batch.issue_date is not None
    dropped: list[int] = []
    for notice in _draft_notices(session, batch):
        kept = _notify_items(session, notice, deadline, who, dropped)
        docs = prepared.pop(notice.id, None)
        if not kept:
            notice.status = "cancelled"  # every finding changed state since the draft
            _discard(files, docs)
            continue
        notice.status, notice.deadline, notice.issued_at = "issued", deadline, who.clock()
        if (
            docs is None
            or docs.finding_ids != tuple(f.id for f in kept)
            or docs.deadline != deadline
        ):
            _discard(files, docs)  # the findings changed since rendering: render again
            docs = _render(session, files, batch, notice, kept, deadline, batch.issue_date)
        _attach(session, notice, docs, who)
        _audit_notice(session, notice, len(kept), who)
    for leftover in prepared.values():
        _discard(files, leftover)
    return dropped


def _discard(files: FileStore, docs: RenderedDocuments | None) -> None:
    if docs is not None:
        files.remove(docs.pdf.stored_name)
        files.remove(docs.xlsx.stored_name)


def _draft_notices(session: Session, batch: Batch) -> list[Notice]:
    query = select(Notice).where(Notice.batch_id == batch.id, Notice.status == "draft")
    return list(session.scalars(query.order_by(Notice.id)))


def _items(session: Session, notice: Notice) -> list[tuple[NoticeItem, Finding]]:
    query = (
        select(NoticeItem, Finding)
        .join(Finding, Finding.id == NoticeItem.finding_id)
        .where(NoticeItem.notice_id == notice.id)
        .order_by(Finding.type, Finding.subject)
    )
    return list(session.execute(query))


def _notify_items(
    session: Session, notice: Notice, deadline: date, who: Who, dropped: list[int]
) -> list[Finding]:
    pairs = _items(session, notice)
    elsewhere = _held_elsewhere(session, notice, [f.id for _i, f in pairs])
    kept: list[Finding] = []
    for item, finding in pairs:
        if finding.status not in SELECTABLE or finding.id in elsewhere:
            item.outcome, item.resolved_at = "dropped", who.clock()
            dropped.append(finding.id)
            continue
        item.deadline = deadline
        move_finding(session, finding, "notified", who, {"notice": notice.number})
        kept.append(finding)
    return kept


def _held_elsewhere(session: Session, notice: Notice, finding_ids: list[int]) -> set[int]:
    """Findings another issued notice already holds (a concurrent batch got there first)."""
    if not finding_ids:
        return set()
    query = (
        select(NoticeItem.finding_id)
        .join(Notice, Notice.id == NoticeItem.notice_id)
        .where(
            NoticeItem.finding_id.in_(finding_ids),
            NoticeItem.outcome.is_(None),
            Notice.status == "issued",
            Notice.id != notice.id,
        )
    )
    return set(session.scalars(query))


def _render(
    session: Session,
    files: FileStore,
    batch: Batch,
    notice: Notice,
    findings: list[Finding],
    deadline: date,
    issue_date: date,
) -> RenderedDocuments:
    org = session.get_one(Organisation, notice.organisation_id)
    doc = NoticeDocument(
        title=batch.title,
        number=notice.number,
        issuing_office=batch.issuing_office,
        addressee=org.name,
        addressee_uscc=org.uscc,
        deadline=deadline,
        issue_date=issue_date,
        findings=[finding_summary(f) for f in findings],
    )
    return RenderedDocuments(
        tuple(f.id for f in findings),
        deadline,
        files.put(notice_pdf(doc)),
        files.put(findings_xlsx(doc)),
    )


def _attach(session: Session, notice: Notice, docs: RenderedDocuments, who: Who) -> None:
    stem = safe_download_name(notice.number)
    for kind, stored, content_type, suffix in (
        ("notice_pdf", docs.pdf, PDF, "pdf"),
        ("findings_xlsx", docs.xlsx, XLSX, "xlsx"),
    ):
        session.add(
            Attachment(
                kind=kind,
                stored_name=stored.stored_name,
                original_name=f"{stem}.{suffix}",
                content_type=content_type,
                size=stored.size,
                sha256=stored.sha256,
                notice_id=notice.id,
                uploaded_by_id=None,
                created_at=who.clock(),
            )
        )


def _audit_notice(session: Session, notice: Notice, count: int, who: Who) -> None:
    assert notice.deadline is not None
    audit(
        session,
        actor=who.username,
        action="notice.issued",
        object_type="notice",
        object_id=str(notice.id),
        details={
            "number": notice.number,
            "organisation_id": notice.organisation_id,
            "findings": count,
            "deadline": notice.deadline.isoformat(),
        },
        address=who.address,
        clock=who.clock,
    )
