"""audit chain head row

Appends to the audit log lock this row (like the evidence ledger's head), so concurrent writers
queue up instead of forking the chain. Seeding it here avoids a creation race on first use.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    conn = op.get_bind()
    count = conn.execute(sa.text("SELECT COUNT(*) FROM audit_events")).scalar() or 0
    last = conn.execute(sa.text("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1")).scalar()
    conn.execute(
        sa.text("INSERT INTO evidence_heads (chain, seq, hash) VALUES ('audit', :seq, :hash)"),
        {"seq": count, "hash": last or GENESIS_HASH},
    )


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM evidence_heads WHERE chain = 'audit'"))
