"""Login rate limiting from the login_attempts table (per username and per address).

A username is locked after ``max_failures`` failed sign-ins within the window since its
last successful one; an address after ``max_failures`` failures within the window
(whatever usernames it tried). Refused attempts are not recorded, so waiting works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from longpan.accounts.errors import LoginRateLimited
from longpan.core.clock import Clock, utc_now
from longpan.store.models import LoginAttempt


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)


def record_attempt(
    session: Session, username: str, address: str | None, succeeded: bool, clock: Clock = utc_now
) -> None:
    session.add(
        LoginAttempt(at=clock(), username=username[:64], address=address, succeeded=succeeded)
    )


def check_allowed(
    session: Session,
    username: str,
    address: str | None,
    limits: LoginLimits,
    clock: Clock = utc_now,
) -> None:
    """Raise LoginRateLimited when the username or the address is over the limit."""
    now = clock()
    since = now - limits.window
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username[:64], LoginAttempt.succeeded.is_(True)
        )
    )
    user_since = max(since, last_success) if last_success else since
    conditions = [LoginAttempt.username == username[:64]]
    waits = [_wait(session, conditions, user_since, limits, now)]
    if address:
        waits.append(_wait(session, [LoginAttempt.address == address], since, limits, now))
    longest = max(waits)
    if longest > 0:
        raise LoginRateLimited(longest)


def _wait(
    session: Session,
    conditions: list[ColumnElement[bool]],
    since: datetime,
    limits: LoginLimits,
    now: datetime,
) -> int:
    """Seconds until the oldest counted failure leaves the window, or 0 if under the limit."""
    failures = list(
        session.scalars(
            select(LoginAttempt.at)
            .where(*conditions, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
            .order_by(LoginAttempt.at.desc())
            .limit(limits.max_failures)
        )
    )
    if len(failures) < limits.max_failures:
        return 0
    # The limit lifts when the max_failures-th most recent failure leaves the window.
    return max(1, int((failures[-1] + limits.window - now).total_seconds()) + 1)
