"""Database tables of the TAXII 2.1 server: collections, who may read them, the STIX
objects they hold, and the status of each write (migration 0004)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from longpan.store.models.base import Base


class TaxiiCollection(Base):
    __tablename__ = "taxii_collections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a UUID
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class TaxiiGrant(Base):
    """An enterprise may read a collection only when its organisation is granted it."""

    __tablename__ = "taxii_grants"

    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    granted_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(64))


class TaxiiObject(Base):
    """One version of a STIX object in a collection (version = its ``modified``)."""

    __tablename__ = "taxii_objects"
    __table_args__ = (Index("ix_taxii_objects_added", "collection_id", "date_added"),)

    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE"), primary_key=True
    )
    object_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    date_added: Mapped[datetime]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class TaxiiStatus(Base):
    """The outcome of one POST of objects (TAXII status resource)."""

    __tablename__ = "taxii_status"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    collection_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    request_timestamp: Mapped[datetime]
    total_count: Mapped[int] = mapped_column(Integer)
    success_count: Mapped[int] = mapped_column(Integer)
    failure_count: Mapped[int] = mapped_column(Integer)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[list[Any]] = mapped_column(JSON)
    failures: Mapped[list[Any]] = mapped_column(JSON)
    posted_by: Mapped[str] = mapped_column(String(64))
