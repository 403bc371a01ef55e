"""The archive catalogue, retention policies and notices. Personal fields come back SEALED; the archive
service opens them. Search takes blind-index hashes, never plaintext names or ID numbers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualrec.core.archive import ArchiveEntry, ArchiveQuery, RetentionNotice
from dualrec.core.retention import RetentionBasis, RetentionPolicy
from dualrec.db.models import BranchRow, TaskAttemptRow
from dualrec.db.models_archive import ApprovalChainRow, ArchiveEntryRow, ArchiveNoticeRow, RetentionPolicyRow

__all__ = ["ArchiveRepository"]

E = ArchiveEntryRow


def _to_core(row: ArchiveEntryRow, branch: BranchRow) -> ArchiveEntry:
    return ArchiveEntry(
        recording_id=row.recording_id,
        branch_id=row.branch_id,
        branch_path=branch.path,
        branch_name=branch.name,
        status=row.status,
        filename=row.filename,
        file_format=row.file_format,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        duration_ms=row.duration_ms,
        av=dict(row.av or {}),
        task_id=row.task_id,
        attempt_no=row.attempt_no,
        business_type=row.business_type,
        business_no=row.business_no,
        contract_no=row.contract_no,
        product=row.product,
        customer_id=row.customer_id,
        customer_name=row.customer_name_sealed,
        id_number=row.id_number_sealed,
        phone=row.phone_sealed,
        created_by=row.created_by,
        recorded_at=row.recorded_at,
        qc_status=row.qc_status,
        qc_verdict=row.qc_verdict,
        retention_code=row.retention_code,
        retention_basis=row.retention_basis,
        retention_manual=row.retention_manual,
        contract_end=row.contract_end,
        expires_on=row.expires_on,
        secrecy_level=row.secrecy_level,
        carrier_numbers=tuple(str(c) for c in row.carrier_numbers or ()),
        legal_hold=row.legal_hold,
        legal_hold_reason=row.legal_hold_reason,
        legal_hold_by=row.legal_hold_by,
        legal_hold_at=row.legal_hold_at,
        deleted_at=row.deleted_at,
        tombstone_seq=row.tombstone_seq,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _where(q: ArchiveQuery) -> list[Any]:
    conds: list[Any] = []
    for name in (
        "customer_id",
        "customer_name_hash",
        "id_number_hash",
        "business_no",
        "contract_no",
        "business_type",
        "qc_verdict",
        "status",
        "task_id",
    ):
        value = getattr(q, name)
        if value:
            conds.append(getattr(E, name) == value)
    if q.recorded_from is not None:
        conds.append(E.recorded_at >= q.recorded_from)
    if q.recorded_to is not None:
        conds.append(E.recorded_at < q.recorded_to)
    if q.expires_before is not None:
        conds.append(and_(E.expires_on.is_not(None), E.expires_on < q.expires_before))
    if q.legal_hold is not None:
        conds.append(E.legal_hold == q.legal_hold)
    return conds


class ArchiveRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # ---- entries -------------------------------------------------------------------------------

    def get(self, recording_id: str, *, for_update: bool = False) -> ArchiveEntry | None:
        stmt = (
            select(E, BranchRow)
            .join(BranchRow, E.branch_id == BranchRow.id)
            .where(E.recording_id == recording_id)
        )
        if for_update:
            stmt = stmt.with_for_update(of=E)
        found = self._s.execute(stmt).first()
        return _to_core(found[0], found[1]) if found else None

    def exists(self, recording_id: str) -> bool:
        return self._s.get(E, recording_id) is not None

    def add(self, **fields: Any) -> bool:
        """False when an entry for the recording exists already (added by a concurrent sync)."""
        now = datetime.now(UTC)
        try:
            with self._s.begin_nested():
                self._s.add(E(created_at=now, updated_at=now, **fields))
                self._s.flush()
        except IntegrityError:
            return False
        return True

    def update(self, recording_id: str, **fields: Any) -> None:
        row = self._s.get_one(E, recording_id)
        for key, value in fields.items():
            if not hasattr(row, key):
                raise AttributeError(key)
            setattr(row, key, value)
        row.updated_at = datetime.now(UTC)
        self._s.flush()

    def search(
        self, q: ArchiveQuery, *, branch_ids: list[int] | None, offset: int, limit: int, count_cap: int
    ) -> tuple[list[ArchiveEntry], int, bool]:
        """One page, newest first, and the number of matches counted up to ``count_cap``
        (returns ``(items, total, exact)``; ``exact`` is False when there are more than the cap).
        ``branch_ids`` None means every branch."""
        conds = _where(q)
        if branch_ids is not None:
            conds.append(E.branch_id.in_(branch_ids))
        page = self._s.execute(
            select(E, BranchRow)
            .join(BranchRow, E.branch_id == BranchRow.id)
            .where(*conds)
            .order_by(E.recorded_at.desc(), E.recording_id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        items = [_to_core(r[0], r[1]) for r in page]
        if offset == 0 and len(items) < limit:
            return items, len(items), True
        capped = select(E.recording_id).where(*conds).limit(count_cap + 1).subquery()
        total = int(self._s.scalar(select(func.count()).select_from(capped)) or 0)
        return items, min(total, count_cap), total <= count_cap

    def iter_entries(self, q: ArchiveQuery, *, batch: int = 1000) -> Iterator[ArchiveEntry]:
        """Every entry matching ``q`` (all branches), in batches (exports, expiry runs, policy changes)."""
        last: tuple[datetime, str] | None = None
        while True:
            stmt = select(E, BranchRow).join(BranchRow, E.branch_id == BranchRow.id).where(*_where(q))
            if last is not None:
                stmt = stmt.where(
                    or_(E.recorded_at < last[0], and_(E.recorded_at == last[0], E.recording_id < last[1]))
                )
            rows = self._s.execute(
                stmt.order_by(E.recorded_at.desc(), E.recording_id.desc()).limit(batch)
            ).all()
            for r in rows:
                yield _to_core(r[0], r[1])
            if len(rows) < batch:
                return
            last = (rows[-1][0].recorded_at, rows[-1][0].recording_id)

    def policy_entries(self, business_types: list[str] | None, exclude: list[str]) -> list[tuple[str, str]]:
        """(recording_id, business_type) of active entries whose retention follows the policies:
        of ``business_types`` (None: any type) except ``exclude``."""
        stmt = select(E.recording_id, E.business_type).where(
            E.status == "active", E.retention_manual.is_(False)
        )
        if business_types is not None:
            stmt = stmt.where(E.business_type.in_(business_types))
        if exclude:
            stmt = stmt.where(E.business_type.not_in(exclude))
        return [(r[0], r[1]) for r in self._s.execute(stmt).all()]

    def branch_scope(self, path: str) -> tuple[list[int], int]:
        """Ids of the branches at or below ``path`` and the number of branches in all (plain scalars:
        every search asks, so no ORM objects are built)."""
        ids = list(
            self._s.scalars(select(BranchRow.id).where(BranchRow.path.startswith(path, autoescape=True)))
        )
        return [int(i) for i in ids], int(self._s.scalar(select(func.count()).select_from(BranchRow)) or 0)

    def task_link(self, recording_id: str) -> tuple[str, int] | None:
        """(task id, attempt number) of the attempt that produced this recording, if any."""
        found = self._s.execute(
            select(TaskAttemptRow.task_id, TaskAttemptRow.number)
            .where(TaskAttemptRow.recording_id == recording_id)
            .order_by(TaskAttemptRow.number.desc())
            .limit(1)
        ).first()
        return (str(found[0]), int(found[1])) if found else None

    # ---- retention policies --------------------------------------------------------------------

    def policies(self) -> dict[str, RetentionPolicy]:
        rows = self._s.scalars(select(RetentionPolicyRow).order_by(RetentionPolicyRow.business_type))
        return {
            r.business_type: RetentionPolicy(r.business_type, r.code, RetentionBasis(r.basis), r.name)
            for r in rows
        }

    def put_policy(self, policy: RetentionPolicy, *, by: str) -> None:
        row = self._s.get(RetentionPolicyRow, policy.business_type)
        now = datetime.now(UTC)
        if row is None:
            row = RetentionPolicyRow(business_type=policy.business_type)
            self._s.add(row)
        row.code, row.basis, row.name = policy.code, policy.basis.value, policy.name
        row.updated_at, row.updated_by = now, by
        self._s.flush()

    def delete_policy(self, business_type: str) -> bool:
        row = self._s.get(RetentionPolicyRow, business_type)
        if row is None:
            return False
        self._s.delete(row)
        self._s.flush()
        return True

    # ---- approval chains -----------------------------------------------------------------------

    def chain(self, chain_id: str) -> list[dict[str, Any]] | None:
        row = self._s.get(ApprovalChainRow, chain_id)
        return [dict(s) for s in row.steps] if row else None

    def put_chain(self, chain_id: str, steps: list[dict[str, Any]], *, by: str) -> None:
        row = self._s.get(ApprovalChainRow, chain_id)
        if row is None:
            row = ApprovalChainRow(id=chain_id)
            self._s.add(row)
        row.steps, row.updated_at, row.updated_by = steps, datetime.now(UTC), by
        self._s.flush()

    # ---- retention notices ---------------------------------------------------------------------

    def add_notice(self, *, kind: str, day: str, branch_id: int, payload: dict[str, Any]) -> bool:
        """Adds the notice unless one exists for (kind, day, branch); True when added."""
        try:
            with self._s.begin_nested():
                self._s.add(
                    ArchiveNoticeRow(
                        kind=kind, day=day, branch_id=branch_id, payload=payload, created_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            return False
        return True

    def notices(self, *, branch_ids: list[int] | None, limit: int) -> list[RetentionNotice]:
        stmt = select(ArchiveNoticeRow, BranchRow).join(BranchRow, ArchiveNoticeRow.branch_id == BranchRow.id)
        if branch_ids is not None:
            stmt = stmt.where(ArchiveNoticeRow.branch_id.in_(branch_ids))
        rows = self._s.execute(
            stmt.order_by(ArchiveNoticeRow.created_at.desc(), ArchiveNoticeRow.id.desc()).limit(limit)
        ).all()
        return [
            RetentionNotice(n.id, n.kind, n.day, n.branch_id, b.name, dict(n.payload), n.created_at)
            for n, b in rows
        ]
