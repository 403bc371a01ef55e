"""Integrity alerts: tampering (or a checkpoint log that cannot be written) is never only logged.

An alert is an audit event (``integrity.alert``, or the failed ``integrity.audited`` run) and an
in-app notice for head office, stored like the retention notices (``archive_notices``, kind
``integrity.alert``, at most one per day; the audit events keep every occurrence). It is committed on
its own, after the failing operation rolled back.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from dualrec.core.audit import AuditAction
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM

__all__ = [
    "NOTICE_KIND",
    "CheckpointLogError",
    "LedgerIntegrityError",
    "add_alert_notice",
    "capped",
    "record_alert",
]

logger = logging.getLogger(__name__)

NOTICE_KIND = "integrity.alert"
MAX_PROBLEMS = 50  # kept in an audit event / notice (the count says how many there were)


class LedgerIntegrityError(ConflictError):
    """The database disagrees with itself or with the outside checkpoint log: nothing is signed."""

    code = "evidence_integrity"

    def __init__(self, problems: list[str]) -> None:
        first = problems[0] if problems else "unknown"
        super().__init__(
            f"存证数据完整性校验失败，已拒绝签名 / evidence integrity check failed, nothing signed: {first}",
            details={"problems": capped(problems), "count": len(problems)},
        )
        self.problems = problems


class CheckpointLogError(ConflictError):
    """A checkpoint is signed in the database but could not be written to the outside log (pending)."""

    code = "checkpoint_log_unavailable"


def capped(problems: list[str]) -> list[str]:
    return [p[:300] for p in problems[:MAX_PROBLEMS]]


def _root_branch_id(uow: UnitOfWork) -> int | None:
    branches = uow.branches.subtree("/")
    if not branches:
        return None
    return min(branches, key=lambda b: (b.path.count("/"), b.id)).id


def add_alert_notice(uow: UnitOfWork, *, source: str, problems: list[str]) -> bool:
    """The day's head-office notice (inside the caller's unit of work); False when one exists today."""
    branch_id = _root_branch_id(uow)
    if branch_id is None:
        return False
    payload: dict[str, Any] = {"source": source, "count": len(problems), "problems": capped(problems)[:10]}
    return uow.archive.add_notice(
        kind=NOTICE_KIND, day=datetime.now(UTC).date().isoformat(), branch_id=branch_id, payload=payload
    )


def record_alert(uows: UnitOfWorkFactory, *, source: str, problems: list[str]) -> None:
    """An ``integrity.alert`` audit event and the day's notice, committed now. Never raises: the
    caller is already failing with the reason."""
    logger.error("evidence integrity alert (%s): %s", source, "; ".join(problems[:5]))
    try:
        with uows() as uow:
            audit.record(
                uow,
                actor=SYSTEM,
                action=AuditAction.INTEGRITY_ALERT,
                target_type="evidence",
                target_id=source,
                outcome="failure",
                details={"source": source, "count": len(problems), "problems": capped(problems)},
            )
            add_alert_notice(uow, source=source, problems=problems)
            uow.commit()
    except Exception:
        logger.exception("could not record the integrity alert")
