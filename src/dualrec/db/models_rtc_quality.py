"""Tables of remote interviews' call quality (issue 17, migration 0014): the quality
series each participant's browser (and Janus) reported during a task attempt's call. See
core/call_quality.py and docs/remote-interview.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dualrec.db.base import Base, UTCDateTime
from dualrec.db.models import BigId

__all__ = ["RtcQualitySampleRow"]


class RtcQualitySampleRow(Base):
    """One report: what ``role`` received over the last interval of the attempt's call."""

    __tablename__ = "rtc_quality_samples"
    __table_args__ = (Index("ix_rtc_quality_samples_call", "task_id", "attempt", "role", "received_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # agent | customer | janus-agent | janus-customer
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    fps: Mapped[float] = mapped_column(Double, default=0.0)
    video_kbps: Mapped[float] = mapped_column(Double, default=0.0)
    audio_kbps: Mapped[float] = mapped_column(Double, default=0.0)
    loss_pct: Mapped[float] = mapped_column(Double, default=0.0)
    video_loss_pct: Mapped[float] = mapped_column(Double, default=0.0)
    jitter_ms: Mapped[float] = mapped_column(Double, default=0.0)
    jitter_buffer_ms: Mapped[float | None] = mapped_column(Double, nullable=True)
    rtt_ms: Mapped[float] = mapped_column(Double, default=0.0)
    freezes: Mapped[int] = mapped_column(Integer, default=0)
    freeze_s: Mapped[float] = mapped_column(Double, default=0.0)
    concealed_pct: Mapped[float] = mapped_column(Double, default=0.0)
    send_width: Mapped[int] = mapped_column(Integer, default=0)
    send_height: Mapped[int] = mapped_column(Integer, default=0)
    send_fps: Mapped[float] = mapped_column(Double, default=0.0)
    limitation: Mapped[str] = mapped_column(String(16), default="")  # the sender's qualityLimitationReason
    mos: Mapped[float | None] = mapped_column(Double, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(1), nullable=True)
    # Janus' view (role janus-<party>, services/rtc/janus_stats.py; migration 0018): per medium what
    # Janus received from the party ("in": packets, lost, NACKs, retransmissions, kbit/s, jitter) and
    # sent to it ("out": packets, lost by the receiver, NACKs, kbit/s, RTT); None for browser reports
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
