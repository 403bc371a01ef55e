"""QC result → task: when the QC of a task attempt's recording finished (a self-service session's,
or one uploaded in the console for the task), the task moves and the business system is told (the
``task.result`` webhook, through ``TaskService.session_transition``)."""

from __future__ import annotations

from typing import Any

from dualrec.core.live_session import SessionStatus
from dualrec.core.tasks import TaskStatus
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.tasks.service import TaskService

__all__ = ["TaskQcResult", "task_qc_finished"]


class TaskQcResult:
    """What the business system is told when QC of a self-service recording finished."""

    @staticmethod
    def status(verdict: str) -> TaskStatus:
        return {"PASS": TaskStatus.PASSED, "REVIEW": TaskStatus.REVIEW}.get(verdict, TaskStatus.FAILED)


def task_qc_finished(uows: UnitOfWorkFactory, tasks: TaskService, recording_id: str) -> None:
    """Called when a recording's QC finished: a recording of a task's attempt moves the task."""
    with uows() as uow:
        rec = uow.recordings.get(recording_id)
        if rec is None or rec.verdict is None:
            return
        info = (rec.inputs or {}).get("task") or {}
        task_id, attempt = info.get("task_id"), info.get("attempt")
        if not task_id or not isinstance(attempt, int):
            return
        # a session's own recording (a console upload for a handed-over attempt is not)
        s = uow.live_sessions.for_attempt(str(task_id), attempt) if info.get("session_id") else None
        if s is not None and s.status != SessionStatus.COMPLETED:
            return  # a failed / handed-over session's recording is evidence; the task already moved
        reasons = [str(r) for r in (rec.summary or {}).get("reasons", [])]
        signed = (s.identity.get("signed") or {}) if s is not None else {}
        if info.get("mode") == "human" and s is None:  # a remote interview: signed during the call
            signed = {
                f"{i:04d}": {**e.payload}
                for i, e in enumerate(uow.rtc.desk_events(str(task_id), attempt))
                if e.kind == "signed" and e.party == "customer"
            }
        result: dict[str, Any] = {
            "recording_id": rec.id,
            "verdict": rec.verdict,
            "risk_score": rec.risk_score,
            "reasons": reasons,
            "signed_documents": [
                {"name": d.get("name", ""), "sha256": d.get("sha256", ""), "blob_key": d.get("blob_key", "")}
                for _, d in sorted(signed.items())
            ],
        }
        tasks.session_transition(
            uow,
            str(task_id),
            attempt,
            TaskQcResult.status(rec.verdict),
            reason="; ".join(reasons)[:500],
            result=result,
            recording_id=rec.id,
        )
        uow.commit()
