"""Database tables: what people and the platform decide and do."""

from longpan.store.models.account import LoginAttempt, UserSession
from longpan.store.models.audit import AuditEntry
from longpan.store.models.base import Base
from longpan.store.models.case import (
    Answer,
    Attachment,
    Batch,
    Notice,
    NoticeItem,
    Reminder,
    Verification,
)
from longpan.store.models.finding import (
    ACTIVE_STATUSES,
    FINDING_STATUSES,
    SEVERITIES,
    DetectionRun,
    Finding,
)
from longpan.store.models.organisation import ORG_ROLES, Organisation, OrganisationRole
from longpan.store.models.user import USER_ROLES, User

__all__ = [
    "ACTIVE_STATUSES",
    "FINDING_STATUSES",
    "ORG_ROLES",
    "SEVERITIES",
    "USER_ROLES",
    "Answer",
    "Attachment",
    "AuditEntry",
    "Base",
    "Batch",
    "DetectionRun",
    "Finding",
    "LoginAttempt",
    "Notice",
    "NoticeItem",
    "Organisation",
    "OrganisationRole",
    "Reminder",
    "User",
    "UserSession",
    "Verification",
]
