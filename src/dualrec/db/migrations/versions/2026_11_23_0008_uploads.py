"""resumable uploads from local QC agents (issue 7)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agent_uploads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("branch_id", BIG_ID, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("running_no", sa.String(length=64), nullable=False),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("recording_id", sa.String(length=36), nullable=True),
        sa.Column("artifacts", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("completed_at", dualrec.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_agent_uploads_branch_id_branches"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_uploads")),
        sa.UniqueConstraint("package_id", name=op.f("uq_agent_uploads_package_id")),
    )
    with op.batch_alter_table("agent_uploads", schema=None) as batch_op:
        for column in ("branch_id", "running_no", "status", "task_id", "created_at"):
            batch_op.create_index(batch_op.f(f"ix_agent_uploads_{column}"), [column], unique=False)

    op.create_table(
        "agent_upload_chunks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["agent_uploads.id"],
            name=op.f("fk_agent_upload_chunks_upload_id_agent_uploads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_upload_chunks")),
        sa.UniqueConstraint("upload_id", "start", name="uq_agent_upload_chunks_upload_id_start"),
    )
    with op.batch_alter_table("agent_upload_chunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_upload_chunks_upload_id"), ["upload_id"], unique=False)


def downgrade() -> None:
    # children first; dropping a table drops its indexes (MySQL refuses FK-index drops first)
    op.drop_table("agent_upload_chunks")
    op.drop_table("agent_uploads")
