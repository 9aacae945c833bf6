"""Read-only views of loop records: frozen dataclasses the web and CLI render.

Service functions return these, never ORM objects, so callers cannot lazy-load across
a closed session or change a record behind the audit log's back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from longpan.cases.uploads import safe_download_name
from longpan.detect.registry import finding_type_title
from longpan.store.models import Answer, Attachment, Finding, Verification

SUMMARY_CHARS = 160
SKIPPED_EVIDENCE = frozenset({"snapshots"})  # provenance, not something to show in a row


@dataclass(frozen=True)
class FindingSummary:
    id: int
    type: str
    type_title: str
    type_title_en: str
    subject: str
    severity: str
    status: str
    responsible_uscc: str | None
    first_seen: datetime
    summary: str
    note: str = ""  # why it cannot be addressed or is held, in preview


@dataclass(frozen=True)
class AttachmentView:
    id: int
    kind: str
    original_name: str
    download_name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


@dataclass(frozen=True)
class AnswerView:
    id: int
    item_id: int
    kind: str
    text: str
    requested_deadline: date | None
    author: str
    created_at: datetime
    decision: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    attachments: list[AttachmentView] = field(default_factory=list)


@dataclass(frozen=True)
class VerificationView:
    id: int
    finding_id: int
    answer_id: int
    run_id: int | None
    outcome: str | None
    evidence_before: dict[str, Any]
    evidence_after: dict[str, Any] | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


def evidence_summary(evidence: dict[str, Any]) -> str:
    """A short, type-agnostic line from a finding's evidence: its scalar facts."""
    parts: list[str] = []
    for key, value in evidence.items():
        if key in SKIPPED_EVIDENCE or value is None or value == "":
            continue
        if isinstance(value, dict):
            inner = [f"{k}={v}" for k, v in value.items() if not isinstance(v, dict | list)]
            text = f"{key}: {', '.join(inner[:3])}" if inner else ""
        elif isinstance(value, list):
            text = f"{key}: {', '.join(str(v) for v in value[:3])}"
            text += " …" if len(value) > 3 else ""
        else:
            text = f"{key}: {value}"
        if text:
            parts.append(text)
    joined = "; ".join(parts)
    return joined if len(joined) <= SUMMARY_CHARS else joined[: SUMMARY_CHARS - 1] + "…"


def finding_summary(finding: Finding, note: str = "") -> FindingSummary:
    return FindingSummary(
        id=finding.id,
        type=finding.type,
        type_title=finding_type_title(finding.type, "zh"),
        type_title_en=finding_type_title(finding.type, "en"),
        subject=finding.subject,
        severity=finding.severity,
        status=finding.status,
        responsible_uscc=finding.responsible_uscc,
        first_seen=finding.first_seen,
        summary=evidence_summary(finding.evidence),
        note=note,
    )


def attachment_view(a: Attachment) -> AttachmentView:
    return AttachmentView(
        id=a.id,
        kind=a.kind,
        original_name=a.original_name,
        download_name=safe_download_name(a.original_name),
        content_type=a.content_type,
        size=a.size,
        sha256=a.sha256,
        created_at=a.created_at,
    )


def answer_view(a: Answer, usernames: dict[int, str], attachments: list[Attachment]) -> AnswerView:
    return AnswerView(
        id=a.id,
        item_id=a.item_id,
        kind=a.kind,
        text=a.text,
        requested_deadline=a.requested_deadline,
        author=usernames.get(a.author_id, str(a.author_id)),
        created_at=a.created_at,
        decision=a.decision,
        decided_by=usernames.get(a.decided_by_id) if a.decided_by_id else None,
        decided_at=a.decided_at,
        decision_reason=a.decision_reason,
        attachments=[attachment_view(x) for x in attachments if x.answer_id == a.id],
    )


def verification_view(v: Verification) -> VerificationView:
    return VerificationView(
        id=v.id,
        finding_id=v.finding_id,
        answer_id=v.answer_id,
        run_id=v.run_id,
        outcome=v.outcome,
        evidence_before=v.evidence_before,
        evidence_after=v.evidence_after,
        error=v.error,
        started_at=v.started_at,
        finished_at=v.finished_at,
    )
