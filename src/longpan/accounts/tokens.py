"""Session tokens: random in the cookie, only their SHA-256 in the database."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import update
from sqlalchemy.orm import Session

from longpan.core.clock import Clock, utc_now
from longpan.store.models import UserSession


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def revoke_user_sessions(session: Session, user_id: int, *, clock: Clock = utc_now) -> int:
    """Revoke every live session of a user (password change, reset, deactivation)."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_token(session: Session, token: str, *, clock: Clock = utc_now) -> bool:
    """Revoke one session (sign-out); False when the token is unknown or already revoked."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=clock())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
