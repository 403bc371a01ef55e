"""QC operations (issue 18): sampling rules and runs, review items, per-finding decisions, appeals

* ``review_rules``: periodic sampling rules (filters, plan, assignees) over a branch's subtree;
* ``review_samples``: every sampling run with its seed and what it picked (``run_key`` unique: a
  rule's scheduled run happens once a day however many processes look);
* ``review_items``: one per recording under human review (findings as sampled, decision, final
  decision, outcome);
* ``review_finding_decisions``: confirm / overrule per machine finding, and findings reviewers added;
* ``review_appeals``: the branch's appeals, their attachments (blob keys) and decisions.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-20 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0011"
down_revision = "0010"
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
        "review_rules",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("branch_id", BIG_ID, nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("assignees", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", UTC_TIME(), nullable=False),
        _fk("review_rules", "branch_id", "branches", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_rules")),
    )
    _indexes("review_rules", ("branch_id",))

    op.create_table(
        "review_samples",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule_id", BIG_ID, nullable=True),
        sa.Column("run_key", sa.String(length=64), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("branch_id", BIG_ID, nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("candidates_sha256", sa.String(length=64), nullable=False),
        sa.Column("selected", sa.JSON(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        _fk("review_samples", "rule_id", "review_rules", "RESTRICT"),
        _fk("review_samples", "branch_id", "branches", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_samples")),
        sa.UniqueConstraint("run_key", name=op.f("uq_review_samples_run_key")),
    )
    _indexes("review_samples", ("rule_id", "branch_id", "created_at"))

    op.create_table(
        "review_items",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.String(length=36), nullable=False),
        sa.Column("branch_id", BIG_ID, nullable=False),
        sa.Column("sample_id", BIG_ID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("recording_created_by", sa.String(length=100), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("attempt_no", sa.Integer(), nullable=True),
        sa.Column("assignee_id", BIG_ID, nullable=True),
        sa.Column("started_at", UTC_TIME(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", BIG_ID, nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", UTC_TIME(), nullable=True),
        sa.Column("final_decision", sa.String(length=16), nullable=True),
        sa.Column("final_reason", sa.Text(), nullable=False),
        sa.Column("final_by_id", BIG_ID, nullable=True),
        sa.Column("final_by", sa.String(length=100), nullable=False),
        sa.Column("final_at", UTC_TIME(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("rerecord_attempt", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("updated_at", UTC_TIME(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_review_items_recording_id_recordings"),
            ondelete="RESTRICT",
        ),
        _fk("review_items", "branch_id", "branches", "RESTRICT"),
        _fk("review_items", "sample_id", "review_samples", "RESTRICT"),
        _fk("review_items", "assignee_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("recording_id", name=op.f("uq_review_items_recording_id")),
    )
    _indexes(
        "review_items",
        ("branch_id", "sample_id", "status", "task_id", "assignee_id", "decided_at", "outcome", "created_at"),
    )

    op.create_table(
        "review_finding_decisions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("finding_key", sa.String(length=80), nullable=True),
        sa.Column("check_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("start", sa.Double(), nullable=True),
        sa.Column("end", sa.Double(), nullable=True),
        sa.Column("by_id", BIG_ID, nullable=True),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", UTC_TIME(), nullable=False),
        _fk("review_finding_decisions", "item_id", "review_items", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_finding_decisions")),
        sa.UniqueConstraint("item_id", "finding_key", name="uq_review_finding_decisions_item_id_finding_key"),
    )
    _indexes("review_finding_decisions", ("item_id", "check_id"))

    op.create_table(
        "review_appeals",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("recording_id", sa.String(length=36), nullable=False),
        sa.Column("branch_id", BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("created_by_id", BIG_ID, nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", BIG_ID, nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", UTC_TIME(), nullable=True),
        _fk("review_appeals", "item_id", "review_items", "RESTRICT"),
        _fk("review_appeals", "branch_id", "branches", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_appeals")),
    )
    _indexes("review_appeals", ("item_id", "recording_id", "branch_id", "status", "created_at"))


def downgrade() -> None:
    # children first; dropping a table drops its indexes (MySQL refuses FK-index drops first)
    op.drop_table("review_appeals")
    op.drop_table("review_finding_decisions")
    op.drop_table("review_items")
    op.drop_table("review_samples")
    op.drop_table("review_rules")
