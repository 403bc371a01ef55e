"""High-risk rules, the flag they put on a recording, and in-app notices (issue 18)

* ``review_high_risk_rules``: conditions over a QC report and its task, the roles to notify;
* ``review_high_risk_flags``: the last evaluation of the rules per recording;
* ``notices`` / ``notice_reads``: in-app notices to a role within a branch subtree, read per user.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-21 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = dualrec.db.base.UTCDateTime


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _indexes(table: str, columns: tuple[str, ...]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "review_high_risk_rules",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("branch_id", BIG_ID, nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("notify_roles", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", UTC_TIME(), nullable=False),
        _fk("review_high_risk_rules", "branch_id", "branches", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_high_risk_rules")),
    )
    _indexes("review_high_risk_rules", ("branch_id",))
    op.create_table(
        "review_high_risk_flags",
        sa.Column("recording_id", sa.String(length=36), nullable=False),
        sa.Column("branch_id", BIG_ID, nullable=False),
        sa.Column("high_risk", sa.Boolean(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("flagged_at", UTC_TIME(), nullable=True),
        sa.Column("evaluated_at", UTC_TIME(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_review_high_risk_flags_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        _fk("review_high_risk_flags", "branch_id", "branches", "RESTRICT"),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_review_high_risk_flags")),
    )
    _indexes("review_high_risk_flags", ("branch_id", "high_risk"))
    op.create_table(
        "notices",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("branch_id", BIG_ID, nullable=False),
        sa.Column("recording_id", sa.String(length=36), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        _fk("notices", "branch_id", "branches", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    _indexes("notices", ("role", "branch_id", "recording_id", "created_at"))
    op.create_table(
        "notice_reads",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("notice_id", BIG_ID, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("read_at", UTC_TIME(), nullable=False),
        _fk("notice_reads", "notice_id", "notices", "CASCADE"),
        _fk("notice_reads", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_reads")),
        sa.UniqueConstraint("notice_id", "user_id", name=op.f("uq_notice_reads_notice_id_user_id")),
    )
    _indexes("notice_reads", ("notice_id", "user_id"))


def downgrade() -> None:
    op.drop_table("notice_reads")
    op.drop_table("notices")
    op.drop_table("review_high_risk_flags")
    op.drop_table("review_high_risk_rules")
