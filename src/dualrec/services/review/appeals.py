"""Appeals (申诉): the branch contests a FAIL with a reason and attachments; a final reviewer decides.

* an appeal is made on a reviewed recording whose outcome is FAIL, in the caller's subtree, once per
  recording, within ``DUALREC_REVIEW_APPEAL_DAYS`` of the FAIL (0: no limit);
* attachments: at most ``DUALREC_REVIEW_APPEAL_MAX_FILES`` files of at most
  ``DUALREC_REVIEW_APPEAL_MAX_FILE_BYTES`` each, PDF, JPEG or PNG recognised by their content (the
  declared type is not trusted); stored encrypted in the blob store, their SHA-256 in the audit log;
* the decider holds ``qc:final_review`` and is neither the appellant nor anyone who decided the
  recording (reviewer or final reviewer); rejecting keeps the FAIL, accepting changes the outcome to
  pass or re-record and tells the task like any review outcome.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath, PureWindowsPath

from dualrec.core.branches import in_scope
from dualrec.core.review import Appeal, AppealStatus, Outcome, ReviewAction, ReviewItem, ReviewStatus
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.review.service import (
    MAX_REASON,
    Refused,
    TaskEffect,
    apply_outcome,
    audited_refusals,
    visible_item,
)
from dualrec.services.tasks.service import TaskService
from dualrec.storage.ports import BlobStore

__all__ = ["ATTACHMENT_TYPES", "AppealService", "Attachment", "sniff_type"]

ATTACHMENT_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes


def sniff_type(data: bytes) -> str | None:
    """The attachment's type from its first bytes (PDF, JPEG, PNG), or None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def _clean_name(name: str, index: int, content_type: str) -> str:
    base = PureWindowsPath(PurePosixPath(name or "").name).name  # no folders, either spelling
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()[:100]
    return base or f"attachment-{index + 1}{ATTACHMENT_TYPES[content_type]}"


class AppealService:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        blobs: BlobStore,
        tasks: TaskService,
        *,
        appeal_days: int = 15,
        max_files: int = 5,
        max_file_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.uows, self.blobs, self.tasks = uows, blobs, tasks
        self.appeal_days, self.max_files, self.max_file_bytes = appeal_days, max_files, max_file_bytes

    def _visible(self, uow: UnitOfWork, actor: Actor, appeal_id: int, *, for_update: bool = False) -> Appeal:
        assert actor.principal is not None
        appeal = uow.review.appeal(appeal_id, for_update=for_update)
        if appeal is None or not in_scope(actor.principal.branch_path, appeal.branch_path):
            raise NotFoundError(msg("review.appeal_found"), details={"appeal_id": appeal_id})
        return appeal

    def _check_files(self, files: list[Attachment]) -> list[tuple[Attachment, str]]:
        if len(files) > self.max_files:
            raise InvalidInputError(
                msg("review.most_attachments", max_files=self.max_files),
                details={"fields": {"files": f"at most {self.max_files}"}},
            )
        typed: list[tuple[Attachment, str]] = []
        for f in files:
            if len(f.data) > self.max_file_bytes:
                raise InvalidInputError(
                    msg("review.attachment_too_large", value=f.name[:40], value2=self.max_file_bytes // 1024),
                    details={"fields": {"files": f"at most {self.max_file_bytes} bytes each"}},
                )
            kind = sniff_type(f.data)
            if kind is None:
                raise InvalidInputError(
                    msg("review.attachments_must_pdf_jpeg_png", value=f.name[:40]),
                    details={"fields": {"files": "PDF, JPEG or PNG only"}},
                )
            typed.append((f, kind))
        return typed

    # ---- the branch ----------------------------------------------------------------------------

    def create(self, *, actor: Actor, item_id: int, reason: str, files: list[Attachment]) -> Appeal:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInputError(msg("review.reason_required"), details={"fields": {"reason": "required"}})
        if len(reason) > MAX_REASON:
            raise InvalidInputError(msg("review.most_characters", MAX_REASON=MAX_REASON))
        typed = self._check_files(files)
        with self.uows.read() as uow:
            self._appealable(uow, actor, item_id)
        stored: list[dict[str, str | int]] = []
        for i, (f, kind) in enumerate(typed):
            ref = self.blobs.put(f.data, content_type=kind, max_bytes=self.max_file_bytes)
            stored.append(
                {
                    "name": _clean_name(f.name, i, kind),
                    "content_type": kind,
                    "size": ref.size,
                    "sha256": ref.sha256,
                    "blob_key": ref.key,
                }
            )
        try:
            with self.uows() as uow:
                item = self._appealable(uow, actor, item_id, for_update=True)
                appeal_id = uow.review.add_appeal(
                    item_id=item.id,
                    recording_id=item.recording_id,
                    branch_id=item.branch_id,
                    status=AppealStatus.OPEN.value,
                    reason=reason,
                    attachments=stored,
                    created_by_id=actor.id,
                    created_by=actor.name,
                    created_at=datetime.now(UTC),
                )
                uow.review.update_item(item.id, status=ReviewStatus.APPEALED)
                audit.record(
                    uow,
                    actor=actor,
                    action=ReviewAction.APPEALED,
                    target_type="recording",
                    target_id=item.recording_id,
                    details={
                        "item_id": item.id,
                        "appeal_id": appeal_id,
                        "reason": reason,
                        "attachments": [{k: a[k] for k in ("name", "size", "sha256")} for a in stored],
                    },
                    branch_id=item.branch_id,
                )
                uow.commit()
                appeal = uow.review.appeal(appeal_id)
        except Exception:
            for a in stored:  # nothing refers to them
                self.blobs.delete(str(a["blob_key"]))
            raise
        assert appeal is not None
        return appeal

    def _appealable(
        self, uow: UnitOfWork, actor: Actor, item_id: int, *, for_update: bool = False
    ) -> ReviewItem:
        item = visible_item(uow, actor, item_id, for_update=for_update)
        if item.status is not ReviewStatus.DONE or item.outcome is not Outcome.FAIL:
            raise ConflictError(
                msg("review.only_recording_whose_review_failed"),
                details={"status": item.status, "outcome": item.outcome},
            )
        _, count = uow.review.appeals(scope_path="/", item_id=item.id, limit=1)
        if count:
            raise ConflictError(msg("review.recording_already_appealed"), details={"item_id": item.id})
        failed_at = item.final_at or item.decided_at
        if (
            self.appeal_days
            and failed_at is not None
            and datetime.now(UTC) > failed_at + timedelta(days=self.appeal_days)
        ):
            raise ConflictError(
                msg("review.day_appeal_period_over", appeal_days=self.appeal_days),
                details={"failed_at": failed_at.isoformat()},
            )
        return item

    # ---- reading -------------------------------------------------------------------------------

    def search(
        self, *, actor: Actor, status: str | None, item_id: int | None, page: int, page_size: int
    ) -> tuple[list[Appeal], int]:
        assert actor.principal is not None
        with self.uows.read() as uow:
            return uow.review.appeals(
                scope_path=actor.principal.branch_path,
                status=status,
                item_id=item_id,
                offset=(page - 1) * page_size,
                limit=page_size,
            )

    def get(self, *, actor: Actor, appeal_id: int) -> Appeal:
        with self.uows.read() as uow:
            return self._visible(uow, actor, appeal_id)

    def attachment(self, *, actor: Actor, appeal_id: int, index: int) -> tuple[bytes, str, str]:
        """(bytes, content type, file name) of one attachment; the read is audited."""
        appeal = self.get(actor=actor, appeal_id=appeal_id)
        if not 0 <= index < len(appeal.attachments):
            raise NotFoundError(msg("review.such_attachment"), details={"index": index})
        a = appeal.attachments[index]
        with self.blobs.open(str(a["blob_key"])) as fh:
            data = fh.read()
        audit.record_now(
            self.uows,
            actor=actor,
            action=ReviewAction.APPEAL_ATTACHMENT_READ,
            target_type="recording",
            target_id=appeal.recording_id,
            details={"appeal_id": appeal.id, "index": index, "sha256": a.get("sha256")},
            branch_id=appeal.branch_id,
        )
        return data, str(a["content_type"]), str(a["name"])

    # ---- the final reviewer --------------------------------------------------------------------

    def decide(
        self, *, actor: Actor, appeal_id: int, decision: str, reason: str
    ) -> tuple[Appeal, TaskEffect | None]:
        """``reject`` keeps the FAIL; ``pass`` or ``rerecord`` accepts the appeal with that outcome."""
        if decision not in ("reject", Outcome.PASS, Outcome.RERECORD):
            raise InvalidInputError(msg("review.decision_must_reject_pass_rerecord"))
        reason = (reason or "").strip()
        if not reason or len(reason) > MAX_REASON:
            raise InvalidInputError(
                msg("review.reason_required_2"), details={"fields": {"reason": "required"}}
            )
        with audited_refusals(self.uows, actor), self.uows() as uow:
            appeal = self._visible(uow, actor, appeal_id, for_update=True)
            if appeal.status is not AppealStatus.OPEN:
                raise ConflictError(
                    msg("review.appeal_decided", status=appeal.status),
                    details={"status": appeal.status},
                )
            item = visible_item(uow, actor, appeal.item_id, for_update=True)
            if actor.id is not None and actor.id == appeal.created_by_id:
                raise Refused(
                    item, "own_appeal", "不能裁决自己提起的申诉 / you cannot decide your own appeal"
                )
            if actor.name in (item.decided_by, item.final_by) or (
                actor.id is not None and actor.id in (item.decided_by_id, item.final_by_id)
            ):
                raise Refused(
                    item,
                    "four_eyes",
                    "申诉须由未参与原复核的人裁决 / an appeal is decided by someone "
                    "who did not review the recording",
                )
            accepted = decision != "reject"
            uow.review.update_appeal(
                appeal.id,
                status=AppealStatus.ACCEPTED if accepted else AppealStatus.REJECTED,
                decision=decision if accepted else Outcome.FAIL.value,
                decision_reason=reason,
                decided_by_id=actor.id,
                decided_by=actor.name,
                decided_at=datetime.now(UTC),
            )
            effect = None
            if accepted:
                outcome = Outcome(decision)
                if outcome is Outcome.RERECORD and item.task_id is None:
                    raise ConflictError(msg("review.recording_task_re_record"))
                uow.review.update_item(item.id, status=ReviewStatus.DONE, outcome=outcome)
                effect = apply_outcome(
                    uow, self.tasks, actor=actor, item=item, outcome=outcome, reason=reason, stage="appeal"
                )
            else:
                uow.review.update_item(item.id, status=ReviewStatus.DONE)
            audit.record(
                uow,
                actor=actor,
                action=ReviewAction.APPEAL_DECIDED,
                target_type="recording",
                target_id=item.recording_id,
                details={
                    "item_id": item.id,
                    "appeal_id": appeal.id,
                    "decision": decision,
                    "reason": reason,
                    "task_applied": bool(effect and effect.applied),
                    "new_attempt": effect.new_attempt if effect else None,
                },
                branch_id=item.branch_id,
            )
            uow.commit()
            fresh = uow.review.appeal(appeal.id)
        assert fresh is not None
        return fresh, effect
