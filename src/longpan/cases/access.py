"""Who may do what in the loop, and the errors the web maps to 403 / 409.

Every service function checks here again even when the web already did (defence in
depth): the actor is re-loaded from the database, so a deactivated account or a
changed role takes effect at once.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from longpan.core.errors import InputError, LongpanError, NotFoundError
from longpan.store.models import Notice, User

STAFF = ("admin", "supervisor", "analyst")  # may change things at the regulator
READERS = (*STAFF, "auditor")  # may read everything
ISSUED_STATES = ("issued", "closed")  # notices an enterprise user may see

T = TypeVar("T")


class Actor(Protocol):
    """Whoever acts: a stored User, or the web's signed-in account; only the id is used."""

    @property
    def id(self) -> int: ...


class ForbiddenError(LongpanError):
    """The actor's role does not allow the action (HTTP 403)."""


class StateError(InputError):
    """The action is not allowed in the record's current state (HTTP 409)."""


def load_actor(session: Session, actor: Actor) -> User:
    """The actor as stored now; refuses unknown and deactivated accounts."""
    user = session.get(User, actor.id)
    if user is None or not user.is_active:
        raise ForbiddenError("账号不存在或已停用 (account unknown or deactivated)")
    return user


def require_role(user: User, roles: tuple[str, ...], action: str) -> None:
    if user.role not in roles:
        raise ForbiddenError(
            f"角色 {user.role} 无权{action} (role {user.role!r} may not {action}; "
            f"allowed: {', '.join(roles)})"
        )


def check_notice_visible(user: User, notice: Notice) -> None:
    """Staff and auditors see every notice; enterprise users only their own, issued ones.

    Another organisation's notice is reported as not found, so ids do not leak.
    """
    if user.role in READERS:
        return
    if (
        user.role == "enterprise"
        and notice.organisation_id == user.organisation_id
        and notice.status in ISSUED_STATES
    ):
        return
    raise NotFoundError(f"通报 {notice.id} 不存在 (notice {notice.id} not found)")


def get_or_404(
    session: Session, model: type[T], record_id: int, label: str, *, lock: bool = False
) -> T:
    """The record, or NotFoundError; ``lock`` takes a row lock (FOR UPDATE) on PostgreSQL."""
    found = session.get(model, record_id, with_for_update=lock or None)
    if found is None:
        raise NotFoundError(f"{label} {record_id} 不存在 ({label} {record_id} not found)")
    return found
