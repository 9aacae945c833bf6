"""Fixtures for the closed loop: people, organisations and findings.

`seeded` writes organisations, users and findings straight into the database (fast; for
rules that do not need the lake); `lake_loop` ingests the example province and runs the
real detectors, for verification, which must re-run them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from longpan.cases.batches import approve_batch, create_batch, issue_batch
from longpan.cases.selection import FindingFilter
from longpan.detect.runner import run_detection
from longpan.detect.store import fingerprint
from longpan.resources.ingest import ingest_folder
from longpan.store.db import transaction
from longpan.store.models import AuditEntry, Finding, Organisation, User
from longpan.store.workspace import Workspace
from tests.conftest import StepClock

ORG_A = ("91320115MA1N4Q7K0N", "南京云擎数据科技有限公司")
ORG_B = ("91320505MA1MT2H35C", "苏州星桥云计算有限公司")
UNREGISTERED = "91320211586621401N"
LOOP_TYPES = ["dissolved_subject", "domain_moved_abroad"]


@dataclass
class People:
    analyst: User
    supervisor: User
    supervisor2: User
    admin: User
    auditor: User
    ent_a: User
    ent_b: User
    by_name: dict[str, User] = field(default_factory=dict)


def add_user(
    session: Any,
    username: str,
    role: str,
    org: Organisation | None = None,
    email: str | None = None,
) -> User:
    user = User(
        username=username,
        display_name=username,
        role=role,
        organisation_id=org.id if org else None,
        is_active=True,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        email=email,
    )
    session.add(user)
    session.flush()
    return user


def add_org(session: Any, uscc: str, name: str) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.uscc == uscc))
    if found:
        return found  # type: ignore[no-any-return]
    now = datetime(2024, 1, 1, tzinfo=UTC)
    org = Organisation(uscc=uscc, name=name, created_at=now, updated_at=now)
    session.add(org)
    session.flush()
    return org


Login = tuple[str, str]  # (username, e-mail)


def add_people(
    session: Any, units: tuple[Organisation, Organisation], logins: tuple[Login, Login]
) -> People:
    """Regulator staff (two supervisors for four-eyes) and one enterprise user per unit."""
    (a, b), ((user_a, mail_a), (user_b, mail_b)) = units, logins
    return People(
        analyst=add_user(session, "ana", "analyst"),
        supervisor=add_user(session, "sup", "supervisor"),
        supervisor2=add_user(session, "sup2", "supervisor"),
        admin=add_user(session, "root", "admin"),
        auditor=add_user(session, "aud", "auditor"),
        ent_a=add_user(session, user_a, "enterprise", a, mail_a),
        ent_b=add_user(session, user_b, "enterprise", b, mail_b),
    )


def make_people(ws: Workspace) -> People:
    with transaction(ws.sessions) as session:
        units = (add_org(session, *ORG_A), add_org(session, *ORG_B))
        logins = (("ent_a", "ent_a@example.test"), ("ent_b", "ent_b@example.test"))
        return add_people(session, units, logins)


def add_finding(
    session: Any,
    finding_type: str,
    subject: str,
    responsible: str | None,
    *,
    severity: str = "high",
    status: str = "open",
    first_seen: datetime = datetime(2024, 6, 1, tzinfo=UTC),
) -> Finding:
    finding = Finding(
        fingerprint=fingerprint(finding_type, subject),
        type=finding_type,
        severity=severity,
        subject=subject,
        evidence={"reason": f"test evidence for {subject}", "snapshots": {"x": "1"}},
        detector=finding_type,
        detector_version="1",
        status=status,
        observed=True,
        responsible_uscc=responsible,
        first_seen=first_seen,
        last_seen=first_seen,
    )
    session.add(finding)
    session.flush()
    return finding


@pytest.fixture
def seeded(ws: Workspace) -> Iterator[tuple[Workspace, People, dict[str, int]]]:
    """Two organisations with findings (one of a type no detector knows), one finding
    without a responsible organisation, one whose organisation is not registered."""
    people = make_people(ws)
    ids: dict[str, int] = {}
    with transaction(ws.sessions) as session:
        for key, ftype, subject, org in (
            ("a1", "dissolved_subject", "苏ICP备16078901号", ORG_A[0]),
            ("a2", "later_capability_type", "221.226.1.10:8080", ORG_A[0]),
            ("b1", "dissolved_subject", "苏ICP备2019034567号", ORG_B[0]),
            ("none", "unfiled_website", "nobody.example.com", None),
            ("unreg", "shell_website", "yidawuliu.com", UNREGISTERED),
        ):
            ids[key] = add_finding(session, ftype, subject, org).id
    yield ws, people, ids


def issued_batch(
    ws: Workspace, people: People, filters: FindingFilter, number: str = "苏通信安〔2024〕5号"
) -> int:
    """Create, approve and issue a batch; returns its id."""
    batch = create_batch(
        ws,
        people.analyst,
        title="2024年第5批网络安全通报",
        document_number=number,
        filters=filters,
        deadline_days=10,
        issuing_office="江苏省通信管理局",
        address="10.0.0.1",
    )
    approve_batch(ws, people.supervisor, batch.id, address="10.0.0.2")
    issue_batch(ws, people.analyst, batch.id, address="10.0.0.1")
    return batch.id


def audit_actions(ws: Workspace) -> list[tuple[str, str, str | None]]:
    with ws.sessions() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.actor, r.action, r.address) for r in rows]


def set_clock(ws: Workspace, when: datetime) -> None:
    assert isinstance(ws.clock, StepClock)
    ws.clock.now = when


def set_entity_status(folder: Path, uscc: str, status: str) -> None:
    path = folder / "entities.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["uscc"] == uscc:
            row["status"] = status
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def lake_loop(ws: Workspace, example_copy: Path) -> tuple[Workspace, People, Path]:
    """The example province ingested and detected, with the loop's people."""
    ingest_folder(ws, example_copy)
    result = run_detection(ws, only=LOOP_TYPES)
    assert result.status == "succeeded", result.errors
    people = make_people(ws)
    return ws, people, example_copy
