"""live self-service sessions, recording chunks and markers (issue 6)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _big_id() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
    )


def upgrade() -> None:
    t = dualrec.db.base.UTCDateTime
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flow_state", sa.JSON(), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("final_seqs", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recording_id", sa.String(length=36), nullable=True),
        sa.Column("started_at", t(), nullable=False),
        sa.Column("last_seen_at", t(), nullable=False),
        sa.Column("finished_at", t(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_live_sessions_task_id_tasks"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
        sa.UniqueConstraint("task_id", "attempt_no", name="uq_live_sessions_task_attempt"),
    )
    op.create_index(op.f("ix_live_sessions_task_id"), "live_sessions", ["task_id"])
    op.create_index(op.f("ix_live_sessions_status"), "live_sessions", ["status"])
    op.create_index(op.f("ix_live_sessions_last_seen_at"), "live_sessions", ["last_seen_at"])
    op.create_table(
        "session_chunks",
        _big_id(),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blob_key", sa.String(length=200), nullable=False),
        sa.Column("received_at", t(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_session_chunks_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_chunks")),
        sa.UniqueConstraint("session_id", "segment", "seq", name="uq_session_chunks_session_segment_seq"),
    )
    op.create_index(op.f("ix_session_chunks_session_id"), "session_chunks", ["session_id"])
    op.create_table(
        "session_events",
        _big_id(),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("t", sa.Double(), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", t(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_session_events_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_events")),
    )
    op.create_index(op.f("ix_session_events_session_id"), "session_events", ["session_id"])


def downgrade() -> None:
    op.drop_table("session_events")
    op.drop_table("session_chunks")
    op.drop_table("live_sessions")
