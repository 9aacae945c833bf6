"""The platform database: engine, sessions, migrations and the audit helper."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from longpan.core.clock import Clock, utc_now
from longpan.core.errors import ConfigError, UpstreamError
from longpan.core.extras import require
from longpan.store.models import AuditEntry

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and its folder created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"LONGPAN_DATABASE_URL is not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "postgresql":
        require("postgres", "psycopg")
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, json_serializer=dumps_json)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def plain_json(value: Any) -> Any:
    """What ``json`` does not encode by itself, as plain JSON: dates and times as ISO
    strings, sets as lists sorted by their text, decimals as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# JSON columns (finding evidence, audit details) are encoded by json's C encoder in one
# pass, the few values it does not know handed to ``plain_json``: walking a province's
# evidence in Python first cost more than encoding it.
dumps_json = functools.partial(json.dumps, default=plain_json)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (the same migrations on every backend)."""
    if revision == "head" and _stored_revision(engine) == head_revision():
        return  # every command starts here: skip importing and running Alembic
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise UpstreamError(f"cannot migrate the database: {exc.orig}") from None


_REVISION = re.compile(r'^(down_)?revision\s*=\s*(?:"([^"]*)"|None)', re.MULTILINE)


def head_revision() -> str | None:
    """The newest migration: the one no other migration names as its predecessor."""
    revisions: set[str] = set()
    predecessors: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text("utf-8")):
            (predecessors if down else revisions).add(value)
    heads = revisions - predecessors
    return heads.pop() if len(heads) == 1 else None  # several heads: let Alembic decide


def _stored_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no such table yet, or no database: Alembic reports it
        return None


def is_migrated(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any] | None = None,
    address: str | None = None,
    clock: Clock = utc_now,
) -> None:
    """Record a state change in the append-only audit log (inside the caller's transaction)."""
    session.add(
        AuditEntry(
            at=clock(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details=details or {},
            address=address,
        )
    )
