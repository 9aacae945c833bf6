"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from longpan.core.errors import InputError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 accepts more; a cap keeps hashing time bounded


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    """argon2id with the library's RFC 9106 low-memory defaults."""
    return PasswordHasher()


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or a missing/corrupt hash."""
    if not password_hash:
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def check_policy(username: str, password: str) -> None:
    """Refuse weak passwords with a message naming the rule that failed."""
    if len(password) < MIN_LENGTH:
        raise InputError(
            f"密码至少 {MIN_LENGTH} 个字符 (password must have at least {MIN_LENGTH} characters)",
            column="password",
        )
    if len(password) > MAX_LENGTH:
        raise InputError(f"密码最多 {MAX_LENGTH} 个字符 (password too long)", column="password")
    if password.strip().casefold() == username.strip().casefold():
        raise InputError(
            "密码不能与用户名相同 (password must not equal the username)", column="password"
        )
