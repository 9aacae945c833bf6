"""TAXII 2.1 server: collections, grants to organisations, objects, write status

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "taxii_collections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_collections")),
    )
    op.create_table(
        "taxii_grants",
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            ondelete="CASCADE",
            name=op.f("fk_taxii_grants_collection_id_taxii_collections"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            ondelete="CASCADE",
            name=op.f("fk_taxii_grants_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("collection_id", "organisation_id", name=op.f("pk_taxii_grants")),
    )
    op.create_table(
        "taxii_objects",
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("date_added", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            ondelete="CASCADE",
            name=op.f("fk_taxii_objects_collection_id_taxii_collections"),
        ),
        sa.PrimaryKeyConstraint(
            "collection_id", "object_id", "version", name=op.f("pk_taxii_objects")
        ),
    )
    op.create_index(
        "ix_taxii_objects_added", "taxii_objects", ["collection_id", "date_added"], unique=False
    )
    op.create_table(
        "taxii_status",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("pending_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("posted_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_status")),
    )


def downgrade() -> None:
    op.drop_table("taxii_status")
    op.drop_index("ix_taxii_objects_added", table_name="taxii_objects")
    op.drop_table("taxii_objects")
    op.drop_table("taxii_grants")
    op.drop_table("taxii_collections")
