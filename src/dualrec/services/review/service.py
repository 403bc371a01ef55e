"""Human review of sampled recordings (复核): the queue, per-finding decisions, the decision, the final
decision (终审) and what an outcome does to the task.

Rules (each refusal says why; the separation-of-duty ones are audited as ``review.refused``):

* an item outside the caller's branch subtree does not exist (404);
* an item assigned to someone else is theirs (409); an unassigned one is claimed by the first
  reviewer who opens it (the review clock starts then);
* nobody reviews a recording they made (403);
* every machine finding is confirmed or overruled before a decision (409 names the open ones); an
  overrule, a FAIL and a re-record need a reason, and so does a pass when findings were confirmed or
  added;
* re-record needs the recording to be an attempt of a task;
* with four eyes on (``DUALREC_REVIEW_FINAL_FOR_FAIL``) a FAIL waits for a final decision by a
  holder of ``qc:final_review`` who is not the first reviewer (403 otherwise);
* an outcome moves the task of the reviewed attempt (``TaskService.review_decided``): pass → passed,
  fail → failed, re-record → a new attempt, and the business system is told by webhook.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dualrec.core.branches import in_scope
from dualrec.core.rbac import Permission, role_permissions
from dualrec.core.review import (
    FindingAction,
    FindingDecision,
    Outcome,
    ReviewAction,
    ReviewItem,
    ReviewStatus,
)
from dualrec.db.repositories.review import ItemQuery
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.tasks.service import TaskService

__all__ = ["MAX_REASON", "QUEUE_VIEWS", "Refused", "ReviewService", "TaskEffect", "audited_refusals"]

MAX_REASON = 2000
QUEUE_VIEWS = ("mine", "pool", "final", "all")
OPEN_STATUSES = (ReviewStatus.PENDING.value, ReviewStatus.IN_REVIEW.value)


@dataclass(frozen=True)
class TaskEffect:
    """What an outcome did to the task (None fields: the recording has no task, or the attempt is no
    longer the task's current one)."""

    task_id: str | None
    applied: bool
    new_attempt: int | None = None


def _reason(text: str, *, required: bool, what: str) -> str:
    """``what`` names the field in the message: overrule | note | review | final."""
    text = (text or "").strip()
    if required and not text:
        raise InvalidInputError(msg(f"review.{what}_required"), details={"fields": {"reason": "required"}})
    if len(text) > MAX_REASON:
        raise InvalidInputError(msg("review.most_characters", MAX_REASON=MAX_REASON))
    return text


def visible_item(uow: UnitOfWork, actor: Actor, item_id: int, *, for_update: bool = False) -> ReviewItem:
    assert actor.principal is not None
    item = uow.review.item(item_id, for_update=for_update)
    if item is None or not in_scope(actor.principal.branch_path, item.branch_path):
        raise NotFoundError(msg("review.review_item_found"), details={"item_id": item_id})
    return item


class Refused(Exception):
    """A separation-of-duty rule stopped the caller; raised inside a unit of work, audited (by
    ``audited_refusals``) after that unit of work was rolled back and closed."""

    def __init__(self, item: ReviewItem, rule: str, message: str) -> None:
        super().__init__(message)
        self.item, self.rule, self.message = item, rule, message


@contextmanager
def audited_refusals(uow_factory: UnitOfWorkFactory, actor: Actor) -> Iterator[None]:
    """Wrap a unit of work: a ``Refused`` inside it is audited on its own and becomes a 403."""
    try:
        yield
    except Refused as r:
        refuse(uow_factory, actor, r.item, r.rule, r.message)


def refuse(uow_factory: UnitOfWorkFactory, actor: Actor, item: ReviewItem, rule: str, message: str) -> None:
    """Audit a separation-of-duty refusal (committed on its own) and raise 403."""
    audit.record_now(
        uow_factory,
        actor=actor,
        action=ReviewAction.REFUSED,
        target_type="recording",
        target_id=item.recording_id,
        outcome="denied",
        details={"item_id": item.id, "rule": rule},
        branch_id=item.branch_id,
    )
    raise PermissionDeniedError(message, details={"rule": rule})


def apply_outcome(
    uow: UnitOfWork,
    tasks: TaskService,
    *,
    actor: Actor,
    item: ReviewItem,
    outcome: Outcome,
    reason: str,
    stage: str,
) -> TaskEffect:
    """Tell the task (in the caller's transaction) and remember the new attempt of a re-record."""
    if item.task_id is None or item.attempt_no is None:
        return TaskEffect(None, False)
    done = tasks.review_decided(
        uow,
        actor=actor,
        task_id=item.task_id,
        attempt_no=item.attempt_no,
        outcome=outcome.value,
        reason=reason,
        review={
            "item_id": item.id,
            "recording_id": item.recording_id,
            "stage": stage,
            "decided_by": actor.name,
            "machine_verdict": item.verdict,
        },
    )
    if done is None:
        return TaskEffect(item.task_id, False)
    new_attempt = done.get("new_attempt")
    if new_attempt is not None:
        uow.review.update_item(item.id, rerecord_attempt=int(new_attempt))
    return TaskEffect(item.task_id, True, int(new_attempt) if new_attempt is not None else None)


class ReviewService:
    def __init__(self, uows: UnitOfWorkFactory, tasks: TaskService, *, final_for_fail: bool = True) -> None:
        self.uows, self.tasks = uows, tasks
        self.final_for_fail = final_for_fail

    # ---- reading -------------------------------------------------------------------------------

    def queue(
        self,
        *,
        actor: Actor,
        view: str,
        status: str | None,
        outcome: str | None,
        sample_id: int | None,
        page: int,
        page_size: int,
        high_risk: bool | None = None,
    ) -> tuple[list[ReviewItem], int]:
        """``mine``: assigned to me and open; ``pool``: open and unassigned (the team's queue);
        ``final``: FAILs waiting for a final decision; ``all``: everything in my subtree."""
        assert actor.principal is not None
        q = ItemQuery(
            scope_path=actor.principal.branch_path,
            outcome=outcome,
            sample_id=sample_id,
            high_risk=high_risk,
        )
        if view == "mine":
            q.assignee_id, q.statuses = actor.principal.id, OPEN_STATUSES
        elif view == "pool":
            q.unassigned, q.statuses = True, OPEN_STATUSES
        elif view == "final":
            q.statuses = (ReviewStatus.AWAITING_FINAL.value,)
        if status:
            q.statuses = (status,)
        with self.uows.read() as uow:
            return uow.review.items(q, offset=(page - 1) * page_size, limit=page_size)

    def get(self, *, actor: Actor, item_id: int) -> ReviewItem:
        with self.uows.read() as uow:
            return visible_item(uow, actor, item_id)

    def for_recording(self, *, actor: Actor, recording_id: str) -> ReviewItem | None:
        """The review of a recording the caller can see (404 for a recording outside their subtree)."""
        assert actor.principal is not None
        with self.uows.read() as uow:
            rec = uow.recordings.get(recording_id)
            if rec is None or not in_scope(actor.principal.branch_path, rec.branch_path):
                raise NotFoundError(msg("review.recording_found"), details={"recording_id": recording_id})
            return uow.review.item_for_recording(recording_id)

    # ---- working on an item --------------------------------------------------------------------

    def _workable(self, uow: UnitOfWork, actor: Actor, item_id: int) -> ReviewItem:
        """The item, locked, open, and the caller's to work on (claimed when it was unassigned)."""
        item = visible_item(uow, actor, item_id, for_update=True)
        if item.status not in OPEN_STATUSES:
            raise ConflictError(msg("review.review", status=item.status), details={"status": item.status})
        if item.assignee_id is not None and item.assignee_id != actor.id:
            raise ConflictError(
                msg("review.assigned", assignee=item.assignee), details={"assignee": item.assignee}
            )
        if item.recording_created_by == actor.name:
            raise Refused(
                item, "own_recording", "不能复核自己录制的录像 / you cannot review your own recording"
            )
        if item.assignee_id is None or item.started_at is None or item.status != ReviewStatus.IN_REVIEW:
            now = datetime.now(UTC)
            uow.review.update_item(
                item.id,
                assignee_id=actor.id,
                started_at=item.started_at or now,
                status=ReviewStatus.IN_REVIEW,
            )
            if item.assignee_id is None:
                audit.record(
                    uow,
                    actor=actor,
                    action=ReviewAction.CLAIMED,
                    target_type="recording",
                    target_id=item.recording_id,
                    details={"item_id": item.id},
                    branch_id=item.branch_id,
                )
        return item

    def claim(self, *, actor: Actor, item_id: int) -> ReviewItem:
        """Open an item for review: claims it when unassigned and starts the review clock."""
        with audited_refusals(self.uows, actor), self.uows() as uow:
            self._workable(uow, actor, item_id)
            uow.commit()
            return visible_item(uow, actor, item_id)

    def assign(self, *, actor: Actor, item_id: int, user_id: int | None) -> ReviewItem:
        """(Re)assign an open item to a reviewer who sees it, or put it back in the pool (None)."""
        with self.uows() as uow:
            item = visible_item(uow, actor, item_id, for_update=True)
            if item.status not in OPEN_STATUSES:
                raise ConflictError(
                    msg("review.review", status=item.status),
                    details={"status": item.status},
                )
            if user_id is not None:
                found = uow.review.user_brief(user_id)
                custom = {r.id: r.permissions for r in uow.roles.all()}
                if (
                    found is None
                    or not found[4]
                    or not in_scope(actor.principal.branch_path if actor.principal else "/", found[3])
                    or Permission.QC_REVIEW not in role_permissions(found[2], custom)
                    or not in_scope(found[3], item.branch_path)
                ):
                    raise InvalidInputError(
                        msg("review.user_cannot_review_recording"),
                        details={"fields": {"user_id": str(user_id)}},
                    )
            uow.review.update_item(item.id, assignee_id=user_id, status=ReviewStatus.PENDING, started_at=None)
            audit.record(
                uow,
                actor=actor,
                action=ReviewAction.ASSIGNED,
                target_type="recording",
                target_id=item.recording_id,
                details={"item_id": item.id, "assignee_id": user_id, "previous": item.assignee_id},
                branch_id=item.branch_id,
            )
            uow.commit()
            return visible_item(uow, actor, item_id)

    def decide_finding(
        self, *, actor: Actor, item_id: int, finding_key: str, action: str, reason: str
    ) -> ReviewItem:
        if action not in (FindingAction.CONFIRM, FindingAction.OVERRULE):
            raise InvalidInputError(msg("review.action_must_confirm_overrule"))
        reason = _reason(reason, required=action == FindingAction.OVERRULE, what="overrule")
        with audited_refusals(self.uows, actor), self.uows() as uow:
            item = self._workable(uow, actor, item_id)
            finding = next((f for f in item.findings if f["key"] == finding_key), None)
            if finding is None:
                raise NotFoundError(msg("review.such_finding"), details={"finding_key": finding_key})
            uow.review.put_decision(
                item_id=item.id,
                finding_key=finding_key,
                check_id=str(finding["check_id"]),
                action=action,
                reason=reason,
                by_id=actor.id,
                by=actor.name,
                at=datetime.now(UTC),
            )
            audit.record(
                uow,
                actor=actor,
                action=ReviewAction.FINDING_DECIDED,
                target_type="recording",
                target_id=item.recording_id,
                details={"item_id": item.id, "finding": finding_key, "action": action, "reason": reason},
                branch_id=item.branch_id,
            )
            uow.commit()
            return visible_item(uow, actor, item_id)

    def add_finding(
        self, *, actor: Actor, item_id: int, check_id: str, start: float, end: float, note: str
    ) -> FindingDecision:
        """A finding the machine missed: a time range of the recording, the check it belongs to, a note."""
        note = _reason(note, required=True, what="note")
        check_id = check_id.strip()
        if not check_id or len(check_id) > 64:
            raise InvalidInputError(
                msg("review.check_required"), details={"fields": {"check_id": "required"}}
            )
        if not 0 <= start <= end or end > 24 * 3600:
            raise InvalidInputError(
                msg("review.invalid_time_range"),
                details={"fields": {"end": "must be ≥ start, within the day"}},
            )
        with audited_refusals(self.uows, actor), self.uows() as uow:
            item = self._workable(uow, actor, item_id)
            decision_id = uow.review.add_finding(
                item_id=item.id,
                check_id=check_id,
                reason=note,
                start=start,
                end=end,
                by_id=actor.id,
                by=actor.name,
                at=datetime.now(UTC),
            )
            audit.record(
                uow,
                actor=actor,
                action=ReviewAction.FINDING_ADDED,
                target_type="recording",
                target_id=item.recording_id,
                details={"item_id": item.id, "check_id": check_id, "start": start, "end": end, "note": note},
                branch_id=item.branch_id,
            )
            uow.commit()
            added = next(d for d in uow.review.decisions(item.id) if d.id == decision_id)
        return added

    def remove_added(self, *, actor: Actor, item_id: int, decision_id: int) -> None:
        with audited_refusals(self.uows, actor), self.uows() as uow:
            item = self._workable(uow, actor, item_id)
            if not uow.review.delete_added(item.id, decision_id):
                raise NotFoundError(msg("review.such_added_finding"), details={"id": decision_id})
            audit.record(
                uow,
                actor=actor,
                action=ReviewAction.FINDING_REMOVED,
                target_type="recording",
                target_id=item.recording_id,
                details={"item_id": item.id, "decision_id": decision_id},
                branch_id=item.branch_id,
            )
            uow.commit()

    # ---- decisions -----------------------------------------------------------------------------

    def decide(
        self, *, actor: Actor, item_id: int, decision: str, reason: str
    ) -> tuple[ReviewItem, TaskEffect | None]:
        outcome = Outcome(decision)
        with audited_refusals(self.uows, actor), self.uows() as uow:
            item = self._workable(uow, actor, item_id)
            item = visible_item(uow, actor, item_id)  # with the claim applied
            open_keys = item.open_findings()
            if open_keys:
                raise ConflictError(
                    msg("review.findings_neither_confirmed_nor_overruled", len_open_keys=len(open_keys)),
                    details={"open": open_keys},
                )
            upheld = any(d.action in (FindingAction.CONFIRM, FindingAction.ADDED) for d in item.decisions)
            reason = _reason(reason, required=outcome is not Outcome.PASS or upheld, what="review")
            if outcome is Outcome.RERECORD and item.task_id is None:
                raise ConflictError(msg("review.recording_task_re_record"))
            now = datetime.now(UTC)
            final = outcome is Outcome.FAIL and self.final_for_fail
            uow.review.update_item(
                item.id,
                decision=outcome,
                decision_reason=reason,
                decided_by_id=actor.id,
                decided_by=actor.name,
                decided_at=now,
                status=ReviewStatus.AWAITING_FINAL if final else ReviewStatus.DONE,
                outcome=None if final else outcome,
            )
            effect = (
                None
                if final
                else apply_outcome(
                    uow, self.tasks, actor=actor, item=item, outcome=outcome, reason=reason, stage="review"
                )
            )
            audit.record(
                uow,
                actor=actor,
                action=ReviewAction.DECIDED,
                target_type="recording",
                target_id=item.recording_id,
                details=self._details(item, outcome, reason, effect, awaiting_final=final),
                branch_id=item.branch_id,
            )
            uow.commit()
            return visible_item(uow, actor, item_id), effect

    def final(
        self, *, actor: Actor, item_id: int, decision: str, reason: str
    ) -> tuple[ReviewItem, TaskEffect]:
        """终审 of a FAIL: uphold it (fail) or change it (pass / re-record), by a second reviewer."""
        outcome = Outcome(decision)
        with audited_refusals(self.uows, actor), self.uows() as uow:
            item = visible_item(uow, actor, item_id, for_update=True)
            if item.status is not ReviewStatus.AWAITING_FINAL:
                raise ConflictError(
                    msg("review.review_waiting_final_decision", status=item.status),
                    details={"status": item.status},
                )
            if (actor.id is not None and actor.id == item.decided_by_id) or actor.name == item.decided_by:
                raise Refused(
                    item, "four_eyes", "终审须由另一名复核员作出 / the final decision needs a second reviewer"
                )
            if actor.name == item.recording_created_by:
                raise Refused(
                    item, "own_recording", "不能复核自己录制的录像 / you cannot review your own recording"
                )
            reason = _reason(reason, required=outcome is not Outcome.FAIL, what="final")
            if outcome is Outcome.RERECORD and item.task_id is None:
                raise ConflictError(msg("review.recording_task_re_record"))
            uow.review.update_item(
                item.id,
                final_decision=outcome,
                final_reason=reason,
                final_by_id=actor.id,
                final_by=actor.name,
                final_at=datetime.now(UTC),
                status=ReviewStatus.DONE,
                outcome=outcome,
            )
            effect = apply_outcome(
                uow, self.tasks, actor=actor, item=item, outcome=outcome, reason=reason, stage="final"
            )
            audit.record(
                uow,
                actor=actor,
                action=ReviewAction.FINAL_DECIDED,
                target_type="recording",
                target_id=item.recording_id,
                details=self._details(item, outcome, reason, effect),
                branch_id=item.branch_id,
            )
            uow.commit()
            return visible_item(uow, actor, item_id), effect

    @staticmethod
    def _details(
        item: ReviewItem,
        outcome: Outcome,
        reason: str,
        effect: TaskEffect | None,
        *,
        awaiting_final: bool = False,
    ) -> dict[str, Any]:
        return {
            "item_id": item.id,
            "decision": outcome.value,
            "reason": reason,
            "awaiting_final": awaiting_final,
            "task_id": item.task_id,
            "task_applied": bool(effect and effect.applied),
            "new_attempt": effect.new_attempt if effect else None,
            "confirmed": sum(d.action == FindingAction.CONFIRM for d in item.decisions),
            "overruled": sum(d.action == FindingAction.OVERRULE for d in item.decisions),
            "added": sum(d.action == FindingAction.ADDED for d in item.decisions),
        }
