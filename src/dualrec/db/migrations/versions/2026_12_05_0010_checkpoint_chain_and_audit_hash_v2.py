"""chained evidence checkpoints and the full audit row hash (issue 14, items 3 and 4)

* ``evidence_checkpoints``: a ``number`` (1, 2, 3 … in ledger order, the new primary key: two
  checkpoints may now fix the same ledger position when only the audit log moved), the payload
  ``version`` (1 for every existing row: signed before the chain), the previous checkpoint's hash,
  the audit head each new checkpoint signs and whether it was signed right after a clean audit;
  ``seq`` keeps an index.
* ``audit_events``: ``hash_version`` (1 for every existing row: hashed the old way, still verified
  that way; new rows are version 2, every column hashed) and an index on ``hash`` (a checkpoint looks
  the audit head up before anchoring it).

Downgrade keeps the first checkpoint of each ledger position (``seq`` is the primary key again).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hash_version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index(batch_op.f("ix_audit_events_hash"), ["hash"], unique=False)

    with op.batch_alter_table("evidence_checkpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", BIG_ID, nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("audit_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("audit_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("audited", sa.Boolean(), nullable=False, server_default=sa.false()))
    conn = op.get_bind()
    seqs = [row[0] for row in conn.execute(sa.text("SELECT seq FROM evidence_checkpoints ORDER BY seq"))]
    for number, seq in enumerate(seqs, start=1):
        conn.execute(
            sa.text("UPDATE evidence_checkpoints SET number = :number WHERE seq = :seq"),
            {"number": number, "seq": seq},
        )
    with op.batch_alter_table("evidence_checkpoints", schema=None) as batch_op:
        batch_op.drop_constraint("pk_evidence_checkpoints", type_="primary")
        batch_op.alter_column("number", existing_type=BIG_ID, nullable=False)
        batch_op.create_primary_key("pk_evidence_checkpoints", ["number"])
        batch_op.create_index(batch_op.f("ix_evidence_checkpoints_seq"), ["seq"], unique=False)


def downgrade() -> None:
    conn = op.get_bind()
    keep: dict[int, int] = {}
    for number, seq in conn.execute(sa.text("SELECT number, seq FROM evidence_checkpoints ORDER BY number")):
        keep.setdefault(seq, number)
    dropped = conn.execute(sa.text("SELECT number FROM evidence_checkpoints")).scalars().all()
    for number in sorted(set(dropped) - set(keep.values())):
        conn.execute(sa.text("DELETE FROM evidence_checkpoints WHERE number = :n"), {"n": number})
    with op.batch_alter_table("evidence_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_checkpoints_seq"))
        batch_op.drop_constraint("pk_evidence_checkpoints", type_="primary")
        batch_op.create_primary_key("pk_evidence_checkpoints", ["seq"])
    with op.batch_alter_table("evidence_checkpoints", schema=None) as batch_op:
        batch_op.drop_column("audited")
        batch_op.drop_column("audit_hash")
        batch_op.drop_column("audit_seq")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("version")
        batch_op.drop_column("number")

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_hash"))
        batch_op.drop_column("hash_version")
