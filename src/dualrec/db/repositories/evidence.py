"""The evidence ledger's storage. Append-only: there is no update or delete of events or checkpoints."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualrec.core.evidence import GENESIS_HASH, EvidenceEvent, event_hash, format_at
from dualrec.db.models import EvidenceCheckpointRow, EvidenceEventRow, EvidenceHeadRow

__all__ = ["CHAIN", "EvidenceRepository"]

CHAIN = "global"


def to_event(row: EvidenceEventRow) -> EvidenceEvent:
    return EvidenceEvent(
        seq=row.seq,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        kind=row.kind,
        payload=dict(row.payload or {}),
        at=format_at(row.at),
        prev_hash=row.prev_hash,
        subject_prev_hash=row.subject_prev_hash,
        hash=row.hash,
    )


class EvidenceRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _lock_head(self) -> EvidenceHeadRow:
        stmt = select(EvidenceHeadRow).where(EvidenceHeadRow.chain == CHAIN).with_for_update()
        head = self._s.scalar(stmt)
        if head is not None:
            return head
        # Databases made without the migration (which seeds the head): create it once.
        try:
            with self._s.begin_nested():
                self._s.add(EvidenceHeadRow(chain=CHAIN, seq=0, hash=GENESIS_HASH))
        except IntegrityError:
            pass
        head = self._s.scalar(stmt.execution_options(populate_existing=True))
        assert head is not None
        return head

    def append(
        self, *, subject_type: str, subject_id: str, kind: str, payload: dict[str, Any], at: datetime
    ) -> EvidenceEvent:
        """Append one event at the chain head, inside the caller's transaction.

        The head row is locked (SELECT ... FOR UPDATE) until the caller commits, so concurrent
        writers queue up and each sees the head the previous one left; ``seq`` is the primary key
        and ``hash`` is unique, so a backend without row locks fails loudly instead of forking.
        """
        head = self._lock_head()
        subject_prev = self._s.scalar(
            select(EvidenceEventRow.hash)
            .where(EvidenceEventRow.subject_type == subject_type, EvidenceEventRow.subject_id == subject_id)
            .order_by(EvidenceEventRow.seq.desc())
            .limit(1)
        )
        ev = EvidenceEvent(
            seq=head.seq + 1,
            subject_type=subject_type,
            subject_id=subject_id,
            kind=kind,
            payload=payload,
            at=format_at(at),
            prev_hash=head.hash,
            subject_prev_hash=subject_prev or GENESIS_HASH,
            hash="",
        )
        digest = event_hash(ev.prev_hash, ev.body())
        self._s.add(
            EvidenceEventRow(
                seq=ev.seq,
                subject_type=subject_type,
                subject_id=subject_id,
                kind=kind,
                payload=payload,
                at=at,
                prev_hash=ev.prev_hash,
                subject_prev_hash=ev.subject_prev_hash,
                hash=digest,
            )
        )
        head.seq, head.hash = ev.seq, digest
        self._s.flush()
        return replace(ev, hash=digest)

    def head(self, *, lock: bool = False) -> tuple[int, str]:
        if lock:
            h = self._lock_head()
            return h.seq, h.hash
        row = self._s.scalar(select(EvidenceHeadRow).where(EvidenceHeadRow.chain == CHAIN))
        return (row.seq, row.hash) if row else (0, GENESIS_HASH)

    def for_subject(self, subject_type: str, subject_id: str) -> list[EvidenceEvent]:
        rows = self._s.scalars(
            select(EvidenceEventRow)
            .where(EvidenceEventRow.subject_type == subject_type, EvidenceEventRow.subject_id == subject_id)
            .order_by(EvidenceEventRow.seq)
        )
        return [to_event(r) for r in rows]

    def events(self, after_seq: int, up_to_seq: int, batch: int = 1000) -> Iterator[EvidenceEvent]:
        last = after_seq
        while last < up_to_seq:
            rows = list(
                self._s.scalars(
                    select(EvidenceEventRow)
                    .where(EvidenceEventRow.seq > last, EvidenceEventRow.seq <= up_to_seq)
                    .order_by(EvidenceEventRow.seq)
                    .limit(batch)
                )
            )
            if not rows:
                return
            for r in rows:
                yield to_event(r)
            last = rows[-1].seq

    def hashes(self, after_seq: int, up_to_seq: int, batch: int = 50_000) -> list[str]:
        """Event hashes with ``after_seq < seq <= up_to_seq`` in order (only the hash column)."""
        out: list[str] = []
        last = after_seq
        while last < up_to_seq:
            rows = self._s.execute(
                select(EvidenceEventRow.seq, EvidenceEventRow.hash)
                .where(EvidenceEventRow.seq > last, EvidenceEventRow.seq <= up_to_seq)
                .order_by(EvidenceEventRow.seq)
                .limit(batch)
            ).all()
            if not rows:
                break
            out.extend(h for _, h in rows)
            last = rows[-1][0]
        return out

    def add_checkpoint(self, row: EvidenceCheckpointRow) -> None:
        self._s.add(row)
        self._s.flush()

    def latest_checkpoint(self) -> EvidenceCheckpointRow | None:
        return self._s.scalar(
            select(EvidenceCheckpointRow).order_by(EvidenceCheckpointRow.number.desc()).limit(1)
        )

    def checkpoint(self, number: int) -> EvidenceCheckpointRow | None:
        return self._s.get(EvidenceCheckpointRow, number)

    def checkpoints(
        self, after_number: int, up_to_number: int | None = None, limit: int = 1000
    ) -> list[EvidenceCheckpointRow]:
        """Checkpoints with ``after_number < number <= up_to_number`` in order, at most ``limit``."""
        stmt = select(EvidenceCheckpointRow).where(EvidenceCheckpointRow.number > after_number)
        if up_to_number is not None:
            stmt = stmt.where(EvidenceCheckpointRow.number <= up_to_number)
        return list(self._s.scalars(stmt.order_by(EvidenceCheckpointRow.number).limit(limit)))

    def checkpoint_covering(self, seq: int) -> EvidenceCheckpointRow | None:
        """The earliest checkpoint at or after ``seq`` (the nearest one that fixes that event)."""
        return self._s.scalar(
            select(EvidenceCheckpointRow)
            .where(EvidenceCheckpointRow.seq >= seq)
            .order_by(EvidenceCheckpointRow.seq, EvidenceCheckpointRow.number)
            .limit(1)
        )

    def event_hash_at(self, seq: int) -> str | None:
        return self._s.scalar(select(EvidenceEventRow.hash).where(EvidenceEventRow.seq == seq))
