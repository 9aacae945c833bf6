"""Account services on SQLite and PostgreSQL: users, passwords, sessions, rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.accounts import passwords, ratelimit, sessions, users
from longpan.accounts.errors import AuthenticationError, LoginRateLimited
from longpan.core.errors import InputError, NotFoundError
from longpan.store.models import AuditEntry, LoginAttempt, Organisation, User, UserSession
from longpan.store.workspace import Workspace

GOOD = "a-long-password"
LIMITS = ratelimit.LoginLimits(max_failures=3, window=timedelta(minutes=15))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 5, 6, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def org(ws: Workspace) -> str:
    with ws.sessions() as session, session.begin():
        now = datetime(2025, 1, 1, tzinfo=UTC)
        session.add(
            Organisation(uscc="91320100MA1TEST01X", name="测试单位", created_at=now, updated_at=now)
        )
    return "91320100MA1TEST01X"


def _create(session: Session, name: str, role: str = "analyst", **kw: object) -> users.Account:
    return users.create_user(session, username=name, role=role, password=GOOD, actor="admin", **kw)  # type: ignore[arg-type]


def _sign_in(
    session: Session, name: str, password: str, clock: Clock, address: str = "10.1.1.1"
) -> sessions.SignedIn:
    return sessions.sign_in(
        session,
        name,
        password,
        address=address,
        lifetime=timedelta(hours=8),
        limits=LIMITS,
        clock=clock,
    )


def test_create_and_list_users(ws: Workspace, org: str) -> None:
    with ws.sessions() as session, session.begin():
        _create(session, "zhang.san")
        enterprise = _create(
            session, "ent_user", role="enterprise", org_uscc=org, email="ops@example.cn"
        )
        assert enterprise.organisation_uscc == org and enterprise.organisation_name == "测试单位"
    with ws.sessions() as session:
        listed = users.list_users(session)
        stored = session.scalar(select(User.password_hash).where(User.username == "zhang.san"))
        audit = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "user"))
        assert [a.username for a in listed] == ["ent_user", "zhang.san"]
        assert stored and stored.startswith("$argon2id$") and GOOD not in stored
        assert list(audit) == ["user.created", "user.created"]


@pytest.mark.parametrize(
    ("kwargs", "column", "text"),
    [
        ({"username": "ab"}, "username", "3–64"),
        ({"username": "bad name"}, "username", "3–64"),
        ({"role": "root"}, "role", "未知角色"),
        ({"role": "enterprise"}, "org", "所属单位"),
        ({"role": "analyst", "org_uscc": "91320100MA1TEST01X"}, "org", "只有企业用户"),
        ({"role": "enterprise", "org_uscc": "91320100MA1NOPE00"}, "org", "不存在"),
        ({"password": "short"}, "password", "至少 10"),
        ({"username": "samename12", "password": "SameName12"}, "password", "用户名相同"),
        ({"email": "not-an-address"}, "email", "邮箱"),
    ],
)
def test_create_user_refuses_bad_input(
    ws: Workspace, org: str, kwargs: dict[str, str], column: str, text: str
) -> None:
    values = {"username": "valid.user", "role": "analyst", "password": GOOD, **kwargs}
    with ws.sessions() as session, session.begin():
        with pytest.raises(InputError) as caught:
            users.create_user(session, actor="admin", **values)  # type: ignore[arg-type]
        assert caught.value.column == column and text in caught.value.message
        session.rollback()
    with ws.sessions() as session:
        assert session.scalar(select(User.id)) is None  # nothing half-written


def test_duplicate_username_is_refused(ws: Workspace) -> None:
    with ws.sessions() as session, session.begin():
        _create(session, "li.si")
    with ws.sessions() as session, pytest.raises(InputError, match="已存在"):
        _create(session, "li.si")


def test_sign_in_resolve_expire_and_sign_out(ws: Workspace, clock: Clock) -> None:
    with ws.sessions() as session, session.begin():
        _create(session, "wang.wu")
        signed = _sign_in(session, "wang.wu", GOOD, clock)
    with ws.sessions() as session, session.begin():
        stored = session.scalars(select(UserSession)).one()
        assert stored.token_hash != signed.token and stored.address == "10.1.1.1"
        found = sessions.resolve(session, signed.token, clock=clock)
        assert found is not None and found.username == "wang.wu"
        assert sessions.resolve(session, signed.token + "x", clock=clock) is None
    clock.now += timedelta(hours=8)
    with ws.sessions() as session:
        assert sessions.resolve(session, signed.token, clock=clock) is None  # expired
    clock.now -= timedelta(hours=1)
    with ws.sessions() as session, session.begin():
        account = sessions.resolve(session, signed.token, clock=clock)
        assert account is not None
        sessions.sign_out(session, signed.token, account, address=None, clock=clock)
    with ws.sessions() as session:
        assert sessions.resolve(session, signed.token, clock=clock) is None  # revoked


def test_wrong_password_and_inactive_user_are_one_error(ws: Workspace, clock: Clock) -> None:
    with ws.sessions() as session, session.begin():
        target = _create(session, "zhao.liu")
        _create(session, "admin.one", role="admin")
    with ws.sessions() as session, pytest.raises(AuthenticationError, match="用户名或密码错误"):
        _sign_in(session, "zhao.liu", "wrong-password", clock)
    with ws.sessions() as session, session.begin():
        users.set_active(session, target.id, False, actor="admin.one")
    with ws.sessions() as session, pytest.raises(AuthenticationError, match="用户名或密码错误"):
        _sign_in(session, "zhao.liu", GOOD, clock)


def test_change_password_revokes_every_session(ws: Workspace, clock: Clock) -> None:
    with ws.sessions() as session, session.begin():
        account = _create(session, "qian.qi")
        first = _sign_in(session, "qian.qi", GOOD, clock)
        second = _sign_in(session, "qian.qi", GOOD, clock, address="10.2.2.2")
    with ws.sessions() as session, pytest.raises(InputError, match="原密码不正确"):
        users.change_password(
            session, account.id, old_password="nope-nope-1", new_password="another-long-one"
        )
    with ws.sessions() as session, pytest.raises(InputError, match="不能与原密码相同"):
        users.change_password(session, account.id, old_password=GOOD, new_password=GOOD)
    with ws.sessions() as session, session.begin():
        users.change_password(
            session, account.id, old_password=GOOD, new_password="another-long-one", clock=clock
        )
    with ws.sessions() as session:
        assert sessions.resolve(session, first.token, clock=clock) is None
        assert sessions.resolve(session, second.token, clock=clock) is None
    with ws.sessions() as session, session.begin():
        assert _sign_in(session, "qian.qi", "another-long-one", clock).account.id == account.id


def test_reset_and_deactivate_revoke_sessions_and_are_audited(ws: Workspace, clock: Clock) -> None:
    with ws.sessions() as session, session.begin():
        account = _create(session, "sun.ba")
        _create(session, "boss", role="admin")
        signed = _sign_in(session, "sun.ba", GOOD, clock)
        users.reset_password(
            session,
            account.id,
            new_password="reset-password-1",
            actor="boss",
            address="10.9.9.9",
            clock=clock,
        )
    with ws.sessions() as session, session.begin():
        assert sessions.resolve(session, signed.token, clock=clock) is None
        again = _sign_in(session, "sun.ba", "reset-password-1", clock)
        users.set_active(session, account.id, False, actor="boss", clock=clock)
        with pytest.raises(InputError, match="不能停用自己"):
            users.set_active(
                session,
                users.find_user(session, "boss").id,
                False,  # type: ignore[union-attr]
                actor="boss",
            )
    with ws.sessions() as session:
        assert sessions.resolve(session, again.token, clock=clock) is None
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == "sun.ba").order_by(AuditEntry.id)
        ).all()
        assert [r.action for r in rows] == [
            "user.created",
            "user.signed_in",
            "user.password_reset",
            "user.signed_in",
            "user.deactivated",
        ]
        reset = rows[2]
        assert reset.actor == "boss" and reset.address == "10.9.9.9"
    with ws.sessions() as session, pytest.raises(NotFoundError):
        users.get_account(session, 999_999)


def test_rate_limit_by_username_by_address_and_window(ws: Workspace, clock: Clock) -> None:
    with ws.sessions() as session, session.begin():
        _create(session, "zhou.jiu")
    for n in range(3):
        with ws.sessions() as session, session.begin():
            with pytest.raises(AuthenticationError):
                _sign_in(session, "zhou.jiu", "bad-password", clock, address=f"10.0.0.{n}")
            session.commit()
        clock.now += timedelta(minutes=1)
    with ws.sessions() as session, pytest.raises(LoginRateLimited) as caught:
        _sign_in(session, "zhou.jiu", GOOD, clock, address="10.5.5.5")
    # the oldest of the three failures leaves the window 15 - 3 minutes from now
    assert 11 * 60 < caught.value.retry_after_seconds <= 12 * 60 + 1
    assert "登录失败次数过多" in str(caught.value)
    clock.now += timedelta(minutes=13)
    with ws.sessions() as session, session.begin():
        _sign_in(session, "zhou.jiu", GOOD, clock)
    with ws.sessions() as session:
        attempts = session.scalars(select(LoginAttempt.succeeded).order_by(LoginAttempt.id))
        assert list(attempts) == [False, False, False, True]  # the refused one is not recorded


def test_rate_limit_by_address_alone(ws: Workspace, clock: Clock) -> None:
    with ws.sessions() as session, session.begin():
        for n in range(3):
            ratelimit.record_attempt(session, f"guess{n}", "10.6.6.6", False, clock)
    with ws.sessions() as session:
        with pytest.raises(LoginRateLimited):
            ratelimit.check_allowed(session, "anyone", "10.6.6.6", LIMITS, clock)
        ratelimit.check_allowed(session, "anyone", "10.7.7.7", LIMITS, clock)


def test_production_hash_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real hasher (the fixture makes tests cheap) is argon2id, 64 MiB, t=3, p=4."""
    monkeypatch.undo()
    passwords.hasher.cache_clear()
    hashed = passwords.hash_password(GOOD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(hashed, GOOD)
    assert not passwords.verify_password(hashed, GOOD + "x")
    assert not passwords.verify_password("garbage", GOOD)
    assert not passwords.verify_password(None, GOOD)
    assert isinstance(passwords.hasher(), PasswordHasher)
