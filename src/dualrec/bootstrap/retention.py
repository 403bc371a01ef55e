"""The retention reminder: a daily notice of archive entries that expire soon.

A daemon thread in every ``dualrec serve`` (through ``Container.start``) and ``dualrec worker``. It
checks every ``DUALREC_ARCHIVE_REMINDER_CHECK_SECONDS`` (default hourly); the notices are unique per
day and branch in the database, so however many processes run it, each branch gets one notice a day
and the audit log one event. It only lists and notifies: nothing is ever deleted from here.
"""

from __future__ import annotations

import logging
import os

from sqlalchemy import Engine

from dualrec.bootstrap.periodic import PeriodicThread
from dualrec.db.engine import make_engine, make_session_factory
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.archive.retention import ExpiryRun, RetentionService
from dualrec.settings import Settings

__all__ = ["RetentionReminder", "build_retention_reminder", "start_standalone_reminder"]

logger = logging.getLogger(__name__)


class RetentionReminder(PeriodicThread):
    def __init__(
        self, retention: RetentionService, *, days: int, check_seconds: float, engine: Engine | None = None
    ) -> None:
        super().__init__(name="dualrec-retention", check_seconds=check_seconds, run_at_start=True)
        self._engine = engine  # owned (disposed on stop) when the reminder has its own
        self._retention = retention
        self._days = days

    def run_once(self) -> ExpiryRun | None:
        try:
            run = self._retention.notify_expiring(days=self._days)
        except Exception:
            logger.exception("retention reminder failed; retrying at the next check")
            return None
        if run.notices_added:
            logger.info(
                "retention reminder %s: %d entries expire within %d days, %d notices",
                run.day,
                len(run.entries),
                run.days,
                run.notices_added,
            )
        return run

    def stop(self) -> None:
        super().stop()
        if self._engine is not None:
            self._engine.dispose()


def build_retention_reminder(settings: Settings, retention: RetentionService) -> RetentionReminder | None:
    if not settings.archive_reminder_enabled:
        return None
    return RetentionReminder(
        retention,
        days=settings.archive_expiry_notice_days,
        check_seconds=settings.archive_reminder_check_seconds,
    )


def start_standalone_reminder(settings: Settings) -> RetentionReminder | None:
    """For ``dualrec worker``: a reminder on its own engine (disposed when it stops). Celery forks its
    pool processes from this one; a forked child drops (without closing) the inherited connections."""
    if not settings.archive_reminder_enabled:
        return None
    engine = make_engine(settings.resolved_database_url)
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    reminder = RetentionReminder(
        RetentionService(UnitOfWorkFactory(make_session_factory(engine))),
        days=settings.archive_expiry_notice_days,
        check_seconds=settings.archive_reminder_check_seconds,
        engine=engine,
    )
    reminder.start()
    return reminder
