"""Self-service sessions, their recording chunks and their events (打点)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dualrec.core.live_session import (
    LiveSession,
    SessionEvent,
    flow_state_from_dict,
    flow_state_to_dict,
)
from dualrec.db.models import LiveSessionRow, SessionChunkRow, SessionEventRow

__all__ = ["ChunkRecord", "LiveSessionRepository"]


def _to_core(row: LiveSessionRow) -> LiveSession:
    return LiveSession(
        id=row.id,
        task_id=row.task_id,
        attempt_no=row.attempt_no,
        status=row.status,
        flow_state=flow_state_from_dict(row.flow_state),
        segment=row.segment,
        started_at=row.started_at,
        last_seen_at=row.last_seen_at,
        finished_at=row.finished_at,
        reason=row.reason,
        identity=dict(row.identity or {}),
        final_seqs={int(k): int(v) for k, v in (row.final_seqs or {}).items()},
        recording_id=row.recording_id,
    )


class ChunkRecord:
    __slots__ = ("blob_key", "segment", "seq", "sha256", "size")

    def __init__(self, segment: int, seq: int, size: int, sha256: str, blob_key: str) -> None:
        self.segment, self.seq, self.size, self.sha256, self.blob_key = segment, seq, size, sha256, blob_key


class LiveSessionRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, s: LiveSession) -> None:
        self._s.add(
            LiveSessionRow(
                id=s.id,
                task_id=s.task_id,
                attempt_no=s.attempt_no,
                status=s.status,
                flow_state=flow_state_to_dict(s.flow_state),
                segment=s.segment,
                identity=dict(s.identity),
                final_seqs={str(k): v for k, v in s.final_seqs.items()},
                reason=s.reason,
                recording_id=s.recording_id,
                started_at=s.started_at,
                last_seen_at=s.last_seen_at,
                finished_at=s.finished_at,
            )
        )
        self._s.flush()

    def get(self, session_id: str, *, for_update: bool = False) -> LiveSession | None:
        stmt = select(LiveSessionRow).where(LiveSessionRow.id == session_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalars(stmt).one_or_none()
        return _to_core(row) if row is not None else None

    def for_attempt(self, task_id: str, attempt_no: int, *, for_update: bool = False) -> LiveSession | None:
        stmt = select(LiveSessionRow).where(
            LiveSessionRow.task_id == task_id, LiveSessionRow.attempt_no == attempt_no
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalars(stmt).one_or_none()
        return _to_core(row) if row is not None else None

    def save(self, s: LiveSession) -> None:
        """Write the mutable part of ``s`` (status, flow position, identity, segments)."""
        row = self._s.get_one(LiveSessionRow, s.id)
        row.status = s.status
        row.flow_state = flow_state_to_dict(s.flow_state)
        row.segment = s.segment
        row.identity = dict(s.identity)
        row.final_seqs = {str(k): v for k, v in s.final_seqs.items()}
        row.reason = s.reason
        row.recording_id = s.recording_id
        row.last_seen_at = s.last_seen_at
        row.finished_at = s.finished_at
        self._s.flush()

    def stale(self, statuses: Sequence[str], seen_before: datetime, limit: int = 100) -> list[LiveSession]:
        rows = self._s.scalars(
            select(LiveSessionRow)
            .where(LiveSessionRow.status.in_(list(statuses)), LiveSessionRow.last_seen_at < seen_before)
            .limit(limit)
        )
        return [_to_core(r) for r in rows]

    # ---- chunks

    def chunk(self, session_id: str, segment: int, seq: int) -> ChunkRecord | None:
        row = self._s.scalars(
            select(SessionChunkRow).where(
                SessionChunkRow.session_id == session_id,
                SessionChunkRow.segment == segment,
                SessionChunkRow.seq == seq,
            )
        ).one_or_none()
        if row is None:
            return None
        return ChunkRecord(row.segment, row.seq, row.size, row.sha256, row.blob_key)

    def add_chunk(self, session_id: str, c: ChunkRecord, at: datetime) -> None:
        self._s.add(
            SessionChunkRow(
                session_id=session_id,
                segment=c.segment,
                seq=c.seq,
                size=c.size,
                sha256=c.sha256,
                blob_key=c.blob_key,
                received_at=at,
            )
        )
        self._s.flush()

    def chunk_bytes(self, session_id: str) -> int:
        """Bytes of the chunks stored for the session (its upload quota counts these)."""
        total = self._s.scalar(
            select(func.coalesce(func.sum(SessionChunkRow.size), 0)).where(
                SessionChunkRow.session_id == session_id
            )
        )
        return int(total or 0)

    def with_chunks(self, statuses: Sequence[str], seen_before: datetime, limit: int = 100) -> list[str]:
        """Ids of sessions in ``statuses`` last active before ``seen_before`` that still have chunks."""
        has_chunks = (
            select(SessionChunkRow.id).where(SessionChunkRow.session_id == LiveSessionRow.id).exists()
        )
        rows = self._s.scalars(
            select(LiveSessionRow.id)
            .where(
                LiveSessionRow.status.in_(list(statuses)),
                LiveSessionRow.last_seen_at < seen_before,
                has_chunks,
            )
            .order_by(LiveSessionRow.last_seen_at)
            .limit(limit)
        )
        return list(rows)

    def delete_chunks(self, session_id: str) -> list[ChunkRecord]:
        """Remove the session's chunk rows; returns them (the caller deletes their blobs)."""
        found = self.chunks(session_id)
        self._s.execute(delete(SessionChunkRow).where(SessionChunkRow.session_id == session_id))
        self._s.flush()
        return found

    def chunks(self, session_id: str) -> list[ChunkRecord]:
        rows = self._s.scalars(
            select(SessionChunkRow)
            .where(SessionChunkRow.session_id == session_id)
            .order_by(SessionChunkRow.segment, SessionChunkRow.seq)
        )
        return [ChunkRecord(r.segment, r.seq, r.size, r.sha256, r.blob_key) for r in rows]

    # ---- events

    def add_event(self, session_id: str, e: SessionEvent, at: datetime) -> None:
        self._s.add(
            SessionEventRow(
                session_id=session_id,
                kind=e.kind,
                segment=e.segment,
                t=float(e.t),
                node_id=e.node_id,
                data=dict(e.data),
                at=at,
            )
        )
        self._s.flush()

    def events(self, session_id: str, kinds: Sequence[str] | None = None) -> list[SessionEvent]:
        stmt: Any = select(SessionEventRow).where(SessionEventRow.session_id == session_id)
        if kinds:
            stmt = stmt.where(SessionEventRow.kind.in_(list(kinds)))
        rows = self._s.scalars(stmt.order_by(SessionEventRow.id))
        return [SessionEvent(r.kind, r.segment, r.t, r.node_id, dict(r.data or {}), r.at) for r in rows]
