"""Wiring of the remote interviews' live analysis: the event service and the supervisor that
``dualrec serve`` runs (one worker process per call in progress: ``rtc_live_main``)."""

from __future__ import annotations

import sys
from pathlib import Path

from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.rtc.live_calls import LiveCallSupervisor
from dualrec.services.rtc.live_events import LiveEventService
from dualrec.services.tasks.service import TaskService
from dualrec.settings import Settings

__all__ = ["build_live_events", "build_live_supervisor", "live_dir", "safe_name"]


def live_dir(settings: Settings) -> Path:
    path = settings.data_dir / "rtc" / "live"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def safe_name(task_id: str) -> str:
    return "".join(c for c in task_id if c.isalnum() or c in "-_")[:64] or "task"


def build_live_events(uows: UnitOfWorkFactory, tasks: TaskService) -> LiveEventService:
    return LiveEventService(uows, tasks)


def build_live_supervisor(settings: Settings, events: LiveEventService) -> LiveCallSupervisor | None:
    if not (settings.rtc_enabled and settings.rtc_live_enabled):
        return None
    live = live_dir(settings)

    def command(task_id: str, attempt: int) -> list[str]:
        return [sys.executable, "-m", "dualrec.bootstrap.rtc_live_main", task_id, str(int(attempt))]

    return LiveCallSupervisor(
        events.active_calls,
        command,
        log_path=lambda task_id, attempt: str(live / f"{safe_name(task_id)}-{int(attempt)}.log"),
    )
