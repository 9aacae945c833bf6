"""Web sign-in: open a server-side session, resolve a cookie token, sign out.

The cookie carries a random token; the database keeps only its SHA-256 and the expiry.
A session is valid while it is neither expired nor revoked and its user is active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.accounts.errors import AuthenticationError
from longpan.accounts.ratelimit import LoginLimits, check_allowed, record_attempt
from longpan.accounts.tokens import new_token, revoke_token, token_hash
from longpan.accounts.users import Account, check_credentials, to_account
from longpan.core.clock import Clock, utc_now
from longpan.store.db import audit
from longpan.store.models import Organisation, User, UserSession

# last_seen_at is refreshed at most this often, so browsing does not write on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    account: Account
    token: str  # the cookie value; shown once, never stored


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    address: str | None,
    lifetime: timedelta,
    limits: LoginLimits,
    clock: Clock = utc_now,
) -> SignedIn:
    """Check the rate limit and the credentials; open a session. Every attempt is logged.

    The caller commits even when AuthenticationError is raised, so failures are kept."""
    name = username.strip()
    check_allowed(session, name, address, limits, clock)
    try:
        user = check_credentials(session, name, password)
    except AuthenticationError:
        record_attempt(session, name, address, succeeded=False, clock=clock)
        raise
    record_attempt(session, name, address, succeeded=True, clock=clock)
    token = new_token()
    now = clock()
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + lifetime,
            last_seen_at=now,
            address=address,
        )
    )
    audit(
        session,
        actor=user.username,
        action="user.signed_in",
        object_type="user",
        object_id=user.username,
        address=address,
        clock=clock,
    )
    org = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    return SignedIn(account=to_account(user, org), token=token)


def resolve(session: Session, token: str, *, clock: Clock = utc_now) -> Account | None:
    """The account behind a cookie token, or None if unknown, expired, revoked or inactive."""
    row = session.execute(
        select(UserSession, User, Organisation)
        .join(User, UserSession.user_id == User.id)
        .outerjoin(Organisation, User.organisation_id == Organisation.id)
        .where(UserSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    user_session, user, org = row
    now = clock()
    if user_session.revoked_at is not None or user_session.expires_at <= now:
        return None
    if not user.is_active:
        return None
    if now - user_session.last_seen_at >= TOUCH_INTERVAL:
        user_session.last_seen_at = now
    return to_account(user, org)


def sign_out(
    session: Session,
    token: str,
    account: Account,
    *,
    address: str | None,
    clock: Clock = utc_now,
) -> None:
    if revoke_token(session, token, clock=clock):
        audit(
            session,
            actor=account.username,
            action="user.signed_out",
            object_type="user",
            object_id=account.username,
            address=address,
            clock=clock,
        )
