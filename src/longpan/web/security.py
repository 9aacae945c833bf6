"""Security helpers: CSRF tokens, cookie flags, safe redirects, security headers.

CSRF: the token is an HMAC (LONGPAN_SECRET_KEY) of the session token, so it is bound to
the session and changes at every sign-in. Before sign-in a random pre-session cookie
plays that part, so the login form is protected too. Every POST/PUT/PATCH/DELETE must
carry the token in the form field ``csrf_token`` or the header ``X-CSRF-Token``
(web/deps.py checks it for every route).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

from longpan.core.settings import Settings

SESSION_COOKIE = "longpan_session"
PRE_SESSION_COOKIE = "longpan_pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def csrf_token_for(secret_key: str, seed: str) -> str:
    return hmac.new(secret_key.encode(), f"csrf|{seed}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(expected: str, supplied: str | None) -> bool:
    return bool(supplied) and hmac.compare_digest(expected, str(supplied))


def new_pre_session_seed() -> str:
    return secrets.token_urlsafe(24)


def cookie_secure(settings: Settings, request: Request) -> bool:
    if settings.cookie_secure == "always":
        return True
    if settings.cookie_secure == "never":
        return False
    return request.url.scheme == "https"


def set_cookie(
    response: Response,
    request: Request,
    settings: Settings,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    http_only: bool = True,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=http_only,
        samesite="lax",
        secure=cookie_secure(settings, request),
    )


_SAFE_PATH = re.compile(r"^/(?![/\\])[^\s\\]*$")


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go to after sign-in; anything else (//evil, https://evil, /\\evil,
    javascript:…) becomes ``default`` — no open redirect."""
    if not value or len(value) > 2000 or not _SAFE_PATH.match(value):
        return default
    if any(ord(ch) < 32 for ch in value):
        return default
    return value
