"""The call-quality series of remote interviews (``rtc_quality_samples``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualrec.db.models_rtc_quality import RtcQualitySampleRow

__all__ = ["SAMPLE_FIELDS", "RtcQualityRepository"]

SAMPLE_FIELDS = (
    "width",
    "height",
    "fps",
    "video_kbps",
    "audio_kbps",
    "loss_pct",
    "video_loss_pct",
    "jitter_ms",
    "jitter_buffer_ms",
    "rtt_ms",
    "freezes",
    "freeze_s",
    "concealed_pct",
    "send_width",
    "send_height",
    "send_fps",
    "limitation",
    "mos",
    "grade",
)


class RtcQualityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *, task_id: str, attempt: int, role: str, received_at: datetime, **values: Any) -> None:
        unknown = set(values) - set(SAMPLE_FIELDS)
        if unknown:
            raise ValueError(f"unknown sample fields {sorted(unknown)}")
        self.session.add(
            RtcQualitySampleRow(
                task_id=task_id, attempt=attempt, role=role, received_at=received_at, **values
            )
        )

    def last(self, task_id: str, attempt: int, role: str) -> RtcQualitySampleRow | None:
        return self.session.scalars(
            select(RtcQualitySampleRow)
            .where(
                RtcQualitySampleRow.task_id == task_id,
                RtcQualitySampleRow.attempt == attempt,
                RtcQualitySampleRow.role == role,
            )
            .order_by(RtcQualitySampleRow.received_at.desc(), RtcQualitySampleRow.id.desc())
            .limit(1)
        ).first()

    def count(self, task_id: str, attempt: int, role: str) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(RtcQualitySampleRow)
                .where(
                    RtcQualitySampleRow.task_id == task_id,
                    RtcQualitySampleRow.attempt == attempt,
                    RtcQualitySampleRow.role == role,
                )
            )
            or 0
        )

    def series(self, task_id: str, attempt: int, *, limit: int = 20_000) -> Sequence[RtcQualitySampleRow]:
        return self.session.scalars(
            select(RtcQualitySampleRow)
            .where(RtcQualitySampleRow.task_id == task_id, RtcQualitySampleRow.attempt == attempt)
            .order_by(RtcQualitySampleRow.received_at, RtcQualitySampleRow.id)
            .limit(limit)
        ).all()
