"""Remote interviews' call quality (issue 17, SPEC §8): ``rtc_quality_samples``, the series each
participant's browser (and Janus) reported during a task attempt's call.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-21 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = dualrec.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "rtc_quality_samples",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTC_TIME(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("fps", sa.Double(), nullable=False),
        sa.Column("video_kbps", sa.Double(), nullable=False),
        sa.Column("audio_kbps", sa.Double(), nullable=False),
        sa.Column("loss_pct", sa.Double(), nullable=False),
        sa.Column("video_loss_pct", sa.Double(), nullable=False),
        sa.Column("jitter_ms", sa.Double(), nullable=False),
        sa.Column("jitter_buffer_ms", sa.Double(), nullable=True),
        sa.Column("rtt_ms", sa.Double(), nullable=False),
        sa.Column("freezes", sa.Integer(), nullable=False),
        sa.Column("freeze_s", sa.Double(), nullable=False),
        sa.Column("concealed_pct", sa.Double(), nullable=False),
        sa.Column("send_width", sa.Integer(), nullable=False),
        sa.Column("send_height", sa.Integer(), nullable=False),
        sa.Column("send_fps", sa.Double(), nullable=False),
        sa.Column("limitation", sa.String(length=16), nullable=False),
        sa.Column("mos", sa.Double(), nullable=True),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_rtc_quality_samples_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rtc_quality_samples")),
    )
    op.create_index(
        "ix_rtc_quality_samples_call",
        "rtc_quality_samples",
        ["task_id", "attempt", "role", "received_at"],
        unique=False,
    )


def downgrade() -> None:
    # the table's indexes go with it (MySQL refuses to drop the index its foreign key uses first)
    op.drop_table("rtc_quality_samples")
