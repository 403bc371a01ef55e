"""Deleting an archived recording: only through the configured approval chain (core.approvals).

request → each step approved by a holder of the step's role (not the requester, nobody twice) →
on the last approval, in one transaction: a ``tombstone`` evidence event (every deleted file with its
name, key, SHA-256 and size; who requested and who approved), the catalogue entry marked ``deleted``
and the recording marked ``deleted``; after the commit the blobs are removed from the store. Legal
hold refuses requests and decisions. Expired entries are never deleted without a request.
Every request, decision and refusal is audited.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dualrec.core.approvals import (
    DEFAULT_DELETE_CHAIN,
    ApprovalStep,
    Decision,
    Refusal,
    RequestStatus,
    apply_decision,
    chain_problems,
    refusal,
)
from dualrec.core.archive import ArchiveEntry, DeletionRequest, EntryStatus
from dualrec.core.audit import AuditAction
from dualrec.core.branches import in_scope
from dualrec.core.live_proof import LiveProof
from dualrec.core.rbac import BUILTIN_ROLES, Permission, role_permissions
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.common.scope import scope_branch_ids
from dualrec.services.evidence import ledger
from dualrec.storage.ports import BlobStore

__all__ = ["DELETE_CHAIN_ID", "DeletionService", "RequestView"]

logger = logging.getLogger(__name__)

DELETE_CHAIN_ID = "archive.delete"

_REFUSALS = {
    Refusal.NOT_PENDING: "该申请已结束或不在待审批状态 / the request is not waiting for a decision",
    Refusal.LEGAL_HOLD: "档案处于诉讼保全（法律冻结）中，不能审批删除 / the entry is under legal hold",
    Refusal.REQUESTER: "申请人不能审批自己的申请 / the requester cannot approve their own request",
    Refusal.ALREADY_DECIDED: "同一人不能审批两个环节 / one person cannot decide two steps",
    Refusal.WRONG_ROLE: "当前环节需要其他角色审批 / this step needs another role",
}


@dataclass(frozen=True)
class LeftoverRetry:
    """One completed deletion whose files were deleted again: how many went, which are still there."""

    request_id: str
    recording_id: str
    deleted: int
    left: tuple[str, ...]


@dataclass(frozen=True)
class RequestView:
    request: DeletionRequest
    can_decide: bool  # the caller may approve/reject the current step now
    legal_hold: bool


def _steps_json(steps: tuple[ApprovalStep, ...]) -> list[dict[str, Any]]:
    return [{"role": s.role, "name": s.name} for s in steps]


class DeletionService:
    def __init__(self, uows: UnitOfWorkFactory, blobs: BlobStore) -> None:
        self.uows, self.blobs = uows, blobs

    # ---- the chain -----------------------------------------------------------------------------

    def chain(self) -> tuple[ApprovalStep, ...]:
        with self.uows() as uow:
            return self._chain(uow)

    def _chain(self, uow: UnitOfWork) -> tuple[ApprovalStep, ...]:
        stored = uow.archive.chain(DELETE_CHAIN_ID)
        if stored is None:
            return DEFAULT_DELETE_CHAIN
        return tuple(ApprovalStep(str(s["role"]), str(s.get("name", ""))) for s in stored)

    def set_chain(self, *, actor: Actor, steps: list[ApprovalStep]) -> tuple[ApprovalStep, ...]:
        """Replace the chain (requests already made keep the chain they were made with)."""
        chain = tuple(ApprovalStep(s.role.strip(), s.name.strip()) for s in steps)
        with self.uows() as uow:
            roles = {r: role_permissions(r) for r in BUILTIN_ROLES} | {
                r.id: r.permissions for r in uow.roles.all()
            }
            problems = chain_problems(chain, frozenset(roles))
            problems += [
                f"step {i + 1}: role {s.role!r} lacks {Permission.ARCHIVE_APPROVE.value}"
                for i, s in enumerate(chain)
                if s.role in roles and Permission.ARCHIVE_APPROVE not in roles[s.role]
            ]
            if problems:
                raise InvalidInputError(
                    "审批链无效 / invalid approval chain: " + "; ".join(problems),
                    details={"problems": problems},
                )
            before = self._chain(uow)
            uow.archive.put_chain(DELETE_CHAIN_ID, _steps_json(chain), by=actor.name)
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.APPROVAL_CHAIN_CHANGED,
                target_type="approval_chain",
                target_id=DELETE_CHAIN_ID,
                details={"before": _steps_json(before), "after": _steps_json(chain)},
            )
            uow.commit()
        return chain

    # ---- requests ------------------------------------------------------------------------------

    def _entry(self, uow: UnitOfWork, actor: Actor, recording_id: str) -> ArchiveEntry:
        assert actor.principal is not None
        entry = uow.archive.get(recording_id, for_update=True)
        if entry is None or not in_scope(actor.principal.branch_path, entry.branch_path):
            raise NotFoundError(msg("archive.archive_entry_found"), details={"recording_id": recording_id})
        return entry

    def _refuse(self, actor: Actor, target: str, why: str, exc: Exception) -> Exception:
        audit.record_now(
            self.uows,
            actor=actor,
            action=AuditAction.ARCHIVE_DELETION_REFUSED,
            target_type="recording",
            target_id=target,
            outcome="denied",
            details={"reason": why},
        )
        return exc

    def request(self, *, actor: Actor, recording_id: str, reason: str) -> DeletionRequest:
        assert actor.principal is not None and actor.id is not None
        reason = reason.strip()
        if not reason:
            raise InvalidInputError(
                msg("archive.reason_required_2"), details={"fields": {"reason": "required"}}
            )
        with self.uows() as uow:
            entry = self._entry(uow, actor, recording_id)
            problem: tuple[str, Exception] | None = None
            if entry.status == EntryStatus.DELETED:
                problem = (
                    "deleted",
                    ConflictError(msg("archive.already_deleted"), details={"status": entry.status}),
                )
            elif entry.legal_hold:
                problem = (
                    "legal_hold",
                    ConflictError(_REFUSALS[Refusal.LEGAL_HOLD], details={"legal_hold": True}),
                )
            elif (qc := _live_qc_status(uow, entry)) in ("queued", "running"):
                problem = (
                    "qc_running",
                    ConflictError(msg("archive.qc_finished"), details={"qc_status": qc}),
                )
            elif (pending := uow.deletion_requests.pending_for(recording_id)) is not None:
                problem = (
                    "pending",
                    ConflictError(
                        msg("archive.request_already_pending"),
                        details={"request_id": pending.id},
                    ),
                )
            if problem is not None:
                uow.rollback()
                raise self._refuse(actor, recording_id, problem[0], problem[1])
            chain = self._chain(uow)
            request_id = str(uuid.uuid4())
            now = datetime.now(UTC)
            uow.deletion_requests.add(
                id=request_id,
                recording_id=recording_id,
                reason=reason,
                requester_id=actor.id,
                requested_by=actor.name,
                steps=chain,
                at=now,
            )
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.ARCHIVE_DELETION_REQUESTED,
                target_type="recording",
                target_id=recording_id,
                details={
                    "request_id": request_id,
                    "reason": reason,
                    "steps": _steps_json(chain),
                    "before_expiry": entry.expires_on is None or entry.expires_on > now.date(),
                },
            )
            uow.commit()
            created = uow.deletion_requests.get(request_id)
        assert created is not None
        return created

    def _visible_request(
        self, uow: UnitOfWork, actor: Actor, request_id: str, *, for_update: bool = False
    ) -> DeletionRequest:
        assert actor.principal is not None
        req = uow.deletion_requests.get(request_id, for_update=for_update)
        if req is None or not in_scope(actor.principal.branch_path, req.branch_path):
            raise NotFoundError(msg("archive.deletion_request_found"), details={"request_id": request_id})
        return req

    def get(self, *, actor: Actor, request_id: str) -> RequestView:
        with self.uows() as uow:
            req = self._visible_request(uow, actor, request_id)
            entry = uow.archive.get(req.recording_id)
            assert entry is not None
        return self._view(actor, req, entry.legal_hold)

    def _view(self, actor: Actor, req: DeletionRequest, legal_hold: bool) -> RequestView:
        assert actor.principal is not None
        can = (
            actor.id is not None
            and actor.principal.can(Permission.ARCHIVE_APPROVE)
            and refusal(req.state, user_id=actor.id, role=actor.principal.role, legal_hold=legal_hold) is None
        )
        return RequestView(req, can, legal_hold)

    def search(
        self,
        *,
        actor: Actor,
        status: str | None,
        recording_id: str | None,
        actionable: bool,
        page: int,
        page_size: int,
    ) -> tuple[list[RequestView], int]:
        """Requests in the caller's branch subtree; ``actionable``: only those the caller may decide now."""
        with self.uows() as uow:
            branch_ids = scope_branch_ids(uow, actor, None)
            if actionable:
                found, _ = uow.deletion_requests.search(
                    branch_ids=branch_ids,
                    status=RequestStatus.PENDING.value,
                    recording_id=recording_id,
                    offset=0,
                    limit=10_000,
                )
                holds = {r.recording_id: self._hold(uow, r.recording_id) for r in found}
                views = [v for r in found if (v := self._view(actor, r, holds[r.recording_id])).can_decide]
                start = (page - 1) * page_size
                return views[start : start + page_size], len(views)
            found, total = uow.deletion_requests.search(
                branch_ids=branch_ids,
                status=status,
                recording_id=recording_id,
                offset=(page - 1) * page_size,
                limit=page_size,
            )
            return [self._view(actor, r, self._hold(uow, r.recording_id)) for r in found], total

    @staticmethod
    def _hold(uow: UnitOfWork, recording_id: str) -> bool:
        entry = uow.archive.get(recording_id)
        return bool(entry and entry.legal_hold)

    def cancel(self, *, actor: Actor, request_id: str, comment: str = "") -> RequestView:
        with self.uows() as uow:
            req = self._visible_request(uow, actor, request_id, for_update=True)
            if req.state.status is not RequestStatus.PENDING:
                raise ConflictError(_REFUSALS[Refusal.NOT_PENDING], details={"status": req.status})
            if req.state.requester_id != actor.id:
                raise PermissionDeniedError(msg("archive.only_requester_can_withdraw_request"))
            from dataclasses import replace

            state = replace(req.state, status=RequestStatus.CANCELLED)
            uow.deletion_requests.save_state(req.id, state, finished_at=datetime.now(UTC))
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.ARCHIVE_DELETION_CANCELLED,
                target_type="recording",
                target_id=req.recording_id,
                details={"request_id": req.id, "comment": comment},
            )
            uow.commit()
        return self.get(actor=actor, request_id=request_id)

    def decide(self, *, actor: Actor, request_id: str, decision: Decision, comment: str) -> RequestView:
        """Approve or reject the current step; the last approval deletes the files."""
        assert actor.principal is not None
        if actor.id is None:
            raise PermissionDeniedError(msg("archive.approvals_made_users"))
        comment = comment.strip()
        if decision is Decision.REJECT and not comment:
            raise InvalidInputError(
                msg("archive.rejection_needs_comment"), details={"fields": {"comment": "required"}}
            )
        to_delete: list[str] = []
        with self.uows() as uow:
            req = self._visible_request(uow, actor, request_id, for_update=True)
            entry = uow.archive.get(req.recording_id, for_update=True)
            assert entry is not None
            why = refusal(req.state, user_id=actor.id, role=actor.principal.role, legal_hold=entry.legal_hold)
            if why is not None:
                uow.rollback()
                exc: Exception = (
                    ConflictError(_REFUSALS[why], details={"refusal": why.value, "status": req.status})
                    if why in (Refusal.NOT_PENDING, Refusal.LEGAL_HOLD)
                    else PermissionDeniedError(_REFUSALS[why], details={"refusal": why.value})
                )
                raise self._refuse(actor, req.recording_id, why.value, exc)
            now = datetime.now(UTC)
            state = apply_decision(
                req.state,
                user_id=actor.id,
                username=actor.name,
                role=actor.principal.role,
                decision=decision,
                comment=comment,
                at=now,
                legal_hold=entry.legal_hold,
            )
            step = len(state.decisions)
            audit.record(
                uow,
                actor=actor,
                action=(
                    AuditAction.ARCHIVE_DELETION_APPROVED
                    if decision is Decision.APPROVE
                    else AuditAction.ARCHIVE_DELETION_REJECTED
                ),
                target_type="recording",
                target_id=req.recording_id,
                details={
                    "request_id": req.id,
                    "step": step,
                    "role": actor.principal.role,
                    "comment": comment,
                },
            )
            if state.fully_approved:
                state, result, to_delete = self._execute(uow, actor, req, state, entry, now)
                uow.deletion_requests.save_state(req.id, state, finished_at=now, result=result)
            else:
                finished = now if state.status is RequestStatus.REJECTED else None
                uow.deletion_requests.save_state(req.id, state, finished_at=finished)
            uow.commit()
        if to_delete:
            self._remove_blobs(request_id, to_delete)
        return self.get(actor=actor, request_id=request_id)

    def _execute(
        self,
        uow: UnitOfWork,
        actor: Actor,
        req: DeletionRequest,
        state: Any,
        entry: ArchiveEntry,
        now: datetime,
    ) -> tuple[Any, dict[str, Any], list[str]]:
        """The tombstone and the status changes (same transaction); returns the keys to delete."""
        from dataclasses import replace

        rec = uow.recordings.get(req.recording_id)
        assert rec is not None
        keys = _recording_keys(rec.blob_key, rec.inputs, rec.artifacts)
        known = {
            str(e.payload.get("blob_key")): e.payload
            for e in uow.evidence.for_subject("recording", rec.id)
            if e.payload.get("blob_key")
        }
        files = []
        for key in keys:
            p = known.get(key, {})
            files.append(
                {
                    "name": str(p.get("name", "")),
                    "blob_key": key,
                    "sha256": str(p.get("sha256", "")),
                    "size": int(p.get("size", 0) or 0),
                }
            )
        approvals = [
            {
                "step": d.step + 1,
                "role": d.role,
                "user_id": d.user_id,
                "username": d.username,
                "at": d.at.isoformat(),
            }
            for d in state.decisions
        ]
        event = ledger.record_event(
            uow,
            subject_type="recording",
            subject_id=rec.id,
            kind=ledger.EvidenceKind.TOMBSTONE,
            payload={
                "request_id": req.id,
                "recording_sha256": rec.sha256,
                "files": files,
                "requested_by": req.requested_by,
                "requester_id": req.state.requester_id,
                "approvals": approvals,
            },
        )
        uow.archive.update(rec.id, status=EntryStatus.DELETED.value, deleted_at=now, tombstone_seq=event.seq)
        uow.recordings.update(rec.id, status="deleted")
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.ARCHIVE_DELETED,
            target_type="recording",
            target_id=rec.id,
            details={"request_id": req.id, "tombstone_seq": event.seq, "files": len(files)},
        )
        result = {"tombstone_seq": event.seq, "tombstone_hash": event.hash, "files": len(files)}
        return replace(state, status=RequestStatus.COMPLETED), result, keys

    def retry_undeleted(self) -> list[LeftoverRetry]:
        """Completed deletions whose files could not all be removed (``undeleted_keys``): try again.
        What still fails stays listed for the next run; each request retried is audited."""
        out: list[LeftoverRetry] = []
        offset = 0
        while True:
            with self.uows.read() as uow:
                page, total = uow.deletion_requests.search(
                    branch_ids=None,
                    status=RequestStatus.COMPLETED.value,
                    recording_id=None,
                    offset=offset,
                    limit=500,
                )
            for req in page:
                keys = [str(k) for k in req.result.get("undeleted_keys") or []]
                if keys:
                    left = self._delete_each(req.id, keys)
                    out.append(LeftoverRetry(req.id, req.recording_id, len(keys) - len(left), tuple(left)))
                    with self.uows() as uow:
                        fresh = uow.deletion_requests.get(req.id, for_update=True)
                        assert fresh is not None
                        uow.deletion_requests.save_state(
                            fresh.id, fresh.state, result={**fresh.result, "undeleted_keys": left}
                        )
                        audit.record(
                            uow,
                            actor=SYSTEM,
                            action=AuditAction.ARCHIVE_LEFTOVERS_DELETED,
                            target_type="recording",
                            target_id=req.recording_id,
                            outcome="success" if not left else "failure",
                            details={
                                "request_id": req.id,
                                "deleted": len(keys) - len(left),
                                "left": len(left),
                            },
                        )
                        uow.commit()
            offset += len(page)
            if not page or offset >= total:
                return out

    def _delete_each(self, request_id: str, keys: list[str]) -> list[str]:
        """The keys that could not be deleted (a key already gone counts as deleted)."""
        left = []
        for key in keys:
            try:
                self.blobs.delete(key)
            except Exception:
                logger.exception("archive deletion %s: blob %s could not be deleted", request_id, key)
                left.append(key)
        return left

    def _remove_blobs(self, request_id: str, keys: list[str]) -> None:
        """After the commit: a failure leaves the key listed in the request's result for a retry
        (``retry_undeleted``, ``dualrec archive retry-deletions``)."""
        left = self._delete_each(request_id, keys)
        if left:
            with self.uows() as uow:
                req = uow.deletion_requests.get(request_id, for_update=True)
                assert req is not None
                uow.deletion_requests.save_state(
                    req.id, req.state, result={**req.result, "undeleted_keys": left}
                )
                uow.commit()


def _live_qc_status(uow: UnitOfWork, entry: ArchiveEntry) -> str:
    """The recording's own status (the entry's copy is refreshed after QC, which may lag a failure)."""
    rec = uow.recordings.get(entry.recording_id)
    return rec.status if rec is not None else entry.qc_status


def _recording_keys(blob_key: str, inputs: dict[str, Any], artifacts: dict[str, Any] | None) -> list[str]:
    """Every blob of a recording: the upload, the ID photo (and a session's proof images), the
    reports and the evidence frames."""
    keys = [blob_key]
    if inputs.get("id_photo_key"):
        keys.append(str(inputs["id_photo_key"]))
    if isinstance(inputs.get("live_proof"), dict):  # a session's liveness frame and card images
        keys.extend(LiveProof.from_dict(inputs["live_proof"]).image_keys().values())
    for name, value in sorted((artifacts or {}).items()):
        if name == "evidence" and isinstance(value, dict):
            keys.extend(str(v) for _, v in sorted(value.items()))
        elif isinstance(value, str):
            keys.append(value)
    return list(dict.fromkeys(keys))
