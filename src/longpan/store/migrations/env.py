"""Alembic environment: always run with a connection handed in by longpan.store.db.migrate."""

from alembic import context

from longpan.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through longpan.store.db.migrate() or `longpan init`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
