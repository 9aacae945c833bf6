"""The demo's closed loop: demo users for every role and one issued batch, made through
the same services the web uses (accounts, cases), so the UI opens on a working loop.

Re-running reuses what exists: the users keep their accounts and get new generated
passwords (their old ones were only ever printed), and the batch is found by its
document number and taken on to ``issued`` if an earlier run stopped half-way.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from longpan.accounts.users import create_user, find_user, reset_password
from longpan.cases.batches import BatchView, approve_batch, create_batch, get_batch, issue_batch
from longpan.cases.selection import FindingFilter
from longpan.cli.common import out
from longpan.store.db import transaction
from longpan.store.models import Batch, Finding, Organisation, OrganisationRole, User
from longpan.store.workspace import Workspace

TITLE, DOCUMENT_NUMBER = "2024年第5批网络安全通报", "苏通信安〔2024〕5号"
ISSUING_OFFICE, DEADLINE_DAYS = "江苏省通信管理局", 10
STAFF = (
    ("demo-admin", "admin"),
    ("demo-supervisor", "supervisor"),
    ("demo-analyst", "analyst"),
    ("demo-auditor", "auditor"),
)
ENTERPRISE_USER = "demo-enterprise"
ORGANISATIONS, FINDINGS_PER_ORG = 3, 15
ACTOR = "system:demo"


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    organisation: str = ""


def demo_loop(ws: Workspace) -> list[Login]:
    """Demo users, then the demo batch (analyst builds, supervisor approves, issued)."""
    logins = [_ensure_user(ws, name, role) for name, role in STAFF]
    batch = _issued_batch(ws, _user(ws, "demo-analyst"), _user(ws, "demo-supervisor"))
    out.print(
        f"5. loop: batch 《{batch.title}》 ({batch.document_number}) {batch.status}: "
        f"{batch.notice_count} notices, {batch.finding_count} findings"
    )
    top = _top_organisation(batch)
    if top is not None:
        logins.append(_ensure_user(ws, ENTERPRISE_USER, "enterprise", top))
    return logins


def print_logins(logins: list[Login]) -> None:
    table = Table(title="演示账号 (demo logins) — http://127.0.0.1:8000/login")
    for column in ("用户名 username", "密码 password", "角色 role", "单位 organisation"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, login.password, login.role, login.organisation)
    out.print(table)


def _ensure_user(ws: Workspace, username: str, role: str, org_uscc: str | None = None) -> Login:
    """Create the user, or give the existing one a new generated password."""
    password = secrets.token_urlsafe(12)
    with transaction(ws.sessions) as session:
        existing = find_user(session, username)
        if existing is None:
            create_user(
                session,
                username=username,
                role=role,
                password=password,
                actor=ACTOR,
                org_uscc=org_uscc,
                display_name=f"演示{role}",
                clock=ws.clock,
            )
        else:
            reset_password(session, existing.id, new_password=password, actor=ACTOR, clock=ws.clock)
            role = existing.role
        name = _organisation_name(session, username)
    return Login(username, password, role, name)


def _organisation_name(session: Session, username: str) -> str:
    query = (
        select(Organisation.name)
        .join(User, User.organisation_id == Organisation.id)
        .where(User.username == username)
    )
    return str(session.scalar(query) or "")


def _user(ws: Workspace, username: str) -> User:
    with ws.sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(user)
        return user


def _issued_batch(ws: Workspace, analyst: User, supervisor: User) -> BatchView:
    with ws.sessions() as session:
        found = session.scalar(select(Batch).where(Batch.document_number == DOCUMENT_NUMBER))
        batch_id, status = (found.id, found.status) if found else (None, None)
    if batch_id is None:
        batch_id = create_batch(
            ws,
            analyst,
            title=TITLE,
            document_number=DOCUMENT_NUMBER,
            filters=FindingFilter(finding_ids=tuple(_chosen_findings(ws))),
            deadline_days=DEADLINE_DAYS,
            issuing_office=ISSUING_OFFICE,
        ).id
        status = "draft"
    if status == "draft":
        approve_batch(ws, supervisor, batch_id)
        status = "approved"
    if status == "approved":
        issue_batch(ws, analyst, batch_id)
    return get_batch(ws, analyst, batch_id)


def _chosen_findings(ws: Workspace) -> list[int]:
    """Open findings of the access providers with the most of them (a few each, so the
    notices stay readable)."""
    with ws.sessions() as session:
        providers = (
            select(Organisation.uscc)
            .join(OrganisationRole, OrganisationRole.organisation_id == Organisation.id)
            .where(OrganisationRole.role == "access_provider")
        )
        top = session.scalars(
            select(Finding.responsible_uscc)
            .where(Finding.status == "open", Finding.responsible_uscc.in_(providers))
            .group_by(Finding.responsible_uscc)
            .order_by(func.count().desc(), Finding.responsible_uscc)
            .limit(ORGANISATIONS)
        ).all()
        chosen: list[int] = []
        for uscc in top:
            chosen += session.scalars(
                select(Finding.id)
                .where(Finding.status == "open", Finding.responsible_uscc == uscc)
                .order_by(Finding.id)
                .limit(FINDINGS_PER_ORG)
            ).all()
    return chosen


def _top_organisation(batch: BatchView) -> str | None:
    """The organisation with the most findings in the batch (its enterprise user)."""
    notices = sorted(batch.notices, key=lambda n: (-n.item_count, n.organisation_uscc))
    return notices[0].organisation_uscc if notices else None
