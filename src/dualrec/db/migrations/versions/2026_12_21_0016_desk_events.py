"""The remote interview's shared desk (issue 17): ``rtc_desk_events`` — the document pages the
interviewer showed, the highlights on them, the screen share, the signature asked for and given.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-21 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = dualrec.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "rtc_desk_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("at", UTC_TIME(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_rtc_desk_events_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rtc_desk_events")),
    )
    op.create_index(op.f("ix_rtc_desk_events_task_id"), "rtc_desk_events", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_table("rtc_desk_events")
