"""QC operations: sampling rules and runs, review items with their finding decisions, appeals, and
the candidate recordings a sample draws from."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualrec.core.review import (
    Appeal,
    AppealStatus,
    Candidate,
    FindingAction,
    FindingDecision,
    Outcome,
    ReviewItem,
    ReviewStatus,
    Sample,
    SampleFilters,
    SamplingPlan,
    SamplingRule,
)
from dualrec.db.models import BranchRow, RecordingRow, TaskAttemptRow, TaskRow, UserRow
from dualrec.db.models_review import (
    HighRiskFlagRow,
    ReviewAppealRow,
    ReviewFindingDecisionRow,
    ReviewItemRow,
    ReviewRuleRow,
    ReviewSampleRow,
)

__all__ = ["CANDIDATE_CAP", "ItemQuery", "ReviewRepository"]

CANDIDATE_CAP = 200_000  # recordings one sampling run may consider


def _outcome(value: str | None) -> Outcome | None:
    return Outcome(value) if value else None


def _decision(row: ReviewFindingDecisionRow) -> FindingDecision:
    return FindingDecision(
        id=row.id,
        item_id=row.item_id,
        finding_key=row.finding_key,
        check_id=row.check_id,
        action=FindingAction(row.action),
        reason=row.reason,
        by_id=row.by_id,
        by=row.by,
        at=row.at,
        start=row.start,
        end=row.end,
    )


def _item(
    row: ReviewItemRow,
    path: str,
    assignee: str | None,
    decisions: Sequence[FindingDecision] = (),
    high_risk: bool = False,
) -> ReviewItem:
    return ReviewItem(
        id=row.id,
        recording_id=row.recording_id,
        branch_id=row.branch_id,
        branch_path=path,
        sample_id=row.sample_id,
        status=ReviewStatus(row.status),
        findings=tuple(dict(f) for f in row.findings or ()),
        verdict=row.verdict,
        risk_score=row.risk_score,
        recording_created_by=row.recording_created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        task_id=row.task_id,
        attempt_no=row.attempt_no,
        assignee_id=row.assignee_id,
        assignee=assignee or "",
        started_at=row.started_at,
        decision=_outcome(row.decision),
        decision_reason=row.decision_reason,
        decided_by_id=row.decided_by_id,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        final_decision=_outcome(row.final_decision),
        final_reason=row.final_reason,
        final_by_id=row.final_by_id,
        final_by=row.final_by,
        final_at=row.final_at,
        outcome=_outcome(row.outcome),
        rerecord_attempt=row.rerecord_attempt,
        decisions=tuple(decisions),
        high_risk=high_risk,
    )


def _appeal(row: ReviewAppealRow, path: str) -> Appeal:
    return Appeal(
        id=row.id,
        item_id=row.item_id,
        recording_id=row.recording_id,
        branch_id=row.branch_id,
        branch_path=path,
        status=AppealStatus(row.status),
        reason=row.reason,
        attachments=tuple(dict(a) for a in row.attachments or ()),
        created_by_id=row.created_by_id,
        created_by=row.created_by,
        created_at=row.created_at,
        decision=_outcome(row.decision),
        decision_reason=row.decision_reason,
        decided_by_id=row.decided_by_id,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def _rule(row: ReviewRuleRow, path: str) -> SamplingRule:
    return SamplingRule(
        id=row.id,
        name=row.name,
        enabled=row.enabled,
        branch_id=row.branch_id,
        branch_path=path,
        filters=SampleFilters.from_json(row.filters or {}),
        plan=SamplingPlan.from_json(row.plan or {}),
        assignees=tuple(int(a) for a in row.assignees or ()),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _sample(row: ReviewSampleRow, path: str) -> Sample:
    return Sample(
        id=row.id,
        kind=row.kind,
        rule_id=row.rule_id,
        branch_id=row.branch_id,
        branch_path=path,
        filters=SampleFilters.from_json(row.filters or {}),
        plan=SamplingPlan.from_json(row.plan or {}),
        seed=row.seed,
        candidates=row.candidates,
        candidates_sha256=row.candidates_sha256,
        selected=tuple(str(r) for r in row.selected or ()),
        added=row.added,
        created_by=row.created_by,
        created_at=row.created_at,
        run_key=row.run_key,
        trigger=row.trigger,
    )


class ItemQuery:
    """What a review queue lists: the caller's subtree (``scope_path``), optionally narrowed."""

    def __init__(
        self,
        *,
        scope_path: str,
        statuses: Sequence[str] = (),
        assignee_id: int | None = None,
        unassigned: bool = False,
        outcome: str | None = None,
        sample_id: int | None = None,
        recording_id: str | None = None,
        high_risk: bool | None = None,
    ) -> None:
        self.scope_path, self.statuses, self.assignee_id = scope_path, tuple(statuses), assignee_id
        self.unassigned, self.outcome, self.sample_id = unassigned, outcome, sample_id
        self.recording_id, self.high_risk = recording_id, high_risk


class ReviewRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # ---- rules ---------------------------------------------------------------------------------

    def add_rule(self, **fields: Any) -> int:
        row = ReviewRuleRow(**fields)
        self._s.add(row)
        self._s.flush()
        return row.id

    def update_rule(self, rule_id: int, **fields: Any) -> None:
        row = self._s.get_one(ReviewRuleRow, rule_id)
        for key, value in fields.items():
            setattr(row, key, value)
        self._s.flush()

    def rule(self, rule_id: int) -> SamplingRule | None:
        pair = self._s.execute(
            select(ReviewRuleRow, BranchRow.path)
            .join(BranchRow, ReviewRuleRow.branch_id == BranchRow.id)
            .where(ReviewRuleRow.id == rule_id)
        ).first()
        return _rule(pair[0], pair[1]) if pair else None

    def rules(self, *, scope_path: str | None = None, enabled_only: bool = False) -> list[SamplingRule]:
        stmt = select(ReviewRuleRow, BranchRow.path).join(BranchRow, ReviewRuleRow.branch_id == BranchRow.id)
        if scope_path is not None:
            stmt = stmt.where(BranchRow.path.startswith(scope_path, autoescape=True))
        if enabled_only:
            stmt = stmt.where(ReviewRuleRow.enabled.is_(True))
        return [_rule(r, p) for r, p in self._s.execute(stmt.order_by(ReviewRuleRow.id)).all()]

    # ---- samples -------------------------------------------------------------------------------

    def add_sample(self, **fields: Any) -> int | None:
        """The new sample's id; None when a run with the same ``run_key`` already exists (another
        process ran the rule for that day first)."""
        row = ReviewSampleRow(**fields)
        try:
            with self._s.begin_nested():
                self._s.add(row)
                self._s.flush()
        except IntegrityError:
            if fields.get("run_key") and self.run_exists(str(fields["run_key"])):
                return None
            raise
        return row.id

    def set_sample_added(self, sample_id: int, added: int) -> None:
        self._s.get_one(ReviewSampleRow, sample_id).added = added
        self._s.flush()

    def run_exists(self, run_key: str) -> bool:
        return self._s.scalar(select(func.count()).where(ReviewSampleRow.run_key == run_key)) != 0

    def sample(self, sample_id: int) -> Sample | None:
        pair = self._s.execute(
            select(ReviewSampleRow, BranchRow.path)
            .join(BranchRow, ReviewSampleRow.branch_id == BranchRow.id)
            .where(ReviewSampleRow.id == sample_id)
        ).first()
        return _sample(pair[0], pair[1]) if pair else None

    def samples(self, *, scope_path: str, offset: int, limit: int) -> tuple[list[Sample], int]:
        stmt = (
            select(ReviewSampleRow, BranchRow.path)
            .join(BranchRow, ReviewSampleRow.branch_id == BranchRow.id)
            .where(BranchRow.path.startswith(scope_path, autoescape=True))
        )
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(stmt.order_by(ReviewSampleRow.id.desc()).offset(offset).limit(limit)).all()
        return [_sample(r, p) for r, p in rows], total

    # ---- candidates ----------------------------------------------------------------------------

    def candidates(self, flt: SampleFilters, *, scope_path: str) -> list[Candidate]:
        """Finished recordings (QC done, with a verdict) inside ``scope_path`` matching the filters
        SQL can apply (times, verdicts, risk); the caller applies ``SampleFilters.matches``."""
        R = RecordingRow
        stmt = (
            select(
                R.id,
                R.branch_id,
                R.verdict,
                R.risk_score,
                R.created_by,
                R.inputs,
                TaskRow.business_type,
                TaskRow.product,
                TaskRow.customer_type,
                TaskRow.mode,
                TaskRow.created_by,
                HighRiskFlagRow.high_risk,
            )
            .join(BranchRow, R.branch_id == BranchRow.id)
            .outerjoin(HighRiskFlagRow, HighRiskFlagRow.recording_id == R.id)
            .outerjoin(TaskAttemptRow, TaskAttemptRow.recording_id == R.id)
            .outerjoin(TaskRow, TaskRow.id == TaskAttemptRow.task_id)
            .where(BranchRow.path.startswith(scope_path, autoescape=True))
            .where(R.status == "done", R.verdict.is_not(None))
        )
        if flt.recorded_from is not None:
            stmt = stmt.where(R.created_at >= flt.recorded_from)
        if flt.recorded_to is not None:
            stmt = stmt.where(R.created_at < flt.recorded_to)
        finished = func.coalesce(
            R.finished_at, R.updated_at
        )  # rows older than finished_at: their last change
        if flt.finished_from is not None:
            stmt = stmt.where(finished >= flt.finished_from)
        if flt.finished_to is not None:
            stmt = stmt.where(finished < flt.finished_to)
        if flt.verdicts:
            stmt = stmt.where(R.verdict.in_(flt.verdicts))
        if flt.risk_min is not None:
            stmt = stmt.where(func.coalesce(R.risk_score, 0) >= flt.risk_min)
        if flt.risk_max is not None:
            stmt = stmt.where(func.coalesce(R.risk_score, 0) <= flt.risk_max)
        rows = self._s.execute(stmt.order_by(R.id).limit(CANDIDATE_CAP)).all()
        # uploads that name their task in their inputs but are not (yet) an attempt's recording
        linked = {r[0] for r in rows if r[6] is not None}
        wanted = {
            str((r[5] or {}).get("task", {}).get("task_id")): r[0]
            for r in rows
            if r[0] not in linked
            and isinstance((r[5] or {}).get("task"), dict)
            and (r[5] or {})["task"].get("task_id")
        }
        tasks = {}
        if wanted:
            for t in self._s.execute(
                select(
                    TaskRow.id,
                    TaskRow.business_type,
                    TaskRow.product,
                    TaskRow.customer_type,
                    TaskRow.mode,
                    TaskRow.created_by,
                ).where(TaskRow.id.in_(list(wanted)))
            ).all():
                tasks[wanted[t[0]]] = t[1:]
        out: dict[str, Candidate] = {}
        for r in rows:
            rid = str(r[0])
            inputs = r[5] if isinstance(r[5], dict) else {}
            given: dict[str, Any] = inputs["task"] if isinstance(inputs.get("task"), dict) else {}
            flow: dict[str, Any] = inputs["flow"] if isinstance(inputs.get("flow"), dict) else {}
            task_fields = r[6:11] if r[6] is not None else tasks.get(rid)
            if task_fields is not None:
                business_type, product, customer_type, mode, task_by = (str(v or "") for v in task_fields)
            else:
                business_type = str(given.get("business_type") or flow.get("business_type") or "")
                product, customer_type, task_by = "", "", ""
                mode = str(given.get("mode") or flow.get("mode") or "")
            agents = tuple(a for a in dict.fromkeys((str(r[4] or ""), task_by)) if a)
            out.setdefault(
                rid,
                Candidate(
                    recording_id=rid,
                    branch_id=int(r[1]),
                    verdict=str(r[2]),
                    risk_score=int(r[3] or 0),
                    business_type=business_type,
                    product=product,
                    customer_type=customer_type,
                    mode=mode,
                    agents=agents,
                    high_risk=bool(r[11]),
                ),
            )
        return list(out.values())

    # ---- items ---------------------------------------------------------------------------------

    def reviewed_recordings(self, recording_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        ids = list(recording_ids)
        for i in range(0, len(ids), 500):
            found |= set(
                self._s.scalars(
                    select(ReviewItemRow.recording_id).where(ReviewItemRow.recording_id.in_(ids[i : i + 500]))
                ).all()
            )
        return found

    def add_item(self, **fields: Any) -> int:
        now = datetime.now(UTC)
        row = ReviewItemRow(created_at=now, updated_at=now, **fields)
        self._s.add(row)
        self._s.flush()
        return row.id

    def update_item(self, item_id: int, **fields: Any) -> None:
        row = self._s.get_one(ReviewItemRow, item_id)
        for key, value in fields.items():
            if not hasattr(row, key):
                raise AttributeError(key)
            setattr(row, key, value.value if hasattr(value, "value") else value)
        row.updated_at = datetime.now(UTC)
        self._s.flush()

    def _items_select(self) -> Any:
        return (
            select(ReviewItemRow, BranchRow.path, UserRow.username, HighRiskFlagRow.high_risk)
            .join(BranchRow, ReviewItemRow.branch_id == BranchRow.id)
            .outerjoin(UserRow, ReviewItemRow.assignee_id == UserRow.id)
            .outerjoin(HighRiskFlagRow, HighRiskFlagRow.recording_id == ReviewItemRow.recording_id)
        )

    def item(self, item_id: int, *, for_update: bool = False) -> ReviewItem | None:
        stmt = self._items_select().where(ReviewItemRow.id == item_id)
        if for_update:
            stmt = stmt.with_for_update(of=ReviewItemRow)
        found = self._s.execute(stmt).first()
        if found is None:
            return None
        return _item(found[0], found[1], found[2], self.decisions(item_id), bool(found[3]))

    def item_for_recording(self, recording_id: str) -> ReviewItem | None:
        found = self._s.execute(
            self._items_select().where(ReviewItemRow.recording_id == recording_id)
        ).first()
        if found is None:
            return None
        return _item(found[0], found[1], found[2], self.decisions(found[0].id), bool(found[3]))

    def items(self, q: ItemQuery, *, offset: int, limit: int) -> tuple[list[ReviewItem], int]:
        stmt = self._items_select().where(BranchRow.path.startswith(q.scope_path, autoescape=True))
        if q.statuses:
            stmt = stmt.where(ReviewItemRow.status.in_(q.statuses))
        if q.assignee_id is not None:
            stmt = stmt.where(ReviewItemRow.assignee_id == q.assignee_id)
        if q.unassigned:
            stmt = stmt.where(ReviewItemRow.assignee_id.is_(None))
        if q.outcome:
            stmt = stmt.where(ReviewItemRow.outcome == q.outcome)
        if q.sample_id is not None:
            stmt = stmt.where(ReviewItemRow.sample_id == q.sample_id)
        if q.recording_id:
            stmt = stmt.where(ReviewItemRow.recording_id == q.recording_id)
        if q.high_risk is True:
            stmt = stmt.where(HighRiskFlagRow.high_risk.is_(True))
        elif q.high_risk is False:
            stmt = stmt.where(func.coalesce(HighRiskFlagRow.high_risk, False).is_(False))
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(
            stmt.order_by(ReviewItemRow.created_at.desc(), ReviewItemRow.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        return [_item(r, p, u, (), bool(h)) for r, p, u, h in rows], total

    def decided_items(
        self, *, scope_path: str, since: datetime | None, until: datetime | None, batch: int = 1000
    ) -> Iterator[ReviewItem]:
        """Items with a first decision (in ``[since, until)``), with their finding decisions, in
        batches (statistics)."""
        last = 0
        while True:
            stmt = (
                self._items_select()
                .where(BranchRow.path.startswith(scope_path, autoescape=True))
                .where(ReviewItemRow.decided_at.is_not(None), ReviewItemRow.id > last)
            )
            if since is not None:
                stmt = stmt.where(ReviewItemRow.decided_at >= since)
            if until is not None:
                stmt = stmt.where(ReviewItemRow.decided_at < until)
            rows = self._s.execute(stmt.order_by(ReviewItemRow.id).limit(batch)).all()
            if not rows:
                return
            ids = [r[0].id for r in rows]
            by_item: dict[int, list[FindingDecision]] = {i: [] for i in ids}
            for d in self._s.scalars(
                select(ReviewFindingDecisionRow).where(ReviewFindingDecisionRow.item_id.in_(ids))
            ).all():
                by_item[d.item_id].append(_decision(d))
            for r, p, u, h in rows:
                yield _item(r, p, u, by_item[r.id], bool(h))
            last = ids[-1]
            if len(rows) < batch:
                return

    # ---- finding decisions ---------------------------------------------------------------------

    def decisions(self, item_id: int) -> list[FindingDecision]:
        rows = self._s.scalars(
            select(ReviewFindingDecisionRow)
            .where(ReviewFindingDecisionRow.item_id == item_id)
            .order_by(ReviewFindingDecisionRow.id)
        ).all()
        return [_decision(r) for r in rows]

    def put_decision(self, *, item_id: int, finding_key: str, **fields: Any) -> None:
        """Confirm / overrule a machine finding (replaces an earlier word on the same finding)."""
        row = self._s.scalars(
            select(ReviewFindingDecisionRow).where(
                ReviewFindingDecisionRow.item_id == item_id,
                ReviewFindingDecisionRow.finding_key == finding_key,
            )
        ).first()
        if row is None:
            row = ReviewFindingDecisionRow(item_id=item_id, finding_key=finding_key)
            self._s.add(row)
        for key, value in fields.items():
            setattr(row, key, value)
        self._s.flush()

    def add_finding(self, **fields: Any) -> int:
        row = ReviewFindingDecisionRow(finding_key=None, action=FindingAction.ADDED.value, **fields)
        self._s.add(row)
        self._s.flush()
        return row.id

    def delete_added(self, item_id: int, decision_id: int) -> bool:
        row = self._s.get(ReviewFindingDecisionRow, decision_id)
        if row is None or row.item_id != item_id or row.finding_key is not None:
            return False
        self._s.delete(row)
        self._s.flush()
        return True

    # ---- appeals -------------------------------------------------------------------------------

    def add_appeal(self, **fields: Any) -> int:
        row = ReviewAppealRow(**fields)
        self._s.add(row)
        self._s.flush()
        return row.id

    def update_appeal(self, appeal_id: int, **fields: Any) -> None:
        row = self._s.get_one(ReviewAppealRow, appeal_id)
        for key, value in fields.items():
            setattr(row, key, value.value if hasattr(value, "value") else value)
        self._s.flush()

    def appeal(self, appeal_id: int, *, for_update: bool = False) -> Appeal | None:
        stmt = (
            select(ReviewAppealRow, BranchRow.path)
            .join(BranchRow, ReviewAppealRow.branch_id == BranchRow.id)
            .where(ReviewAppealRow.id == appeal_id)
        )
        if for_update:
            stmt = stmt.with_for_update(of=ReviewAppealRow)
        found = self._s.execute(stmt).first()
        return _appeal(found[0], found[1]) if found else None

    def appeals(
        self,
        *,
        scope_path: str,
        status: str | None = None,
        item_id: int | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[Appeal], int]:
        stmt = (
            select(ReviewAppealRow, BranchRow.path)
            .join(BranchRow, ReviewAppealRow.branch_id == BranchRow.id)
            .where(BranchRow.path.startswith(scope_path, autoescape=True))
        )
        if status:
            stmt = stmt.where(ReviewAppealRow.status == status)
        if item_id is not None:
            stmt = stmt.where(ReviewAppealRow.item_id == item_id)
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(stmt.order_by(ReviewAppealRow.id.desc()).offset(offset).limit(limit)).all()
        return [_appeal(r, p) for r, p in rows], total

    # ---- people --------------------------------------------------------------------------------

    def users_in_scope(self, scope_path: str, roles: Sequence[str]) -> list[tuple[int, str, str]]:
        """(id, username, display name) of active users of ``roles`` in the subtree."""
        if not roles:
            return []
        rows = self._s.execute(
            select(UserRow.id, UserRow.username, UserRow.display_name)
            .join(BranchRow, UserRow.branch_id == BranchRow.id)
            .where(BranchRow.path.startswith(scope_path, autoescape=True))
            .where(UserRow.is_active.is_(True), UserRow.role.in_(list(roles)))
            .order_by(UserRow.username)
        ).all()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def user_brief(self, user_id: int) -> tuple[int, str, str, str, bool] | None:
        """(id, username, role, branch path, active) of a user."""
        found = self._s.execute(
            select(UserRow.id, UserRow.username, UserRow.role, BranchRow.path, UserRow.is_active)
            .join(BranchRow, UserRow.branch_id == BranchRow.id)
            .where(UserRow.id == user_id)
        ).first()
        return (int(found[0]), str(found[1]), str(found[2]), str(found[3]), bool(found[4])) if found else None
