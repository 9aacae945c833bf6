"""Findings (线索) and the detection runs that produce them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from longpan.store.models.base import Base, enum_check

SEVERITIES = ("info", "low", "medium", "high", "critical")
# 'open' and 'not_observed' are set by the detection runner; the others belong to the
# case workflow (cases/): open → notified → answered → verifying → closed, or reopened.
FINDING_STATUSES = (
    "open",
    "not_observed",
    "notified",
    "answered",
    "verifying",
    "reopened",
    "closed",
    "dismissed",
)
# Statuses in which a finding still counts as an unresolved irregularity.
ACTIVE_STATUSES = ("open", "notified", "answered", "verifying", "reopened")
RUN_STATUSES = ("running", "succeeded", "failed")


class DetectionRun(Base):
    __tablename__ = "detection_runs"
    __table_args__ = (CheckConstraint(enum_check("status", RUN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    engine: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[datetime | None]
    detectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lake_snapshots: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class Finding(Base):
    __tablename__ = "findings"
    __table_args__ = (
        CheckConstraint(enum_check("severity", SEVERITIES), name="severity"),
        CheckConstraint(enum_check("status", FINDING_STATUSES), name="status"),
        Index("ix_findings_type_status", "type", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(512), index=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detector: Mapped[str] = mapped_column(String(64))
    detector_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    observed: Mapped[bool] = mapped_column(default=True)
    responsible_uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    first_seen: Mapped[datetime] = mapped_column(index=True)
    last_seen: Mapped[datetime] = mapped_column(index=True)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("detection_runs.id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("detection_runs.id"))
