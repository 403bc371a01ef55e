"""Several Janus instances (issue 17): ``rtc_rooms`` — the media node each task attempt's room was
placed on (DUALREC_RTC_NODES).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-23 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = dualrec.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "rtc_rooms",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("ended_at", UTC_TIME(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_rtc_rooms_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rtc_rooms")),
        sa.UniqueConstraint("task_id", "attempt", name="uq_rtc_rooms_task_id_attempt"),
    )
    op.create_index(op.f("ix_rtc_rooms_task_id"), "rtc_rooms", ["task_id"], unique=False)
    op.create_index(op.f("ix_rtc_rooms_node"), "rtc_rooms", ["node"], unique=False)


def downgrade() -> None:
    op.drop_table("rtc_rooms")
