"""The live analysis of remote interviews (issue 17, migration 0015): subtitles of both parties and
risk alerts the live worker found during a task attempt's call (docs/remote-interview.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dualrec.db.base import Base, UTCDateTime
from dualrec.db.models import BigId

__all__ = ["RtcLiveEventRow"]


class RtcLiveEventRow(Base):
    """One subtitle (``kind`` subtitle: who said what, when) or one alert (``kind`` alert: a risk
    alert or a face check, with its reason), in the order the worker found them (``id``)."""

    __tablename__ = "rtc_live_events"
    __table_args__ = (Index("ix_rtc_live_events_call", "task_id", "attempt", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # subtitle | alert | status
    speaker: Mapped[str] = mapped_column(String(16), default="")  # customer | agent
    code: Mapped[str] = mapped_column(String(32), default="")  # alert code
    node_id: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text, default="")  # what was said (subtitle, or the alert's quote)
    reason: Mapped[str] = mapped_column(String(500), default="")  # the alert's reason, shown in the pop-up
    t_start: Mapped[float | None] = mapped_column(Double, nullable=True)  # seconds on the call's clock
    t_end: Mapped[float | None] = mapped_column(Double, nullable=True)
    spoken_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # end of speech
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acked_by: Mapped[str] = mapped_column(String(100), default="")
