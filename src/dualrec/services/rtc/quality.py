"""Call quality of remote interviews (SPEC §8): the participants' browsers report what they receive
every 2 s (``getStats``), dualrec scores each report (audio MOS estimate by the E-model, video
grade: ``core.call_quality``), keeps the series with the task attempt (``rtc_quality_samples``),
answers the agent's desk with the scores of both sides, and hands the series to QC with the call's
recording (``compose.py`` → ``checks/builtin/call_quality.py``).

Who may report: the agent (console session with ``interview:conduct``, the task in their branch
scope, else 404) and the customer (the attempt's own link token, else 401) — each only as
themselves, only while the attempt's call can run (else 409), at most one report a second per
participant (429) and at most ``MAX_SAMPLES_PER_PARTY`` per call (429). The numbers are bounded by
the API schema; nothing of a report is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from dualrec.core.call_quality import (
    CallQuality,
    QualitySample,
    RecordingGap,
    below_minimum,
    mos_estimate,
    video_grade,
)
from dualrec.core.tasks import Task
from dualrec.db.models_rtc_quality import RtcQualitySampleRow
from dualrec.db.repositories.rtc_quality import RtcQualityRepository
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import ConflictError, RateLimitedError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor
from dualrec.services.rtc.rooms import JOINABLE, Role
from dualrec.services.tasks.service import TaskService

__all__ = ["INTERVAL_SECONDS", "QualityReport", "QualityService", "Scored", "quality_for_recording"]

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 2.0  # how often the pages report
MIN_SECONDS_BETWEEN_REPORTS = 1.0
MAX_SAMPLES_PER_PARTY = 4 * 3600  # a 8 h call at one report per 2 s
PEER_FRESH_SECONDS = 10.0
SERVER_FRESH_SECONDS = 20.0  # Janus' view is sampled every DUALREC_RTC_SERVER_STATS_SECONDS (5 s)


@dataclass(frozen=True)
class QualityReport:
    """What one browser received over the last interval (validated by the API schema)."""

    width: int = 0
    height: int = 0
    fps: float = 0.0
    video_kbps: float = 0.0
    audio_kbps: float = 0.0
    loss_pct: float = 0.0
    video_loss_pct: float = 0.0
    jitter_ms: float = 0.0
    jitter_buffer_ms: float | None = None
    rtt_ms: float = 0.0
    freezes: int = 0
    freeze_s: float = 0.0
    concealed_pct: float = 0.0
    send_width: int = 0
    send_height: int = 0
    send_fps: float = 0.0
    limitation: str = ""
    has_audio: bool = True
    has_video: bool = True


@dataclass(frozen=True)
class Scored:
    role: str
    at: datetime
    mos: float | None
    grade: str | None
    below: list[str]
    width: int
    height: int
    fps: float
    loss_pct: float
    jitter_ms: float
    rtt_ms: float
    video_kbps: float
    audio_kbps: float
    freezes: int
    concealed_pct: float


def score(report: QualityReport) -> tuple[float | None, str | None]:
    """The audio MOS estimate and the video grade of one report. The delay term is the network's
    (RTT / 2 + 2 × jitter): the browser's own jitter-buffer delay is kept with the report but not
    scored, because Chromium holds audio back there to keep lip sync with a slow video decoder —
    a client CPU matter, not the network's (measured: 500–600 ms on a clean link under load)."""
    mos = (
        mos_estimate(loss_pct=report.loss_pct, jitter_ms=report.jitter_ms, rtt_ms=report.rtt_ms)
        if report.has_audio
        else None
    )
    grade = (
        video_grade(width=report.width, height=report.height, fps=report.fps, freeze_s=report.freeze_s)
        if report.has_video
        else None
    )
    return mos, grade


def _scored(row: RtcQualitySampleRow) -> Scored:
    return Scored(
        role=row.role,
        at=row.received_at,
        mos=row.mos,
        grade=row.grade,
        below=below_minimum(row.mos, row.grade),
        width=row.width,
        height=row.height,
        fps=row.fps,
        loss_pct=row.loss_pct,
        jitter_ms=row.jitter_ms,
        rtt_ms=row.rtt_ms,
        video_kbps=row.video_kbps,
        audio_kbps=row.audio_kbps,
        freezes=row.freezes,
        concealed_pct=row.concealed_pct,
    )


class QualityService:
    def __init__(
        self, uows: UnitOfWorkFactory, tasks: TaskService, *, now: Callable[[], datetime] | None = None
    ) -> None:
        self._uows = uows
        self._tasks = tasks
        self._now = now or (lambda: datetime.now(UTC))

    def report_agent(
        self, *, actor: Actor, task_id: str, report: QualityReport
    ) -> tuple[Scored, Scored | None]:
        task = self._tasks.get(actor=actor, task_id=task_id)  # 404 outside the actor's branch scope
        return self._store(task, "agent", report)

    def report_customer(self, entry_token: str, report: QualityReport) -> tuple[Scored, Scored | None]:
        task, _flow = self._tasks.resolve_entry(entry_token)  # forged, expired, superseded: 401
        return self._store(task, "customer", report)

    def latest(self, *, actor: Actor, task_id: str) -> list[Scored]:
        """The last report of each party of the task's current attempt (the desk's other view)."""
        task = self._tasks.get(actor=actor, task_id=task_id)
        with self._uows.read() as uow:
            repo = RtcQualityRepository(uow.session)
            rows = [repo.last(task.id, task.attempt_no, role) for role in ("agent", "customer")]
            return [_scored(r) for r in rows if r is not None]

    def server_view(self, *, actor: Actor, task_id: str) -> list[dict[str, Any]]:
        """Janus' last view of each party of the task's current attempt (``janus_stats``): what the
        server received from it and sent to it, when sampled in the last ``SERVER_FRESH_SECONDS``."""
        task = self._tasks.get(actor=actor, task_id=task_id)  # 404 outside the branch scope
        now = self._now()
        out = []
        with self._uows.read() as uow:
            repo = RtcQualityRepository(uow.session)
            for party in ("customer", "agent"):
                row = repo.last(task.id, task.attempt_no, f"janus-{party}")
                if row is None or _aware(row.received_at) < now - timedelta(seconds=SERVER_FRESH_SECONDS):
                    continue
                out.append(
                    {
                        "party": party,
                        "at": _aware(row.received_at),
                        "audio_kbps": row.audio_kbps,
                        "video_kbps": row.video_kbps,
                        "loss_pct": row.loss_pct,
                        "video_loss_pct": row.video_loss_pct,
                        "jitter_ms": row.jitter_ms,
                        "rtt_ms": row.rtt_ms,
                        "details": row.details or {},
                    }
                )
        return out

    def _store(self, task: Task, role: Role, report: QualityReport) -> tuple[Scored, Scored | None]:
        if task.status not in JOINABLE:
            raise ConflictError(
                msg("rtc.call_progress_task", status=task.status),
                details={"status": task.status},
            )
        mos, grade = score(report)
        now = self._now()
        values = {
            f.name: getattr(report, f.name)
            for f in fields(report)
            if f.name not in ("has_audio", "has_video")
        }
        with self._uows() as uow:
            repo = RtcQualityRepository(uow.session)
            last = repo.last(task.id, task.attempt_no, role)
            if last is not None and _aware(last.received_at) > now - timedelta(
                seconds=MIN_SECONDS_BETWEEN_REPORTS
            ):
                raise RateLimitedError(
                    msg("rtc.quality_reports_come_too_often"),
                    details={"retry_after": MIN_SECONDS_BETWEEN_REPORTS},
                )
            if repo.count(task.id, task.attempt_no, role) >= MAX_SAMPLES_PER_PARTY:
                raise RateLimitedError(
                    msg("rtc.call_reached_limit_quality_reports"),
                    details={"limit": MAX_SAMPLES_PER_PARTY},
                )
            repo.add(
                task_id=task.id,
                attempt=task.attempt_no,
                role=role,
                received_at=now,
                mos=mos,
                grade=grade,
                **values,
            )
            other = repo.last(task.id, task.attempt_no, "customer" if role == "agent" else "agent")
            uow.commit()
        own = Scored(
            role=role,
            at=now,
            mos=mos,
            grade=grade,
            below=below_minimum(mos, grade),
            width=report.width,
            height=report.height,
            fps=report.fps,
            loss_pct=report.loss_pct,
            jitter_ms=report.jitter_ms,
            rtt_ms=report.rtt_ms,
            video_kbps=report.video_kbps,
            audio_kbps=report.audio_kbps,
            freezes=report.freezes,
            concealed_pct=report.concealed_pct,
        )
        fresh = other is not None and _aware(other.received_at) > now - timedelta(seconds=PEER_FRESH_SECONDS)
        return own, (_scored(other) if other is not None and fresh else None)


def _nacks(details: dict[str, Any] | None) -> int:
    """NACKs Janus sent a party's publisher over the interval (its video: what Janus had to ask again)."""
    video = ((details or {}).get("in") or {}).get("video") or {}
    n = video.get("nacks") if isinstance(video, dict) else 0
    return int(n) if isinstance(n, int) else 0


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def quality_for_recording(
    uows: UnitOfWorkFactory,
    task_id: str,
    attempt: int,
    *,
    t0: datetime,
    duration: float,
    gaps: list[RecordingGap],
    max_samples: int = 7200,
) -> dict[str, Any]:
    """The attempt's series on the recording's timeline (t = seconds since ``t0``, the call's first
    media packet), with the recording's gaps: what QC and the playback page get."""
    with uows.read() as uow:
        rows = RtcQualityRepository(uow.session).series(task_id, attempt)
        samples = [
            QualitySample(
                t=round((_aware(r.received_at) - t0).total_seconds(), 2),
                role=r.role,
                width=r.width,
                height=r.height,
                fps=round(r.fps, 1),
                video_kbps=round(r.video_kbps, 1),
                audio_kbps=round(r.audio_kbps, 1),
                loss_pct=round(r.loss_pct, 2),
                video_loss_pct=round(r.video_loss_pct, 2),
                jitter_ms=round(r.jitter_ms, 1),
                rtt_ms=round(r.rtt_ms, 1),
                freezes=r.freezes,
                freeze_s=round(r.freeze_s, 2),
                concealed_pct=round(r.concealed_pct, 2),
                mos=r.mos,
                grade=r.grade,
                nacks=_nacks(r.details),
            )
            for r in rows
        ]
    # the samples of the recorded stretch only; every other one when a very long call has too many
    samples = [s for s in samples if -INTERVAL_SECONDS <= s.t <= duration + INTERVAL_SECONDS]
    step = max(1, -(-len(samples) // max_samples))
    return CallQuality(
        samples=tuple(samples[::step]),
        gaps=tuple(gaps),
        duration=round(duration, 2),
        interval=INTERVAL_SECONDS * step,
    ).to_dict()
