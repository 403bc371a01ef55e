"""Tables of remote interviews (issue 17, migration 0013): the queue of customers waiting
for a human interviewer, the interviewers' skill groups and presence, and the node marks (打点) an
interviewer sets during a call. See core/rtc_queue.py and docs/remote-interview.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dualrec.db.base import Base, UTCDateTime
from dualrec.db.models import BigId

__all__ = ["RtcAgentRow", "RtcDeskEventRow", "RtcNodeMarkRow", "RtcQueueRow", "RtcRoomRow"]


class RtcQueueRow(Base):
    """One task attempt waiting for (or talking to) a human interviewer."""

    __tablename__ = "rtc_queue"
    __table_args__ = (UniqueConstraint("task_id", "attempt", name="uq_rtc_queue_task_id_attempt"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    branch_path: Mapped[str] = mapped_column(String(512), index=True)
    business_type: Mapped[str] = mapped_column(String(64))
    skill_group: Mapped[str] = mapped_column(String(64), index=True)
    vip_level: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    accepted_by_name: Mapped[str] = mapped_column(String(100), default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(String(300), default="")
    recording_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class RtcAgentRow(Base):
    """An interviewer's skill groups (set by an administrator), presence (its queue page polls) and
    示忙 (away: it paused taking customers)."""

    __tablename__ = "rtc_agents"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    skill_groups: Mapped[list[Any]] = mapped_column(JSON)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    away_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # 示忙 since
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RtcNodeMarkRow(Base):
    """打点: the interviewer started or ended a flow node at wall-clock ``at`` during the call."""

    __tablename__ = "rtc_node_marks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # start | end
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    by: Mapped[str] = mapped_column(String(100))


class RtcDeskEventRow(Base):
    """The shared desk of a call (issue 17): which document page the interviewer showed the
    customer, the highlights on it, the screen share switched on/off, the signature asked for and
    the document the customer signed — what both pages follow, kept as the call's evidence."""

    __tablename__ = "rtc_desk_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    party: Mapped[str] = mapped_column(String(8))  # agent | customer
    kind: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class RtcRoomRow(Base):
    """Where a task attempt's call runs (migration 0018): the media node (Janus instance) its room
    was placed on when it was created; the call stays there. ``ended_at``: hung up."""

    __tablename__ = "rtc_rooms"
    __table_args__ = (UniqueConstraint("task_id", "attempt", name="uq_rtc_rooms_task_id_attempt"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
