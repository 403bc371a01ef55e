"""Janus' own view of a call's streams (issue 17): ``rtc_quality_samples.details`` holds, for the
rows of role ``janus-customer`` / ``janus-agent``, what Janus received from and sent to that party
per medium (packets, lost, NACKs, retransmissions, kbit/s, jitter, RTT). NULL for browser reports.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rtc_quality_samples") as batch:
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rtc_quality_samples") as batch:
        batch.drop_column("details")
