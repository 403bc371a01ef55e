"""An interviewer's 示忙 (away) state (issue 17): ``rtc_agents.away_since`` — set while the
interviewer has paused taking customers; away interviewers do not count as free in the customers'
estimated wait.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-25 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dualrec.db.base

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UTC_TIME = dualrec.db.base.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("rtc_agents") as batch:
        batch.add_column(sa.Column("away_since", UTC_TIME(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rtc_agents") as batch:
        batch.drop_column("away_since")
