"""The closed loop (闭环): batches of notices (通报), their items, answers, attachments,
verifications (复核) and reminders. The rules live in cases/; these are the records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from longpan.store.models.base import Base, enum_check

BATCH_STATUSES = ("draft", "approved", "issued", "cancelled")
NOTICE_STATUSES = ("draft", "issued", "closed", "cancelled")
ITEM_OUTCOMES = ("closed", "dismissed", "dropped")
ANSWER_KINDS = ("rectified", "disputed", "extension")
DECISIONS = ("pending", "accepted", "rejected")
ATTACHMENT_KINDS = ("notice_pdf", "findings_xlsx", "evidence")
VERIFICATION_OUTCOMES = ("still_present", "gone", "error")
REMINDER_CHANNELS = ("app", "email")


class Batch(Base):
    """A batch of notices, e.g. “2024年第5批网络安全通报” (批次)."""

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint(enum_check("status", BATCH_STATUSES), name="status"),
        CheckConstraint("deadline_days > 0", name="deadline_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    document_number: Mapped[str] = mapped_column(String(128), unique=True)  # 文号
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    deadline_days: Mapped[int]  # working days from the issue date
    issuing_office: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime | None]
    issue_date: Mapped[date | None] = mapped_column(Date)  # local (Asia/Shanghai) date
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class Notice(Base):
    """One batch's notice to one responsible organisation."""

    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint(enum_check("status", NOTICE_STATUSES), name="status"),
        Index("ix_notices_batch_organisation", "batch_id", "organisation_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    number: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    issued_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_reminded_at: Mapped[datetime | None]
    reminder_count: Mapped[int] = mapped_column(default=0)


class NoticeItem(Base):
    """One finding in one notice; its deadline moves when an extension is approved."""

    __tablename__ = "notice_items"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR " + enum_check("outcome", ITEM_OUTCOMES), name="outcome"
        ),
        Index("ix_notice_items_notice_finding", "notice_id", "finding_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    resolved_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))


class Answer(Base):
    """An enterprise's answer to one item: rectified, disputed or extension requested."""

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint(enum_check("kind", ANSWER_KINDS), name="kind"),
        CheckConstraint(enum_check("decision", DECISIONS), name="decision"),
        CheckConstraint(
            "kind <> 'extension' OR requested_deadline IS NOT NULL", name="extension_date"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("notice_items.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    requested_deadline: Mapped[date | None] = mapped_column(Date)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    decision: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    """A stored file: a generated notice document or an uploaded piece of evidence.

    The file lives under $LONGPAN_HOME/uploads/<stored_name>; the client's file name is
    kept only as metadata and never used in a path.
    """

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint(enum_check("kind", ATTACHMENT_KINDS), name="kind"),
        CheckConstraint("notice_id IS NOT NULL OR answer_id IS NOT NULL", name="owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), index=True
    )
    answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Verification(Base):
    """A re-check (复核) of a finding after a rectified answer, through the runner."""

    __tablename__ = "verifications"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR " + enum_check("outcome", VERIFICATION_OUTCOMES),
            name="outcome",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("detection_runs.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    evidence_before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence_after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Reminder(Base):
    """A reminder about an overdue notice: in the app, or an email (催办)."""

    __tablename__ = "reminders"
    __table_args__ = (CheckConstraint(enum_check("channel", REMINDER_CHANNELS), name="channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(255))  # username or email address
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
