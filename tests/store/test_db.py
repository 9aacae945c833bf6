"""The database: the same migrations on SQLite and PostgreSQL, audit log append-only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import sessionmaker

from longpan.detect.store import jsonable
from longpan.store.db import (
    MIGRATIONS_DIR,
    audit,
    head_revision,
    is_migrated,
    make_engine,
    migrate,
    transaction,
)
from longpan.store.models import AuditEntry, Organisation, OrganisationRole, User
from longpan.store.workspace import Workspace

TABLES = {
    "organisations",
    "organisation_roles",
    "users",
    "findings",
    "detection_runs",
    "audit_log",
    "alembic_version",
}


def test_migrations_create_every_table(ws: Workspace) -> None:
    assert TABLES <= set(inspect(ws.db).get_table_names())
    assert is_migrated(ws.db)
    migrate(ws.db)  # idempotent: running again changes nothing
    assert TABLES <= set(inspect(ws.db).get_table_names())


def test_head_revision_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_database_behind_head_is_still_upgraded(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine, "0001")
    assert "findings" in inspect(engine).get_table_names()
    assert "alembic_version" in inspect(engine).get_table_names()
    migrate(engine)  # not at head: the fast path must not skip it
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_audit_log_refuses_update_and_delete(ws: Workspace) -> None:
    with transaction(ws.sessions) as session:
        audit(
            session,
            actor="tester",
            action="thing.done",
            object_type="thing",
            object_id="1",
            clock=ws.clock,
        )
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises((IntegrityError, DBAPIError)), ws.db.begin() as conn:
            conn.execute(text(statement))
    with ws.sessions() as session:
        entries = session.scalars(select(AuditEntry)).all()
    assert [(e.actor, e.action) for e in entries] == [("tester", "thing.done")]
    assert entries[0].at.tzinfo is not None  # timezone-aware on every backend


def test_enterprise_user_needs_an_organisation(ws: Workspace) -> None:
    now = ws.clock()
    with pytest.raises(IntegrityError), transaction(ws.sessions) as session:
        session.add(User(username="u1", role="enterprise", created_at=now))
    with transaction(ws.sessions) as session:
        org = Organisation(
            uscc="91320000134789577G",
            name="某公司",
            created_at=now,
            updated_at=now,
            role_rows=[OrganisationRole(role="access_provider")],
        )
        session.add(org)
        session.flush()
        session.add(User(username="u2", role="enterprise", organisation_id=org.id, created_at=now))
    with ws.sessions() as session:
        assert session.scalars(select(User.username)).all() == ["u2"]


def test_role_values_are_checked(ws: Workspace) -> None:
    now = ws.clock()
    with pytest.raises(IntegrityError), transaction(ws.sessions) as session:
        session.add(User(username="x", role="superuser", created_at=now))


def test_json_columns_store_dates_sets_and_decimals_as_plain_json(database_url: str) -> None:
    """A detector's evidence goes to the database as it is: what JSON lacks is written as
    ``jsonable`` renders it (ISO dates, sets as sorted lists, decimals as text), on both
    databases; something that is not JSON at all is refused, not stored half-way."""
    engine = make_engine(database_url)
    migrate(engine)
    details = {
        "seen": datetime(2024, 12, 31, 8, 30, tzinfo=UTC),
        "day": date(2024, 12, 1),
        "names": {"b.example", "a.example"},
        "score": Decimal("9.8"),
        "pair": ("x", 1),
        "nested": [{"at": date(2024, 1, 2), 3: None}],
    }
    with transaction(sessionmaker(engine)) as session:
        audit(
            session, actor="t", action="test.json", object_type="t", object_id="1", details=details
        )
    with engine.connect() as conn:
        stored = conn.execute(
            select(AuditEntry.details).where(AuditEntry.action == "test.json")
        ).scalar_one()
    assert stored == jsonable(details)
    assert stored["names"] == ["a.example", "b.example"]
    assert stored["seen"] == "2024-12-31T08:30:00+00:00" and stored["score"] == "9.8"
    # SQLAlchemy wraps the encoder's TypeError on SQLite; psycopg encodes it itself
    refused = pytest.raises((TypeError, StatementError), match="not JSON serialisable")
    with refused, transaction(sessionmaker(engine)) as session:
        audit(
            session, actor="t", action="test.bad", object_type="t", object_id="2",
            details={"x": object()},
        )  # fmt: skip
    with engine.connect() as conn:
        bad = select(AuditEntry.id).where(AuditEntry.action == "test.bad")
        assert conn.execute(bad).first() is None
    engine.dispose()
