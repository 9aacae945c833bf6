"""Platform accounts. An enterprise user always belongs to one organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from longpan.store.models.base import Base, enum_check

USER_ROLES = ("admin", "supervisor", "analyst", "enterprise", "auditor")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(enum_check("role", USER_ROLES), name="role"),
        CheckConstraint(
            "role <> 'enterprise' OR organisation_id IS NOT NULL", name="enterprise_has_org"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime | None]
    email: Mapped[str | None] = mapped_column(String(255))  # for reminders (migration 0003)
