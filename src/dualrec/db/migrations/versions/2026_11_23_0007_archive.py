"""archive catalogue, retention, legal hold, deletion approvals and search fields (issue 5)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:45:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# frozen copies of the defaults at the time of this migration (editable in the console afterwards)
DEFAULT_POLICIES = (
    ("insurance", "D10", "contract_end", "保险：合同终止后 10 年"),
    ("securities", "D20", "recorded_at", "证券适当性：20 年"),
    ("wealth", "D5", "contract_end", "理财：产品/合同终止后 5 年"),
    ("*", "D30", "recorded_at", "其他业务：30 年"),
)
DEFAULT_DELETE_CHAIN = [
    {"role": "branch_supervisor", "name": "部门负责人"},
    {"role": "compliance", "name": "合规"},
    {"role": "admin", "name": "系统管理员"},
]

ENTRY_INDEXES = (
    ("ix_archive_entries_recorded_at", ["recorded_at"]),
    ("ix_archive_entries_branch_id_recorded_at", ["branch_id", "recorded_at"]),
    ("ix_archive_entries_customer_id_recorded_at", ["customer_id", "recorded_at"]),
    ("ix_archive_entries_customer_name_hash_recorded_at", ["customer_name_hash", "recorded_at"]),
    ("ix_archive_entries_id_number_hash", ["id_number_hash"]),
    ("ix_archive_entries_business_no", ["business_no"]),
    ("ix_archive_entries_contract_no", ["contract_no"]),
    ("ix_archive_entries_business_type_recorded_at", ["business_type", "recorded_at"]),
    ("ix_archive_entries_qc_verdict_recorded_at", ["qc_verdict", "recorded_at"]),
    (
        "ix_archive_entries_business_type_qc_verdict_recorded_at",
        ["business_type", "qc_verdict", "recorded_at"],
    ),
    ("ix_archive_entries_expires_on", ["expires_on"]),
    ("ix_archive_entries_task_id", ["task_id"]),
)


def upgrade() -> None:
    utc = dualrec.db.base.UTCDateTime
    op.create_table(
        "archive_entries",
        sa.Column("recording_id", sa.String(length=36), nullable=False),
        sa.Column("branch_id", BigId, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("av", sa.JSON(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("attempt_no", sa.Integer(), nullable=True),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("business_no", sa.String(length=64), nullable=False),
        sa.Column("contract_no", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("customer_name_sealed", sa.String(length=512), nullable=False),
        sa.Column("customer_name_hash", sa.String(length=64), nullable=False),
        sa.Column("id_number_sealed", sa.String(length=512), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_sealed", sa.String(length=512), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", utc(), nullable=False),
        sa.Column("qc_status", sa.String(length=16), nullable=False),
        sa.Column("qc_verdict", sa.String(length=16), nullable=True),
        sa.Column("retention_code", sa.String(length=8), nullable=False),
        sa.Column("retention_basis", sa.String(length=16), nullable=False),
        sa.Column("retention_manual", sa.Boolean(), nullable=False),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("secrecy_level", sa.String(length=16), nullable=False),
        sa.Column("carrier_numbers", sa.JSON(), nullable=False),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("legal_hold_reason", sa.Text(), nullable=False),
        sa.Column("legal_hold_by", sa.String(length=100), nullable=False),
        sa.Column("legal_hold_at", utc(), nullable=True),
        sa.Column("deleted_at", utc(), nullable=True),
        sa.Column("tombstone_seq", sa.BigInteger(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_archive_entries_recording_id_recordings"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_archive_entries_branch_id_branches"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_archive_entries")),
    )
    with op.batch_alter_table("archive_entries", schema=None) as batch_op:
        for name, columns in ENTRY_INDEXES:
            batch_op.create_index(name, columns, unique=False)

    policies = op.create_table(
        "retention_policies",
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("business_type", name=op.f("pk_retention_policies")),
    )
    chains = op.create_table(
        "approval_chains",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_chains")),
    )
    op.create_table(
        "deletion_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("recording_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requester_id", BigId, nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("finished_at", utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["archive_entries.recording_id"],
            name=op.f("fk_deletion_requests_recording_id_archive_entries"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_requests")),
    )
    with op.batch_alter_table("deletion_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deletion_requests_recording_id"), ["recording_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deletion_requests_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_deletion_requests_created_at"), ["created_at"], unique=False)

    op.create_table(
        "archive_notices",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("branch_id", BigId, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_archive_notices_branch_id_branches"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_notices")),
        sa.UniqueConstraint("kind", "day", "branch_id", name="uq_archive_notices_kind_day_branch"),
    )
    with op.batch_alter_table("archive_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archive_notices_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_archive_notices_created_at"), ["created_at"], unique=False)

    # tasks: the customer's name sealed + a blind-index hash (the plaintext column is no longer written)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("customer_name_sealed", sa.String(length=512), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("customer_name_hash", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.create_index("ix_tasks_customer_name_hash", ["customer_name_hash"], unique=False)

    now = datetime.now(UTC)
    op.bulk_insert(
        policies,
        [
            {
                "business_type": b,
                "code": c,
                "basis": basis,
                "name": n,
                "updated_at": now,
                "updated_by": "system",
            }
            for b, c, basis, n in DEFAULT_POLICIES
        ],
    )
    op.bulk_insert(
        chains,
        [{"id": "archive.delete", "steps": DEFAULT_DELETE_CHAIN, "updated_at": now, "updated_by": "system"}],
    )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_customer_name_hash")
        batch_op.drop_column("customer_name_hash")
        batch_op.drop_column("customer_name_sealed")
    # children first; dropping a table drops its indexes (MySQL refuses FK-index drops first)
    for table in (
        "archive_notices",
        "deletion_requests",
        "approval_chains",
        "retention_policies",
        "archive_entries",
    ):
        op.drop_table(table)
