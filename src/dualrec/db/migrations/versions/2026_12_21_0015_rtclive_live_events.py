"""Remote interviews' live analysis (issue 17): ``rtc_live_events``, the subtitles of both parties
and the risk alerts / face checks the live worker found during a task attempt's call.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-21 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = dualrec.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "rtc_live_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("speaker", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("t_start", sa.Double(), nullable=True),
        sa.Column("t_end", sa.Double(), nullable=True),
        sa.Column("spoken_until", UTC_TIME(), nullable=True),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("acked_at", UTC_TIME(), nullable=True),
        sa.Column("acked_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_rtc_live_events_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rtc_live_events")),
    )
    op.create_index("ix_rtc_live_events_call", "rtc_live_events", ["task_id", "attempt", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("rtc_live_events")
