"""audit events carry a branch, so that audit reads are scoped like every other resource (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("branch_id", BIG_ID, nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_events_branch_id"), ["branch_id"], unique=False)
    # existing rows: the acting user's branch (rows without a user stay head-office only)
    op.execute(
        "UPDATE audit_events SET branch_id = "
        "(SELECT users.branch_id FROM users WHERE users.id = audit_events.actor_id) "
        "WHERE actor_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_branch_id"))
        batch_op.drop_column("branch_id")
