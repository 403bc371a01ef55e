"""Retention policies per business type, the expiry date of each catalogue entry, and the daily
reminder of entries that expire soon (in-app notices per branch + one audit event, once a day).

Changing a policy recomputes, in the same transaction, the expiry of every active entry that follows
it (entries with a manual retention code keep theirs). Nothing here deletes anything: an expired
entry waits for a deletion request and its full approval chain (services.archive.deletion).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dualrec.core.archive import ArchiveEntry, ArchiveQuery, EntryStatus, RetentionNotice
from dualrec.core.audit import AuditAction
from dualrec.core.retention import (
    DEFAULT_POLICY_KEY,
    RetentionBasis,
    RetentionPolicy,
    compute_expiry,
    normalize_retention_code,
    policy_for,
)
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.common.scope import scope_branch_ids

__all__ = ["NOTICE_KIND", "ExpiryRun", "RetentionService", "retention_fields"]

NOTICE_KIND = "retention.expiring"


def retention_fields(
    policies: dict[str, RetentionPolicy],
    *,
    business_type: str,
    recorded_at: datetime,
    contract_end: date | None,
    manual_code: str | None = None,
    manual_basis: str | None = None,
) -> dict[str, Any]:
    """Retention code, basis and expiry of an entry: its manual code, else its business type's policy."""
    policy = policy_for(policies, business_type)
    code = manual_code or policy.code
    basis = RetentionBasis(manual_basis or policy.basis)
    return {
        "retention_code": code,
        "retention_basis": basis.value,
        "retention_manual": manual_code is not None,
        "expires_on": compute_expiry(code, basis, recorded_at=recorded_at, contract_end=contract_end),
    }


@dataclass(frozen=True)
class ExpiryRun:
    day: str
    days: int
    entries: list[ArchiveEntry]  # sealed personal fields: never shown from here
    notices_added: int


class RetentionService:
    def __init__(self, uows: UnitOfWorkFactory) -> None:
        self.uows = uows

    # ---- policies ------------------------------------------------------------------------------

    def policies(self) -> list[RetentionPolicy]:
        with self.uows.read() as uow:
            return list(uow.archive.policies().values())

    def put_policy(
        self, *, actor: Actor, business_type: str, code: str, basis: str, name: str
    ) -> tuple[RetentionPolicy, int]:
        """Create or change a policy; returns it and how many entries got a new expiry date."""
        business_type = business_type.strip()
        if not business_type:
            raise InvalidInputError(msg("archive.business_type_required"))
        try:
            policy = RetentionPolicy(
                business_type, normalize_retention_code(code), RetentionBasis(basis), name.strip()
            )
        except ValueError as exc:
            raise InvalidInputError(
                msg("archive.invalid_policy", exc=exc), details={"fields": {"code": str(exc)}}
            ) from exc
        with self.uows() as uow:
            before = uow.archive.policies().get(business_type)
            uow.archive.put_policy(policy, by=actor.name)
            changed = self._recompute(uow, business_type)
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.RETENTION_POLICY_CHANGED,
                target_type="retention_policy",
                target_id=business_type,
                details={
                    "before": _policy_json(before) if before else None,
                    "after": _policy_json(policy),
                    "entries_recomputed": changed,
                },
            )
            uow.commit()
        return policy, changed

    def delete_policy(self, *, actor: Actor, business_type: str) -> int:
        if business_type == DEFAULT_POLICY_KEY:
            raise ConflictError(msg("archive.default_policy_cannot_deleted"))
        with self.uows() as uow:
            before = uow.archive.policies().get(business_type)
            if before is None or not uow.archive.delete_policy(business_type):
                raise NotFoundError(msg("archive.such_policy"), details={"business_type": business_type})
            changed = self._recompute(uow, business_type)
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.RETENTION_POLICY_CHANGED,
                target_type="retention_policy",
                target_id=business_type,
                details={"before": _policy_json(before), "after": None, "entries_recomputed": changed},
            )
            uow.commit()
        return changed

    def _recompute(self, uow: UnitOfWork, business_type: str) -> int:
        """New expiry dates for the active, policy-following entries the change affects."""
        policies = uow.archive.policies()
        if business_type == DEFAULT_POLICY_KEY:  # the types without a policy of their own
            targets = uow.archive.policy_entries(
                None, exclude=[b for b in policies if b != DEFAULT_POLICY_KEY]
            )
        else:
            targets = uow.archive.policy_entries([business_type], exclude=[])
        changed = 0
        for recording_id, _ in targets:
            entry = uow.archive.get(recording_id)
            assert entry is not None
            fields = retention_fields(
                policies,
                business_type=entry.business_type,
                recorded_at=entry.recorded_at,
                contract_end=entry.contract_end,
            )
            if (fields["retention_code"], fields["retention_basis"], fields["expires_on"]) != (
                entry.retention_code,
                entry.retention_basis,
                entry.expires_on,
            ):
                uow.archive.update(recording_id, **fields)
                changed += 1
        return changed

    # ---- expiry reminders ----------------------------------------------------------------------

    def expiring(self, *, days: int, today: date | None = None) -> list[ArchiveEntry]:
        """Active entries (every branch) whose retention ends within ``days`` days, or has ended."""
        today = today or datetime.now(UTC).date()
        query = ArchiveQuery(status=EntryStatus.ACTIVE.value, expires_before=today + timedelta(days=days + 1))
        with self.uows.read() as uow:
            return sorted(
                uow.archive.iter_entries(query), key=lambda e: (e.expires_on or today, e.recording_id)
            )

    def notify_expiring(self, *, days: int, today: date | None = None) -> ExpiryRun:
        """One notice per branch with expiring entries, at most once a day (safe to run from several
        processes: the notice is unique per kind, day and branch), and one audit event when any was made."""
        today = today or datetime.now(UTC).date()
        entries = self.expiring(days=days, today=today)
        per_branch: dict[int, list[ArchiveEntry]] = defaultdict(list)
        for e in entries:
            per_branch[e.branch_id].append(e)
        day = today.isoformat()
        added = 0
        with self.uows() as uow:
            for branch_id, items in sorted(per_branch.items()):
                expired = [e for e in items if e.expires_on is not None and e.expires_on <= today]
                payload = {
                    "days": days,
                    "count": len(items),
                    "expired": len(expired),
                    "legal_hold": sum(1 for e in items if e.legal_hold),
                    "earliest": min(e.expires_on for e in items if e.expires_on).isoformat(),
                    "recording_ids": [e.recording_id for e in items[:200]],
                }
                if uow.archive.add_notice(kind=NOTICE_KIND, day=day, branch_id=branch_id, payload=payload):
                    added += 1
            if added:
                audit.record(
                    uow,
                    actor=SYSTEM,
                    action=AuditAction.ARCHIVE_EXPIRING_NOTIFIED,
                    target_type="archive",
                    target_id=day,
                    details={"days": days, "entries": len(entries), "notices": added},
                )
            uow.commit()
        return ExpiryRun(day=day, days=days, entries=entries, notices_added=added)

    def notices(self, *, actor: Actor, limit: int = 50) -> list[RetentionNotice]:
        with self.uows() as uow:
            return uow.archive.notices(branch_ids=scope_branch_ids(uow, actor, None), limit=limit)


def _policy_json(p: RetentionPolicy) -> dict[str, str]:
    return {"code": p.code, "basis": p.basis.value, "name": p.name}
