"""Errors of sign-in and authorisation, under the one root (longpan.core.errors).

LongpanError
 ├── AuthenticationError     wrong username or password, or an inactive account
 │    └── LoginRateLimited   too many failed sign-ins; try again later
 └── PermissionDenied        the signed-in user's role may not do this
"""

from __future__ import annotations

from longpan.core.errors import LongpanError


class AuthenticationError(LongpanError):
    """Sign-in refused. The message never says which of username or password was wrong."""


class LoginRateLimited(AuthenticationError):
    """Too many failed sign-ins for this username or address within the window."""

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        minutes = max(1, -(-retry_after_seconds // 60))
        super().__init__(f"登录失败次数过多，请 {minutes} 分钟后再试 (too many failed sign-ins)")


class PermissionDenied(LongpanError):
    """The acting user's role or organisation does not allow this action."""
