"""Keep the database's organisations in step with the lake's organisations table."""

from __future__ import annotations

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.core.clock import Clock, utc_now
from longpan.store.db import audit
from longpan.store.models import Organisation, OrganisationRole


def sync_organisations(
    session: Session, table: pa.Table, *, actor: str, clock: Clock = utc_now
) -> tuple[int, int]:
    """Insert new organisations and update changed ones; returns (created, updated).

    Organisations missing from the table are kept: users and notices may refer to them.
    """
    existing = {o.uscc: o for o in session.scalars(select(Organisation))}
    created = updated = 0
    now = clock()
    for row in table.select(["uscc", "name", "roles"]).to_pylist():
        org = existing.get(row["uscc"])
        roles = sorted(set(row["roles"]))
        if org is None:
            org = Organisation(
                uscc=row["uscc"],
                name=row["name"],
                created_at=now,
                updated_at=now,
                role_rows=[OrganisationRole(role=r) for r in roles],
            )
            session.add(org)
            created += 1
            audit(
                session,
                actor=actor,
                action="organisation.created",
                object_type="organisation",
                object_id=row["uscc"],
                details={"name": row["name"], "roles": roles},
                clock=clock,
            )
        elif org.name != row["name"] or org.roles != roles:
            before = {"name": org.name, "roles": org.roles}
            org.name = row["name"]
            _set_roles(org, roles)
            org.updated_at = now
            updated += 1
            audit(
                session,
                actor=actor,
                action="organisation.updated",
                object_type="organisation",
                object_id=row["uscc"],
                clock=clock,
                details={"before": before, "after": {"name": row["name"], "roles": roles}},
            )
    return created, updated


def _set_roles(org: Organisation, roles: list[str]) -> None:
    """Change the role rows in place (re-adding an unchanged role would clash on its key)."""
    for row in [r for r in org.role_rows if r.role not in roles]:
        org.role_rows.remove(row)
    org.role_rows.extend(OrganisationRole(role=r) for r in roles if r not in org.roles)
