"""recordings and QC state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:12:12.666166
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("running_no", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("risk_score", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("artifacts", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("finished_at", dualrec.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_recordings_branch_id_branches"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recordings_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_running_no"), ["running_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_verdict"), ["verdict"], unique=False)


def downgrade() -> None:
    op.drop_table("recordings")  # drops its indexes too (MySQL refuses FK-index drops first)
