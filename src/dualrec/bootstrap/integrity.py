"""The scheduled integrity audit: a daemon thread in every ``dualrec serve`` (``Container.start``).

It looks every ``DUALREC_INTEGRITY_AUDIT_CHECK_SECONDS`` (the first time that long after start)
and runs the audit (``services.evidence.integrity.run_audit``) when the last recorded run — by any
process, from the audit log — is older than ``DUALREC_INTEGRITY_AUDIT_INTERVAL_HOURS``: several
servers do not multiply the runs. A failed run records its own alert; an exception is logged
and retried at the next look.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from dualrec.bootstrap.periodic import PeriodicThread
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.evidence.integrity import IntegrityAudit, last_audit, run_audit
from dualrec.services.evidence.ledger import Notary
from dualrec.settings import Settings

__all__ = ["IntegrityAuditor", "build_integrity_auditor"]

logger = logging.getLogger(__name__)


class IntegrityAuditor(PeriodicThread):
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        notary: Callable[[], Notary],
        *,
        interval: timedelta,
        check_seconds: float,
    ) -> None:
        super().__init__(name="dualrec-integrity", check_seconds=check_seconds, run_at_start=False)
        self._uows, self._notary = uows, notary
        self._interval = interval

    def run_once(self) -> IntegrityAudit | None:
        """Run when due; the run (or None when not due / on an error)."""
        try:
            last = last_audit(self._uows)
            if last is not None and datetime.now(UTC) - last.at < self._interval:
                return None
            result = run_audit(self._uows, self._notary(), trigger="schedule")
        except Exception:
            logger.exception("integrity audit failed to run; retrying at the next check")
            return None
        log = logger.info if result.ok else logger.error
        log(
            "integrity audit: %s (%d events, %d checkpoints, %d audit rows, %.1f s)%s",
            "clean" if result.ok else f"{result.problem_count} PROBLEMS",
            result.events,
            result.checkpoints,
            result.audit_rows,
            result.seconds,
            "" if result.ok else ": " + "; ".join(result.problems[:3]),
        )
        return result


def build_integrity_auditor(settings: Settings, uows: UnitOfWorkFactory) -> IntegrityAuditor | None:
    if not settings.integrity_audit_enabled:
        return None
    from dualrec.bootstrap.evidence import evidence_notary

    return IntegrityAuditor(
        uows,
        lambda: evidence_notary(settings),
        interval=timedelta(hours=settings.integrity_audit_interval_hours),
        check_seconds=settings.integrity_audit_check_seconds,
    )
