"""evidence ledger

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:43:54.699906
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_checkpoints",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("merkle_root", sa.String(length=64), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_evidence_checkpoints")),
    )
    op.create_table(
        "evidence_events",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_evidence_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_evidence_events_hash")),
    )
    with op.batch_alter_table("evidence_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_events_subject", ["subject_type", "subject_id", "seq"], unique=False
        )

    op.create_table(
        "evidence_heads",
        sa.Column("chain", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_evidence_heads")),
    )
    # The one chain's head starts at the genesis hash (the row lock on it serialises appends).
    heads = sa.table("evidence_heads", sa.column("chain"), sa.column("seq"), sa.column("hash"))
    op.bulk_insert(heads, [{"chain": "global", "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    # drop_table drops each table's indexes too (MySQL refuses dropping an FK index first)
    op.drop_table("evidence_heads")
    op.drop_table("evidence_events")
    op.drop_table("evidence_checkpoints")
