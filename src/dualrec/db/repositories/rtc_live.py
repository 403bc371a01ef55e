"""Subtitles and alerts of remote interviews' live analysis (``rtc_live_events``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualrec.db.models_rtc_live import RtcLiveEventRow

__all__ = ["RtcLiveRepository"]


class RtcLiveRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *, task_id: str, attempt: int, kind: str, created_at: datetime, **values: Any) -> int:
        row = RtcLiveEventRow(
            task_id=task_id,
            attempt=attempt,
            kind=kind,
            created_at=created_at,
            details=values.pop("details", None) or {},
            **values,
        )
        self.session.add(row)
        self.session.flush()
        return int(row.id)

    def after(self, task_id: str, attempt: int, after_id: int, limit: int = 200) -> list[RtcLiveEventRow]:
        return list(
            self.session.scalars(
                select(RtcLiveEventRow)
                .where(
                    RtcLiveEventRow.task_id == task_id,
                    RtcLiveEventRow.attempt == attempt,
                    RtcLiveEventRow.id > after_id,
                )
                .order_by(RtcLiveEventRow.id)
                .limit(limit)
            )
        )

    def call(self, task_id: str, attempt: int, limit: int = 20000) -> list[RtcLiveEventRow]:
        """Every event of one call, oldest first (the recording's copy; ``limit`` bounds a runaway)."""
        return list(
            self.session.scalars(
                select(RtcLiveEventRow)
                .where(RtcLiveEventRow.task_id == task_id, RtcLiveEventRow.attempt == attempt)
                .order_by(RtcLiveEventRow.id)
                .limit(limit)
            )
        )

    def get(self, event_id: int) -> RtcLiveEventRow | None:
        return self.session.get(RtcLiveEventRow, event_id)
