"""TAXII 2.1 collections as the platform keeps them: stored collections (the regulator's
warnings, 预警通报) and one virtual collection of sightings made from ioc_hit findings.

Who may read (the rule, see docs/threat.md): regulator roles read every collection; an
enterprise reads a stored collection only when its organisation has been granted it
(``taxii_grants``), and in the sightings collection only its own organisation's hits.
Who may write is decided by the web layer (analysts, supervisors, admins); the
sightings collection is never writable. Every change (collection, grant, objects added)
is audited.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.core.clock import Clock, utc_now
from longpan.core.errors import InputError, NotFoundError
from longpan.store.db import audit
from longpan.store.models import ACTIVE_STATUSES, Finding, Organisation
from longpan.threat.models import TaxiiCollection, TaxiiGrant, TaxiiObject, TaxiiStatus

NAMESPACE = uuid.UUID("0b6c1a3e-7f0f-4c57-a3f5-1c0f6e9b2d11")
SIGHTINGS_ID = str(uuid.uuid5(NAMESPACE, "longpan:sightings"))
MEDIA_STIX = "application/stix+json;version=2.1"


@dataclass(frozen=True)
class Reader:
    """Who asks: a regulator role (``organisation_uscc`` None) or one organisation."""

    actor: str
    organisation_uscc: str | None = None


@dataclass(frozen=True)
class CollectionInfo:
    id: str
    title: str
    description: str
    stored: bool  # False: the virtual sightings collection (read-only)


@dataclass(frozen=True)
class Filters:
    added_after: datetime | None = None
    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    version: str = "last"  # last | first | all


@dataclass
class Page:
    rows: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)
    more: bool = False
    next: str | None = None

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [body for _, body in self.rows]


def create_collection(
    session: Session, title: str, description: str = "", *, actor: str, clock: Clock = utc_now
) -> CollectionInfo:
    if not title.strip():
        raise InputError("a collection needs a title", column="title")
    row = TaxiiCollection(
        id=str(uuid.uuid4()),
        title=title.strip(),
        description=description,
        created_at=clock(),
        created_by=actor,
    )
    session.add(row)
    audit(
        session,
        actor=actor,
        action="taxii.collection_created",
        object_type="taxii_collection",
        object_id=row.id,
        details={"title": row.title},
        clock=clock,
    )
    return CollectionInfo(row.id, row.title, row.description, True)


def grant(
    session: Session, collection_id: str, uscc: str, *, actor: str, clock: Clock = utc_now
) -> None:
    """Let the organisation ``uscc`` read a stored collection (idempotent)."""
    collection = session.get(TaxiiCollection, collection_id)
    org = session.scalar(select(Organisation).where(Organisation.uscc == uscc))
    if collection is None or org is None:
        raise NotFoundError(f"no collection {collection_id} or no organisation {uscc}")
    if session.get(TaxiiGrant, (collection_id, org.id)) is not None:
        return
    session.add(
        TaxiiGrant(
            collection_id=collection_id,
            organisation_id=org.id,
            granted_at=clock(),
            granted_by=actor,
        )
    )
    audit(
        session,
        actor=actor,
        action="taxii.collection_granted",
        object_type="taxii_collection",
        object_id=collection_id,
        details={"organisation": uscc},
        clock=clock,
    )


def sightings_info() -> CollectionInfo:
    return CollectionInfo(
        SIGHTINGS_ID,
        "命中通报 Sightings",
        "ioc_hit findings as STIX sightings (an enterprise sees only its own units' hits)",
        False,
    )


def visible_collections(session: Session, reader: Reader) -> list[CollectionInfo]:
    query = select(TaxiiCollection).order_by(TaxiiCollection.created_at, TaxiiCollection.id)
    if reader.organisation_uscc is not None:
        granted = (
            select(TaxiiGrant.collection_id)
            .join(Organisation, TaxiiGrant.organisation_id == Organisation.id)
            .where(Organisation.uscc == reader.organisation_uscc)
        )
        query = query.where(TaxiiCollection.id.in_(granted))
    stored = [CollectionInfo(c.id, c.title, c.description, True) for c in session.scalars(query)]
    return [*stored, sightings_info()]


def get_collection(session: Session, reader: Reader, collection_id: str) -> CollectionInfo:
    """The collection if ``reader`` may see it (else NotFoundError: no hint it exists)."""
    for info in visible_collections(session, reader):
        if info.id == collection_id:
            return info
    raise NotFoundError(f"no TAXII collection {collection_id}")


def add_objects(
    session: Session,
    collection_id: str,
    objects: Iterable[Any],
    *,
    actor: str,
    clock: Clock = utc_now,
) -> TaxiiStatus:
    """Store each valid object version (a version already held is a success, unchanged)."""
    now = clock()
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for obj in objects:
        problem = _problem(obj)
        if problem:
            failures.append({"id": _id_of(obj), "message": problem})
            continue
        version = obj.get("modified") or obj.get("created") or "1"
        key = (collection_id, obj["id"], version)
        if session.get(TaxiiObject, key) is None:
            session.add(
                TaxiiObject(
                    collection_id=collection_id,
                    object_id=obj["id"],
                    version=version,
                    type=obj["type"],
                    date_added=now,
                    body=obj,
                )
            )
        successes.append({"id": obj["id"], "version": version})
    status = TaxiiStatus(
        id=str(uuid.uuid4()),
        collection_id=collection_id,
        status="complete",
        request_timestamp=now,
        total_count=len(successes) + len(failures),
        success_count=len(successes),
        failure_count=len(failures),
        pending_count=0,
        successes=successes,
        failures=failures,
        posted_by=actor,
    )
    session.add(status)
    audit(
        session,
        actor=actor,
        action="taxii.objects_added",
        object_type="taxii_collection",
        object_id=collection_id,
        clock=clock,
        details={"status": status.id, "added": len(successes), "failed": len(failures)},
    )
    return status


def _id_of(obj: Any) -> str:
    return str(obj.get("id", "")) if isinstance(obj, dict) else ""


def _problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return "not a STIX object"
    ident, kind = obj.get("id"), obj.get("type")
    if not isinstance(kind, str) or not isinstance(ident, str) or not ident.startswith(f"{kind}--"):
        return "a STIX object needs a type and an id '<type>--<uuid>'"
    if obj.get("spec_version") != "2.1" and kind not in ("marking-definition",):
        return "only STIX 2.1 objects (spec_version '2.1') are accepted"
    for name in ("created", "modified"):
        if name in obj and not _is_timestamp(obj[name]):
            return f"{name} is not a STIX timestamp"
    return None


def _is_timestamp(value: Any) -> bool:
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def get_status(session: Session, status_id: str, reader: Reader) -> TaxiiStatus:
    status = session.get(TaxiiStatus, status_id)
    if status is None or (
        reader.organisation_uscc is not None and status.posted_by != reader.actor
    ):
        raise NotFoundError(f"no TAXII status {status_id}")
    return status


def collection_rows(
    session: Session, reader: Reader, info: CollectionInfo
) -> list[tuple[datetime, dict[str, Any]]]:
    """(date_added, object) of every object version the reader may see, oldest first."""
    if not info.stored:
        return sighting_rows(session, reader)
    query = (
        select(TaxiiObject.date_added, TaxiiObject.body)
        .where(TaxiiObject.collection_id == info.id)
        .order_by(TaxiiObject.date_added, TaxiiObject.object_id, TaxiiObject.version)
    )
    return [(added, body) for added, body in session.execute(query)]


def select_page(
    rows: list[tuple[datetime, dict[str, Any]]], filters: Filters, offset: int, limit: int
) -> Page:
    """Filter (added_after, match[type|id|version]) and cut one page."""
    chosen = [
        (added, body)
        for added, body in rows
        if (filters.added_after is None or added > filters.added_after)
        and (filters.types is None or body.get("type") in filters.types)
        and (filters.ids is None or body.get("id") in filters.ids)
    ]
    chosen = _versions(chosen, filters.version)
    page = chosen[offset : offset + limit]
    more = offset + limit < len(chosen)
    return Page(page, more, str(offset + limit) if more else None)


def _versions(
    rows: list[tuple[datetime, dict[str, Any]]], wanted: str
) -> list[tuple[datetime, dict[str, Any]]]:
    if wanted == "all":
        return rows
    by_id: dict[str, list[tuple[datetime, dict[str, Any]]]] = defaultdict(list)
    for row in rows:
        by_id[row[1]["id"]].append(row)
    keep = set()
    for versions in by_id.values():
        ordered = sorted(versions, key=lambda r: str(r[1].get("modified", r[1].get("created"))))
        pick = ordered[0] if wanted == "first" else ordered[-1]
        keep.add(id(pick[1]))
    return [row for row in rows if id(row[1]) in keep]


# -- sightings from ioc_hit findings -----------------------------------------------------
def sighting_rows(session: Session, reader: Reader) -> list[tuple[datetime, dict[str, Any]]]:
    query = (
        select(Finding)
        .where(Finding.type == "ioc_hit", Finding.status.in_(ACTIVE_STATUSES))
        .order_by(Finding.last_seen, Finding.subject)
    )
    if reader.organisation_uscc is not None:
        query = query.where(Finding.responsible_uscc == reader.organisation_uscc)
    rows: list[tuple[datetime, dict[str, Any]]] = []
    identities: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for finding in session.scalars(query):
        uscc = finding.subject.partition(":")[0]
        identity = identity_object(uscc, finding.first_seen)
        identities.setdefault(uscc, (finding.first_seen, identity))
        rows.append((finding.last_seen, sighting_object(finding, identity["id"])))
    return sorted([*identities.values(), *rows], key=lambda r: (r[0], r[1]["id"]))


def stix_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def identity_object(uscc: str, created: datetime) -> dict[str, Any]:
    stamp = stix_time(datetime(2024, 1, 1, tzinfo=UTC))
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid5(NAMESPACE, uscc)}",
        "created": stamp,
        "modified": stamp,
        "name": uscc,
        "identity_class": "organization",
        "x_longpan_uscc": uscc,
    }


def sighting_object(finding: Finding, identity_id: str) -> dict[str, Any]:
    evidence = finding.evidence
    indicators = evidence.get("indicators") or [{}]
    indicator_id = indicators[0].get("indicator_id") or "indicator--unknown"
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid5(NAMESPACE, finding.fingerprint)}",
        "created": stix_time(finding.first_seen),
        "modified": stix_time(finding.last_seen),
        "sighting_of_ref": indicator_id,
        "where_sighted_refs": [identity_id],
        "first_seen": _as_stix(evidence.get("first_seen")),
        "last_seen": _as_stix(evidence.get("last_seen")),
        "count": int(evidence.get("count") or 1),
        "description": f"{finding.subject} ({finding.severity}, {finding.status})",
        "x_longpan_subject": finding.subject,
        "x_longpan_indicator_value": evidence.get("indicator", {}).get("value"),
    }


def _as_stix(value: Any) -> str | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return stix_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
