"""Deletion requests of archived recordings, with the copied approval chain and every decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualrec.core.approvals import ApprovalState, ApprovalStep, Decision, RequestStatus, StepDecision
from dualrec.core.archive import DeletionRequest
from dualrec.db.models import BranchRow
from dualrec.db.models_archive import ArchiveEntryRow, DeletionRequestRow

__all__ = ["DeletionRequestRepository", "decision_to_json"]


def decision_to_json(d: StepDecision) -> dict[str, Any]:
    return {
        "step": d.step,
        "user_id": d.user_id,
        "username": d.username,
        "role": d.role,
        "decision": d.decision.value,
        "comment": d.comment,
        "at": d.at.isoformat(),
    }


def _decision(data: dict[str, Any]) -> StepDecision:
    return StepDecision(
        step=int(data["step"]),
        user_id=int(data["user_id"]),
        username=str(data["username"]),
        role=str(data["role"]),
        decision=Decision(data["decision"]),
        comment=str(data.get("comment", "")),
        at=datetime.fromisoformat(str(data["at"])),
    )


def _to_core(row: DeletionRequestRow, branch_path: str) -> DeletionRequest:
    state = ApprovalState(
        requester_id=row.requester_id,
        steps=tuple(ApprovalStep(str(s["role"]), str(s.get("name", ""))) for s in row.steps),
        decisions=tuple(_decision(d) for d in row.decisions),
        status=RequestStatus(row.status),
    )
    return DeletionRequest(
        id=row.id,
        recording_id=row.recording_id,
        reason=row.reason,
        requested_by=row.requested_by,
        created_at=row.created_at,
        state=state,
        finished_at=row.finished_at,
        result=dict(row.result or {}),
        branch_path=branch_path,
    )


class DeletionRequestRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _select(self) -> Any:
        return (
            select(DeletionRequestRow, BranchRow.path)
            .join(ArchiveEntryRow, DeletionRequestRow.recording_id == ArchiveEntryRow.recording_id)
            .join(BranchRow, ArchiveEntryRow.branch_id == BranchRow.id)
        )

    def add(
        self,
        *,
        id: str,
        recording_id: str,
        reason: str,
        requester_id: int,
        requested_by: str,
        steps: tuple[ApprovalStep, ...],
        at: datetime,
    ) -> None:
        self._s.add(
            DeletionRequestRow(
                id=id,
                recording_id=recording_id,
                status=RequestStatus.PENDING.value,
                reason=reason,
                requester_id=requester_id,
                requested_by=requested_by,
                steps=[{"role": s.role, "name": s.name} for s in steps],
                decisions=[],
                result={},
                created_at=at,
            )
        )
        self._s.flush()

    def get(self, request_id: str, *, for_update: bool = False) -> DeletionRequest | None:
        stmt = self._select().where(DeletionRequestRow.id == request_id)
        if for_update:
            stmt = stmt.with_for_update(of=DeletionRequestRow)
        found = self._s.execute(stmt).first()
        return _to_core(found[0], found[1]) if found else None

    def pending_for(self, recording_id: str) -> DeletionRequest | None:
        found = self._s.execute(
            self._select().where(
                DeletionRequestRow.recording_id == recording_id,
                DeletionRequestRow.status == RequestStatus.PENDING.value,
            )
        ).first()
        return _to_core(found[0], found[1]) if found else None

    def search(
        self,
        *,
        branch_ids: list[int] | None,
        status: str | None,
        recording_id: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[DeletionRequest], int]:
        stmt = self._select()
        if branch_ids is not None:
            stmt = stmt.where(ArchiveEntryRow.branch_id.in_(branch_ids))
        if status:
            stmt = stmt.where(DeletionRequestRow.status == status)
        if recording_id:
            stmt = stmt.where(DeletionRequestRow.recording_id == recording_id)
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(
            stmt.order_by(DeletionRequestRow.created_at.desc(), DeletionRequestRow.id)
            .offset(offset)
            .limit(limit)
        ).all()
        return [_to_core(r[0], r[1]) for r in rows], int(total)

    def save_state(
        self,
        request_id: str,
        state: ApprovalState,
        *,
        finished_at: datetime | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        row = self._s.get_one(DeletionRequestRow, request_id)
        row.status = state.status.value
        row.decisions = [decision_to_json(d) for d in state.decisions]
        if finished_at is not None:
            row.finished_at = finished_at
        if result is not None:
            row.result = result
        self._s.flush()
