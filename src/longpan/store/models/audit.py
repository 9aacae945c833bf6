"""The append-only audit log: who changed what, when, from where.

Rows are only ever inserted; database triggers (see the initial migration) refuse
UPDATE and DELETE on every backend, so not even a bug can rewrite history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from longpan.store.models.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))  # username, or "system:<component>"
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "finding.opened"
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(512))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    address: Mapped[str | None] = mapped_column(String(64))  # client IP for web actions
