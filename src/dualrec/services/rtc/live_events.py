"""Subtitles and alerts of a remote interview's live analysis: written by the call's live worker,
read (and alerts acknowledged) by the interviewer of that call only, kept with the call
(``rtc_live_events``) for QC and playback.

Who may read: a console user holding ``interview:conduct`` whose branch scope contains the task
(otherwise 404, as every task route) and who is the interviewer that took this attempt's customer
(otherwise 403). A customer's link token opens none of this: the routes need a console session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dualrec.core.flow import Flow
from dualrec.core.live_record import live_record
from dualrec.core.rtc_queue import QueueStatus
from dualrec.db.repositories.rtc_live import RtcLiveRepository
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import NotFoundError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor
from dualrec.services.flows.sensitive_words import current_words
from dualrec.services.tasks.service import TaskService, attempt_flow

__all__ = ["CallContext", "LiveEventService", "event_out", "live_for_recording"]

MAX_TEXT = 2000


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def event_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "speaker": row.speaker,
        "code": row.code,
        "node_id": row.node_id,
        "text": row.text,
        "reason": row.reason,
        "t_start": row.t_start,
        "t_end": row.t_end,
        "spoken_until": _aware(row.spoken_until),
        "created_at": _aware(row.created_at),
        "details": row.details or {},
        "acked_at": _aware(row.acked_at),
        "acked_by": row.acked_by,
    }


def live_for_recording(
    uows: UnitOfWorkFactory, task_id: str, attempt: int, *, t0: datetime, duration: float
) -> dict[str, Any] | None:
    """The call's live analysis on the composite's timeline (t = seconds since ``t0``, its first
    media packet; ``core.live_record``) for QC and the playback page; None when nothing was
    analysed live (``DUALREC_RTC_LIVE_ENABLED`` off, or the worker never started)."""
    with uows.read() as uow:
        rows = RtcLiveRepository(uow.session).call(task_id, attempt)
        if not rows:
            return None
        return live_record(rows, t0, duration).to_dict()


@dataclass(frozen=True)
class CallContext:
    """What the worker needs to judge what it hears: the attempt's flow, the interviewer's marks,
    the sensitive words, whether the call still runs, and the customer's verified face if any."""

    active: bool
    flow: Flow | None
    marks: list[Any]
    sensitive_words: tuple[str, ...]
    reference_key: str | None  # blob key of the face the AI session verified (liveness proof)


class LiveEventService:
    def __init__(self, uows: UnitOfWorkFactory, tasks: TaskService) -> None:
        self._uows = uows
        self._tasks = tasks

    # ---- the worker's side ---------------------------------------------------------------------

    def record(
        self,
        task_id: str,
        attempt: int,
        kind: str,
        *,
        speaker: str = "",
        code: str = "",
        node_id: str = "",
        text: str = "",
        reason: str = "",
        t_start: float | None = None,
        t_end: float | None = None,
        spoken_until: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        with self._uows() as uow:
            event_id = RtcLiveRepository(uow.session).add(
                task_id=task_id,
                attempt=attempt,
                kind=kind,
                created_at=_now(),
                speaker=speaker,
                code=code[:32],
                node_id=node_id[:64],
                text=text[:MAX_TEXT],
                reason=reason[:500],
                t_start=t_start,
                t_end=t_end,
                spoken_until=spoken_until,
                details=details or {},
            )
            uow.commit()
        return event_id

    def context(self, task_id: str, attempt: int) -> CallContext:
        words = current_words(self._uows)
        with self._uows.read() as uow:
            task = uow.tasks.get(task_id)
            entry = uow.rtc.entry(task_id, attempt)
            active = (
                task is not None
                and task.attempt_no == attempt
                and entry is not None
                and entry.status == QueueStatus.ACCEPTED
            )
            flow = None
            reference = None
            marks: list[Any] = []
            if task is not None and task.current_attempt is not None:
                version = uow.flows.version(task.flow_id, task.flow_version)
                if version is not None:
                    flow = attempt_flow(version.definition, task.current_attempt.draws)
                marks = list(uow.rtc.marks(task_id, attempt))
                session = uow.live_sessions.for_attempt(task_id, attempt)
                proof = (session.identity.get("liveness") or {}) if session is not None else {}
                if isinstance(proof, dict) and proof.get("passed") and proof.get("blob_key"):
                    reference = str(proof["blob_key"])
        return CallContext(active, flow, marks, words, reference)

    def active_calls(self) -> list[tuple[str, int]]:
        """(task id, attempt) of every call an interviewer took and has not hung up."""
        with self._uows.read() as uow:
            return [
                (e.task_id, e.attempt) for e in uow.rtc.open_entries() if e.status == QueueStatus.ACCEPTED
            ]

    # ---- the interviewer's side ----------------------------------------------------------------

    def _check(self, actor: Actor, task_id: str) -> tuple[str, int]:
        task = self._tasks.get(actor=actor, task_id=task_id)  # 404 outside the branch scope
        with self._uows.read() as uow:
            entry = uow.rtc.entry(task.id, task.attempt_no)
        if entry is None or entry.accepted_by != actor.id:
            raise PermissionDeniedError(msg("rtc.live_only_interviewer"))
        return task.id, task.attempt_no

    def feed(self, actor: Actor, task_id: str, after: int) -> dict[str, Any]:
        tid, attempt = self._check(actor, task_id)
        with self._uows.read() as uow:
            rows = RtcLiveRepository(uow.session).after(tid, attempt, after)
            events = [event_out(r) for r in rows]
        return {"task_id": tid, "attempt": attempt, "events": events}

    def acknowledge(self, actor: Actor, task_id: str, event_id: int) -> dict[str, Any]:
        tid, attempt = self._check(actor, task_id)
        with self._uows() as uow:
            row = RtcLiveRepository(uow.session).get(event_id)
            if row is None or row.task_id != tid or row.attempt != attempt or row.kind != "alert":
                raise NotFoundError(msg("rtc.live_alert_not_found"), details={"event_id": event_id})
            if row.acked_at is None:
                row.acked_at = _now()
                row.acked_by = actor.name[:100]
            out = event_out(row)
            uow.commit()
        return out
