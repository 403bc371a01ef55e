"""Remote interviews (issue 17): the human-interviewer queue, interviewers' skill groups and
presence, and interviewers' node marks (打点) of a call

* ``rtc_queue``: one row per task attempt that waits for / talks to a human (VIP level, skill
  group, branch, status, the AI hand-over summary, who accepted it);
* ``rtc_agents``: an interviewer's skill groups and when its queue page last asked;
* ``rtc_node_marks``: start/end of a flow node during the call (wall clock), for QC's markers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-21 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = dualrec.db.base.UTCDateTime


def _fk(
    table: str, column: str, target: str, ondelete: str, target_column: str = "id"
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{target_column}"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _indexes(table: str, columns: tuple[str, ...]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "rtc_queue",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("branch_id", BIG_ID, nullable=False),
        sa.Column("branch_path", sa.String(length=512), nullable=False),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("skill_group", sa.String(length=64), nullable=False),
        sa.Column("vip_level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("enqueued_at", UTC_TIME(), nullable=False),
        sa.Column("last_seen_at", UTC_TIME(), nullable=False),
        sa.Column("accepted_by", BIG_ID, nullable=True),
        sa.Column("accepted_by_name", sa.String(length=100), nullable=False),
        sa.Column("accepted_at", UTC_TIME(), nullable=True),
        sa.Column("ended_at", UTC_TIME(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("recording_id", sa.String(length=36), nullable=True),
        _fk("rtc_queue", "task_id", "tasks", "CASCADE"),
        _fk("rtc_queue", "branch_id", "branches", "RESTRICT"),
        _fk("rtc_queue", "accepted_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rtc_queue")),
        sa.UniqueConstraint("task_id", "attempt", name="uq_rtc_queue_task_id_attempt"),
    )
    _indexes("rtc_queue", ("task_id", "branch_id", "branch_path", "skill_group", "status"))

    op.create_table(
        "rtc_agents",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("skill_groups", sa.JSON(), nullable=False),
        sa.Column("last_seen_at", UTC_TIME(), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", UTC_TIME(), nullable=False),
        _fk("rtc_agents", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_rtc_agents")),
    )

    op.create_table(
        "rtc_node_marks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("at", UTC_TIME(), nullable=False),
        sa.Column("by_id", BIG_ID, nullable=True),
        sa.Column("by", sa.String(length=100), nullable=False),
        _fk("rtc_node_marks", "task_id", "tasks", "CASCADE"),
        _fk("rtc_node_marks", "by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rtc_node_marks")),
    )
    _indexes("rtc_node_marks", ("task_id",))


def downgrade() -> None:
    op.drop_table("rtc_node_marks")
    op.drop_table("rtc_agents")
    op.drop_table("rtc_queue")
