"""What the loop's page groups (batches, notices, inbox, escalation, decisions) share:
role dependencies, the actor handed to cases/, ids in paths, the lake lock.

Not a route module (it has no ``router``): the groups import it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends

from longpan.accounts.users import Account
from longpan.cases.access import Actor
from longpan.web.context import WebContext
from longpan.web.deps import RecordId, require_roles

T = TypeVar("T")
__all__ = [
    "READERS",
    "STAFF",
    "Enterprise",
    "Reader",
    "RecordId",
    "Staff",
    "Supervisor",
    "actor",
    "on_lake",
]

STAFF = ("admin", "supervisor", "analyst")
READERS = (*STAFF, "auditor")

Reader = Annotated[Account, Depends(require_roles(*READERS))]
Staff = Annotated[Account, Depends(require_roles(*STAFF))]
Supervisor = Annotated[Account, Depends(require_roles("supervisor"))]
Enterprise = Annotated[Account, Depends(require_roles("enterprise"))]


def actor(account: Account) -> Actor:
    """The signed-in account as cases/' actor: it reads only ``.id`` and re-loads the
    user itself, so a deactivated account or a changed role takes effect at once."""
    return account


def on_lake(ctx: WebContext, work: Callable[[], T]) -> T:
    """Run a service that uses the shared analytics connection (verification re-runs a
    detector; a batch filtered by city reads the lake), one thread at a time."""
    with ctx.lake_lock:
        return work()
