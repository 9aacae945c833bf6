"""Users and roles: create, list, change or reset a password, deactivate.

Roles (角色): admin 管理员, supervisor 审核主管 (approves batches and dismissals),
analyst 分析员, enterprise 企业用户 (sees only its own organisation), auditor 审计员
(read-only everywhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.accounts import passwords
from longpan.accounts.errors import AuthenticationError
from longpan.accounts.tokens import revoke_user_sessions
from longpan.core.clock import Clock, utc_now
from longpan.core.errors import InputError, NotFoundError
from longpan.store.db import audit
from longpan.store.models import USER_ROLES, Organisation, User

ROLE_TITLES: dict[str, tuple[str, str]] = {
    "admin": ("管理员", "Administrator"),
    "supervisor": ("审核主管", "Supervisor"),
    "analyst": ("分析员", "Analyst"),
    "enterprise": ("企业用户", "Enterprise user"),
    "auditor": ("审计员", "Auditor"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")


@dataclass(frozen=True)
class Account:
    """A user as the rest of the platform sees it (never carries the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    organisation_id: int | None
    organisation_uscc: str | None
    organisation_name: str | None
    is_active: bool
    created_at: datetime
    password_changed_at: datetime | None
    email: str | None = None

    @property
    def can_write(self) -> bool:
        """Auditors only read; every other role may change what its role allows."""
        return self.role != "auditor"

    @property
    def is_enterprise(self) -> bool:
        return self.role == "enterprise"

    @property
    def actor(self) -> str:
        """The name written to the audit log."""
        return self.username


def to_account(user: User, org: Organisation | None) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        organisation_id=user.organisation_id,
        organisation_uscc=org.uscc if org else None,
        organisation_name=org.name if org else None,
        is_active=user.is_active,
        created_at=user.created_at,
        password_changed_at=user.password_changed_at,
        email=user.email,
    )


def _with_org(session: Session, user: User) -> Account:
    org = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    return to_account(user, org)


def _check_username(username: str) -> str:
    name = username.strip()
    if not _USERNAME.match(name):
        raise InputError(
            "用户名须为 3–64 个字母、数字或 . _ @ -，以字母或数字开头 "
            "(username: 3-64 letters, digits or . _ @ -)",
            column="username",
        )
    return name


def _check_role(role: str, org_uscc: str | None) -> None:
    if role not in USER_ROLES:
        raise InputError(
            f"未知角色 {role!r} (unknown role; known: {', '.join(USER_ROLES)})", column="role"
        )
    if role == "enterprise" and not org_uscc:
        raise InputError(
            "企业用户必须指定所属单位 (enterprise users need --org USCC)", column="org"
        )
    if role != "enterprise" and org_uscc:
        raise InputError(
            "只有企业用户属于单位 (only enterprise users belong to an organisation)", column="org"
        )


def _check_email(email: str | None) -> str | None:
    """A plausible address (reminders are sent to it), or None."""
    value = (email or "").strip()
    if not value:
        return None
    if len(value) > 255 or not _EMAIL.match(value):
        raise InputError(f"邮箱地址无效 (not an email address: {value!r})", column="email")
    return value


def check_new_user(username: str, role: str, org_uscc: str | None) -> None:
    """The checks of ``create_user`` that need no database (for prompts: fail early)."""
    _check_username(username)
    _check_role(role, org_uscc)


def _organisation(session: Session, uscc: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.uscc == uscc.strip().upper()))
    if org is None:
        raise InputError(f"单位 {uscc} 不存在 (no organisation with this USCC)", column="org")
    return org


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    password: str,
    actor: str,
    org_uscc: str | None = None,
    display_name: str = "",
    email: str | None = None,
    address: str | None = None,
    clock: Clock = utc_now,
) -> Account:
    """Create an active user; refuses duplicates, unknown roles/orgs and weak passwords."""
    name = _check_username(username)
    email = _check_email(email)
    _check_role(role, org_uscc)
    passwords.check_policy(name, password)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise InputError(f"用户名 {name} 已存在 (username already exists)", column="username")
    org = _organisation(session, org_uscc) if org_uscc else None
    now = clock()
    user = User(
        username=name,
        display_name=display_name.strip()[:128],
        password_hash=passwords.hash_password(password),
        role=role,
        organisation_id=org.id if org else None,
        is_active=True,
        created_at=now,
        password_changed_at=now,
        email=email,
    )
    session.add(user)
    session.flush()
    audit(
        session,
        actor=actor,
        action="user.created",
        object_type="user",
        object_id=name,
        details={"role": role, "organisation": org.uscc if org else None},
        address=address,
        clock=clock,
    )
    return to_account(user, org)


def list_users(session: Session) -> list[Account]:
    rows = session.execute(
        select(User, Organisation)
        .outerjoin(Organisation, User.organisation_id == Organisation.id)
        .order_by(User.username)
    )
    return [to_account(user, org) for user, org in rows]


def get_account(session: Session, user_id: int) -> Account:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"用户 #{user_id} 不存在 (no such user)")
    return _with_org(session, user)


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip()))


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"用户 #{user_id} 不存在 (no such user)")
    return user


def _set_password(user: User, password: str, clock: Clock) -> None:
    passwords.check_policy(user.username, password)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = clock()


def change_password(
    session: Session,
    user_id: int,
    *,
    old_password: str,
    new_password: str,
    address: str | None = None,
    clock: Clock = utc_now,
) -> None:
    """Self-service change: the old password is required; all sessions are revoked."""
    user = _user(session, user_id)
    if not passwords.verify_password(user.password_hash, old_password):
        raise InputError("原密码不正确 (the current password is wrong)", column="old_password")
    if old_password == new_password:
        raise InputError(
            "新密码不能与原密码相同 (choose a different password)", column="new_password"
        )
    _set_password(user, new_password, clock)
    revoke_user_sessions(session, user.id, clock=clock)
    audit(
        session,
        actor=user.username,
        action="user.password_changed",
        object_type="user",
        object_id=user.username,
        address=address,
        clock=clock,
    )


def reset_password(
    session: Session,
    user_id: int,
    *,
    new_password: str,
    actor: str,
    address: str | None = None,
    clock: Clock = utc_now,
) -> None:
    """An administrator sets a new password; the user's sessions are revoked."""
    user = _user(session, user_id)
    _set_password(user, new_password, clock)
    revoke_user_sessions(session, user.id, clock=clock)
    audit(
        session,
        actor=actor,
        action="user.password_reset",
        object_type="user",
        object_id=user.username,
        address=address,
        clock=clock,
    )


def set_active(
    session: Session,
    user_id: int,
    active: bool,
    *,
    actor: str,
    address: str | None = None,
    clock: Clock = utc_now,
) -> None:
    """Deactivate (revoking every session) or reactivate a user; nothing is deleted."""
    user = _user(session, user_id)
    if user.username == actor and not active:
        raise InputError("不能停用自己的账号 (you cannot deactivate yourself)", column="user")
    if user.is_active == active:
        return
    user.is_active = active
    if not active:
        revoke_user_sessions(session, user.id, clock=clock)
    audit(
        session,
        actor=actor,
        action="user.activated" if active else "user.deactivated",
        object_type="user",
        object_id=user.username,
        address=address,
        clock=clock,
    )


def check_credentials(session: Session, username: str, password: str) -> User:
    """The active user with this username and password, else AuthenticationError."""
    user = find_user(session, username)
    if user is None:
        passwords.verify_password(_dummy_hash(), password)  # same time as a real check
        raise AuthenticationError("用户名或密码错误 (wrong username or password)")
    if not passwords.verify_password(user.password_hash, password) or not user.is_active:
        raise AuthenticationError("用户名或密码错误 (wrong username or password)")
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real hash to verify against when the username is unknown (equal timing)."""
    return passwords.hash_password("not-a-real-password-0")
