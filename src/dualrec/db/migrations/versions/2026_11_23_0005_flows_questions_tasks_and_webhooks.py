"""flows questions tasks and webhooks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:29:44.267644
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# frozen copy of the default list at the time of this migration (the list is editable afterwards)
DEFAULT_SENSITIVE_WORDS = (
    "保本",
    "稳赚",
    "无风险",
    "零风险",
    "保证收益",
    "高收益无风险",
    "稳赚不赔",
    "刚性兑付",
    "刚兑",
    "保底",
    "保本保息",
    "包赚",
    "只赚不赔",
    "绝对安全",
    "肯定赚钱",
    "一定赚钱",
    "承诺收益",
    "保证本金",
    "本金无忧",
    "收益有保障",
    "存款一样",
    "跟存款一样",
    "替代存款",
    "100%安全",
    "没有任何风险",
)


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("draft_updated_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("draft_updated_by", sa.String(length=100), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
        sa.UniqueConstraint("code", name=op.f("uq_flows_code")),
    )
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flows_business_type"), ["business_type"], unique=False)

    op.create_table(
        "question_banks",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("draw_rules", sa.JSON(), nullable=False),
        sa.Column("updated_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_question_banks")),
    )
    op.create_table(
        "routing_rules",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("customer_types", sa.JSON(), nullable=False),
        sa.Column("business_types", sa.JSON(), nullable=False),
        sa.Column("risk_levels", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("flow_code", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    op.create_table(
        "script_templates",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("node_type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_templates")),
        sa.UniqueConstraint("business_type", "node_type", "title", name="uq_script_templates_key"),
    )
    with op.batch_alter_table("script_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_script_templates_business_type"), ["business_type"], unique=False
        )

    op.create_table(
        "sensitive_words",
        sa.Column("word", sa.String(length=100), nullable=False),
        sa.Column("created_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_sensitive_words")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", dualrec.db.base.UTCDateTime(), nullable=True),
        sa.Column("lease_until", dualrec.db.base.UTCDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("log", sa.JSON(), nullable=False),
        sa.Column("created_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", dualrec.db.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_source_key"), ["source_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_task_id"), ["task_id"], unique=False)

    op.create_table(
        "flow_versions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("flow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=100), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("review_hits", sa.JSON(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name=op.f("fk_flow_versions_flow_id_flows"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_versions")),
        sa.UniqueConstraint("flow_id", "version", name="uq_flow_versions_flow_id_version"),
    )
    with op.batch_alter_table("flow_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flow_versions_flow_id"), ["flow_id"], unique=False)

    op.create_table(
        "questions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank"],
            ["question_banks.code"],
            name=op.f("fk_questions_bank_question_banks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint("bank", "code", name="uq_questions_bank_code"),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questions_bank"), ["bank"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("business_no", sa.String(length=64), nullable=False),
        sa.Column("contract_no", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("customer_name", sa.String(length=100), nullable=False),
        sa.Column("customer_type", sa.String(length=32), nullable=False),
        sa.Column("risk_level", sa.String(length=8), nullable=False),
        sa.Column("id_number_sealed", sa.String(length=512), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_sealed", sa.String(length=512), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("callback_url", sa.String(length=1000), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("flow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("created_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("finished_at", dualrec.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_tasks_branch_id_branches"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name=op.f("fk_tasks_flow_id_flows"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("source_key", "idempotency_key", name="uq_tasks_source_key_idempotency_key"),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_business_no"), ["business_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_business_type"), ["business_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_contract_no"), ["contract_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_customer_name"), ["customer_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_flow_id"), ["flow_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_id_number_hash"), ["id_number_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_source_key"), ["source_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_status"), ["status"], unique=False)

    op.create_table(
        "task_attempts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("draws", sa.JSON(), nullable=False),
        sa.Column("entry_expires_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recording_id", sa.String(length=36), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", dualrec.db.base.UTCDateTime(), nullable=False),
        sa.Column("started_at", dualrec.db.base.UTCDateTime(), nullable=True),
        sa.Column("finished_at", dualrec.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_attempts_task_id_tasks"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_attempts")),
        sa.UniqueConstraint("task_id", "number", name="uq_task_attempts_task_id_number"),
    )
    with op.batch_alter_table("task_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_attempts_task_id"), ["task_id"], unique=False)
    # the default financial sensitive-word list, editable afterwards (shared by text review and QC)
    words = sa.table(
        "sensitive_words",
        sa.column("word", sa.String),
        sa.column("created_at", dualrec.db.base.UTCDateTime()),
        sa.column("created_by", sa.String),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        words, [{"word": w, "created_at": now, "created_by": "system"} for w in DEFAULT_SENSITIVE_WORDS]
    )


def downgrade() -> None:
    # children first; dropping a table drops its indexes (MySQL refuses FK-index drops first)
    for table in (
        "task_attempts",
        "tasks",
        "questions",
        "flow_versions",
        "webhook_deliveries",
        "sensitive_words",
        "script_templates",
        "routing_rules",
        "question_banks",
        "flows",
    ):
        op.drop_table(table)
