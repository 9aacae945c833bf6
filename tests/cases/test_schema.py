"""Migration 0003: the loop's tables match the models on both backends, CHECK
constraints hold, and the migration goes down and up again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from longpan.store.db import migrate, transaction
from longpan.store.models import Answer, Base, Batch
from longpan.store.workspace import Workspace
from tests.cases.conftest import make_people

LOOP_TABLES = {
    "batches",
    "notices",
    "notice_items",
    "answers",
    "attachments",
    "verifications",
    "reminders",
}


def _about_the_loop(diff: Any) -> bool:
    """Whether an alembic schema difference concerns one of the loop's tables."""
    text = repr(diff)
    return any(f"'{table}'" in text or f"<{table}>" in text for table in LOOP_TABLES)


def test_the_migration_matches_the_models(ws: Workspace) -> None:
    assert LOOP_TABLES <= set(inspect(ws.db).get_table_names())
    assert "email" in {c["name"] for c in inspect(ws.db).get_columns("users")}
    with ws.db.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    mine = [d for d in diffs if _about_the_loop(d)]
    assert mine == []


def test_down_and_up_again(ws: Workspace) -> None:
    migrate(ws.db, "0003")
    from alembic import command
    from alembic.config import Config

    from longpan.store.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with ws.db.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    assert not LOOP_TABLES & set(inspect(ws.db).get_table_names())
    migrate(ws.db)
    assert LOOP_TABLES <= set(inspect(ws.db).get_table_names())


def test_check_constraints(ws: Workspace) -> None:
    people = make_people(ws)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    fields = {
        "title": "t",
        "document_number": "N",
        "filters": {},
        "deadline_days": 5,
        "issuing_office": "o",
        "created_by_id": people.analyst.id,
        "created_at": now,
    }
    for bad, constraint in (({"status": "sent"}, "status"), ({"deadline_days": 0}, "deadline")):
        with pytest.raises(IntegrityError, match=constraint), transaction(ws.sessions) as session:
            session.add(Batch(**{**fields, "status": "draft", **bad}))
    with (
        pytest.raises(IntegrityError, match="extension_date"),
        transaction(ws.sessions) as session,
    ):
        session.add(  # an extension without the date asked for
            Answer(item_id=1, kind="extension", text="x", author_id=people.ent_a.id,
                   created_at=now, decision="pending")
        )  # fmt: skip
