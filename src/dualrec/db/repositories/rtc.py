"""Remote interviews: the human-interviewer queue, interviewers' skill groups and presence, and the
node marks (打点) of calls (tables in models_rtc.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualrec.core.rtc_queue import OPEN_STATUSES, QueueEntry, QueueStatus
from dualrec.db.models import BranchRow, UserRow
from dualrec.db.models_rtc import RtcAgentRow, RtcDeskEventRow, RtcNodeMarkRow, RtcQueueRow, RtcRoomRow

__all__ = ["AgentPresence", "DeskEvent", "NodeMark", "RtcRepository"]


@dataclass(frozen=True)
class AgentPresence:
    user_id: int
    username: str
    branch_path: str
    skill_groups: tuple[str, ...]
    last_seen_at: datetime | None
    away_since: datetime | None = None  # 示忙: online but not taking customers


@dataclass(frozen=True)
class NodeMark:
    id: int
    node_id: str
    kind: str
    at: datetime
    by: str


@dataclass(frozen=True)
class DeskEvent:
    id: int
    party: str
    kind: str
    payload: dict[str, Any]
    at: datetime


def _entry(row: RtcQueueRow) -> QueueEntry:
    return QueueEntry(
        id=row.id,
        task_id=row.task_id,
        attempt=row.attempt,
        branch_id=row.branch_id,
        branch_path=row.branch_path,
        business_type=row.business_type,
        skill_group=row.skill_group,
        vip_level=row.vip_level,
        status=row.status,
        source=row.source,
        enqueued_at=row.enqueued_at,
        last_seen_at=row.last_seen_at,
        summary=dict(row.summary or {}),
        accepted_by=row.accepted_by,
        accepted_by_name=row.accepted_by_name,
        accepted_at=row.accepted_at,
        ended_at=row.ended_at,
        reason=row.reason,
        recording_id=row.recording_id,
    )


class RtcRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # ---- rooms: the media node of each task attempt's call ---------------------------------------

    def room_node(self, task_id: str, attempt: int) -> str | None:
        return self._s.execute(
            select(RtcRoomRow.node).where(RtcRoomRow.task_id == task_id, RtcRoomRow.attempt == attempt)
        ).scalar_one_or_none()

    def place_room(self, task_id: str, attempt: int, node: str, now: datetime) -> str:
        """Stores the placement; the node stored first wins when two joins place it at once."""
        try:
            with self._s.begin_nested():
                self._s.add(RtcRoomRow(task_id=task_id, attempt=attempt, node=node, created_at=now))
                self._s.flush()
        except IntegrityError:
            placed = self.room_node(task_id, attempt)
            assert placed is not None
            return placed
        return node

    def move_room(self, task_id: str, attempt: int, node: str, now: datetime) -> None:
        """The attempt's node was removed from the configuration: its room goes to ``node``."""
        row = self._s.execute(
            select(RtcRoomRow).where(RtcRoomRow.task_id == task_id, RtcRoomRow.attempt == attempt)
        ).scalar_one()
        row.node, row.created_at, row.ended_at = node, now, None
        self._s.flush()

    def end_room(self, task_id: str, attempt: int, now: datetime) -> None:
        row = self._s.execute(
            select(RtcRoomRow).where(RtcRoomRow.task_id == task_id, RtcRoomRow.attempt == attempt)
        ).scalar_one_or_none()
        if row is not None and row.ended_at is None:
            row.ended_at = now
            self._s.flush()

    def open_rooms_by_node(self, since: datetime) -> dict[str, int]:
        """Rooms not hung up, created after ``since`` (older ones' tokens have expired), per node."""
        rows = self._s.execute(
            select(RtcRoomRow.node, func.count())
            .where(RtcRoomRow.ended_at.is_(None), RtcRoomRow.created_at > since)
            .group_by(RtcRoomRow.node)
        ).all()
        return {str(node): int(count) for node, count in rows}

    # ---- queue ---------------------------------------------------------------------------------

    def entry(self, task_id: str, attempt: int, *, for_update: bool = False) -> QueueEntry | None:
        stmt = select(RtcQueueRow).where(RtcQueueRow.task_id == task_id, RtcQueueRow.attempt == attempt)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.execute(stmt).scalar_one_or_none()
        return _entry(row) if row else None

    def entry_by_id(self, entry_id: int, *, for_update: bool = False) -> QueueEntry | None:
        stmt = select(RtcQueueRow).where(RtcQueueRow.id == entry_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.execute(stmt).scalar_one_or_none()
        return _entry(row) if row else None

    def add_entry(self, **fields: Any) -> QueueEntry:
        row = RtcQueueRow(**fields)
        self._s.add(row)
        self._s.flush()
        return _entry(row)

    def update_entry(self, entry_id: int, **fields: Any) -> QueueEntry:
        row = self._s.get(RtcQueueRow, entry_id)
        assert row is not None
        for key, value in fields.items():
            setattr(row, key, value)
        self._s.flush()
        return _entry(row)

    def open_entries(self, *, for_update: bool = False) -> list[QueueEntry]:
        """Every waiting or accepted entry, oldest first (the queue is small: people waiting now)."""
        stmt = (
            select(RtcQueueRow)
            .where(RtcQueueRow.status.in_([str(s) for s in OPEN_STATUSES]))
            .order_by(RtcQueueRow.enqueued_at, RtcQueueRow.id)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return [_entry(r) for r in self._s.execute(stmt).scalars()]

    def recent_handling(self, limit: int = 20) -> list[float]:
        """Seconds from acceptance to the end of the last ``limit`` finished calls."""
        rows = self._s.execute(
            select(RtcQueueRow.accepted_at, RtcQueueRow.ended_at)
            .where(
                RtcQueueRow.status == QueueStatus.DONE,
                RtcQueueRow.accepted_at.is_not(None),
                RtcQueueRow.ended_at.is_not(None),
            )
            .order_by(RtcQueueRow.ended_at.desc())
            .limit(limit)
        ).all()
        return [(end - start).total_seconds() for start, end in rows if start and end]

    # ---- interviewers --------------------------------------------------------------------------

    def agent_skills(self, user_id: int) -> tuple[str, ...]:
        row = self._s.get(RtcAgentRow, user_id)
        return tuple(row.skill_groups) if row else ()

    def set_agent_skills(self, user_id: int, groups: list[str], *, by: str, now: datetime) -> None:
        row = self._s.get(RtcAgentRow, user_id)
        if row is None:
            row = RtcAgentRow(
                user_id=user_id, skill_groups=groups, last_seen_at=None, updated_by=by, updated_at=now
            )
            self._s.add(row)
        else:
            row.skill_groups = groups
            row.updated_by = by
            row.updated_at = now
        self._s.flush()

    def touch_agent(self, user_id: int, now: datetime) -> None:
        row = self._s.get(RtcAgentRow, user_id)
        if row is None:
            self._s.add(
                RtcAgentRow(user_id=user_id, skill_groups=[], last_seen_at=now, updated_by="", updated_at=now)
            )
        else:
            row.last_seen_at = now
        self._s.flush()

    def agent_away_since(self, user_id: int) -> datetime | None:
        row = self._s.get(RtcAgentRow, user_id)
        return row.away_since if row else None

    def set_agent_away(self, user_id: int, since: datetime | None, now: datetime) -> None:
        """示忙 from ``since`` (None: 示闲, taking customers again); the agent is seen ``now``."""
        row = self._s.get(RtcAgentRow, user_id)
        if row is None:
            row = RtcAgentRow(user_id=user_id, skill_groups=[], updated_by="", updated_at=now)
            self._s.add(row)
        row.last_seen_at = now
        row.away_since = since
        self._s.flush()

    def agents_seen_since(self, since: datetime) -> list[AgentPresence]:
        rows = self._s.execute(
            select(RtcAgentRow, UserRow.username, BranchRow.path)
            .join(UserRow, UserRow.id == RtcAgentRow.user_id)
            .join(BranchRow, BranchRow.id == UserRow.branch_id)
            .where(
                RtcAgentRow.last_seen_at.is_not(None), RtcAgentRow.last_seen_at >= since, UserRow.is_active
            )
        ).all()
        return [
            AgentPresence(a.user_id, username, path, tuple(a.skill_groups), a.last_seen_at, a.away_since)
            for a, username, path in rows
        ]

    # ---- node marks ----------------------------------------------------------------------------

    def add_mark(
        self, task_id: str, attempt: int, node_id: str, kind: str, at: datetime, by_id: int | None, by: str
    ) -> NodeMark:
        row = RtcNodeMarkRow(
            task_id=task_id, attempt=attempt, node_id=node_id, kind=kind, at=at, by_id=by_id, by=by
        )
        self._s.add(row)
        self._s.flush()
        return NodeMark(row.id, node_id, kind, at, by)

    def marks(self, task_id: str, attempt: int) -> list[NodeMark]:
        rows = self._s.execute(
            select(RtcNodeMarkRow)
            .where(RtcNodeMarkRow.task_id == task_id, RtcNodeMarkRow.attempt == attempt)
            .order_by(RtcNodeMarkRow.at, RtcNodeMarkRow.id)
        ).scalars()
        return [NodeMark(r.id, r.node_id, r.kind, r.at, r.by) for r in rows]

    # ---- the shared desk -----------------------------------------------------------------------

    def add_desk_event(
        self, task_id: str, attempt: int, party: str, kind: str, payload: dict[str, Any], at: datetime
    ) -> DeskEvent:
        row = RtcDeskEventRow(
            task_id=task_id, attempt=attempt, party=party, kind=kind, payload=payload, at=at
        )
        self._s.add(row)
        self._s.flush()
        return DeskEvent(row.id, party, kind, payload, at)

    def last_desk_event_id(self, task_id: str, attempt: int) -> int:
        found = self._s.execute(
            select(func.max(RtcDeskEventRow.id)).where(
                RtcDeskEventRow.task_id == task_id, RtcDeskEventRow.attempt == attempt
            )
        ).scalar()
        return int(found or 0)

    def desk_events(self, task_id: str, attempt: int) -> list[DeskEvent]:
        rows = self._s.execute(
            select(RtcDeskEventRow)
            .where(RtcDeskEventRow.task_id == task_id, RtcDeskEventRow.attempt == attempt)
            .order_by(RtcDeskEventRow.id)
        ).scalars()
        return [DeskEvent(r.id, r.party, r.kind, dict(r.payload or {}), r.at) for r in rows]
