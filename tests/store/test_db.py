"""The database: the same migrations on SQLite and PostgreSQL, audit log append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

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
