"""Sampling (抽检): manual samples by filters, periodic rules, reproducible draws, the review queue's
new items.

A draw takes the finished recordings matching the filters inside a branch subtree and ranks them
with the sample's seed (``core.review.select_sample``). The sample stores the filters (with the end
of the QC-finished window fixed at the moment of the draw, so that recordings finishing later do not
change its candidates), the plan, the seed, a digest of the candidates and what was picked:
``reproduce`` draws again and compares. Selected recordings already under review are not added
twice. Each new item keeps the machine findings of the recording's QC report as they were.

A rule runs once per local day for the day before (``run_key`` ``rule:<id>:<day>`` is unique), from
the daily thread in every server (``bootstrap/review.py``); ``run_rule`` runs one now (its window
ends at the moment of the run and it does not stand in for the scheduled run).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from dualrec.core.branches import in_scope
from dualrec.core.rbac import BUILTIN_ROLES, Permission, role_permissions
from dualrec.core.review import (
    MAX_LIST,
    VERDICTS,
    Candidate,
    ReviewAction,
    ReviewStatus,
    Sample,
    SampleFilters,
    SamplingPlan,
    SamplingRule,
    candidates_digest,
    raised_findings,
    select_sample,
)
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.common.scope import branch_in_scope
from dualrec.services.review.reports import load_report
from dualrec.storage.ports import BlobStore

__all__ = ["Reproduction", "SamplingService"]

logger = logging.getLogger(__name__)

MAX_SAMPLE = 5000  # recordings one run may add to the queue


@dataclass(frozen=True)
class Reproduction:
    sample_id: int
    same_candidates: bool
    same_selection: bool
    candidates: int
    missing: tuple[str, ...]  # picked then, not now
    extra: tuple[str, ...]  # picked now, not then


@dataclass(frozen=True)
class _Draw:
    candidates: list[Candidate]
    selected: list[str]


def _check_filters(filters: SampleFilters) -> None:
    problems: dict[str, str] = {}
    for name in ("business_types", "products", "customer_types", "modes", "verdicts", "agents"):
        values = getattr(filters, name)
        if len(values) > MAX_LIST:
            problems[name] = f"最多 {MAX_LIST} 项 / at most {MAX_LIST} values"
        if any(not v or len(v) > 200 for v in values):
            problems[name] = "值为空或过长 / empty or too long value"
    if any(v not in VERDICTS for v in filters.verdicts):
        problems["verdicts"] = f"结论须为 {'/'.join(VERDICTS)} / verdicts must be {VERDICTS}"
    for name in ("risk_min", "risk_max"):
        value = getattr(filters, name)
        if value is not None and not 0 <= value <= 100:
            problems[name] = "风险分须在 0–100 / risk score must be 0..100"
    for a, b in (("recorded_from", "recorded_to"), ("finished_from", "finished_to")):
        lo, hi = getattr(filters, a), getattr(filters, b)
        if lo is not None and hi is not None and lo >= hi:
            problems[b] = "结束时间须晚于开始时间 / the end must be after the start"
    if problems:
        first = next(iter(problems.items()))
        raise InvalidInputError(
            msg("review.invalid_filters", value=first[0], value2=first[1]), details={"fields": problems}
        )


def _check_plan(plan: SamplingPlan) -> None:
    problems: dict[str, str] = {}
    for verdict, rate in plan.rates.items():
        if verdict not in VERDICTS:
            problems["rates"] = f"未知结论 {verdict} / unknown verdict"
        elif not 0 <= rate <= 100:
            problems["rates"] = "比例须在 0–100 / rates are percentages 0..100"
    if not 0 <= plan.default_rate <= 100:
        problems["default_rate"] = "比例须在 0–100 / a percentage 0..100"
    if plan.high_risk_min is not None and not 0 <= plan.high_risk_min <= 100:
        problems["high_risk_min"] = "风险分须在 0–100 / risk score must be 0..100"
    if plan.limit is not None and not 1 <= plan.limit <= MAX_SAMPLE:
        problems["limit"] = f"须在 1–{MAX_SAMPLE} / must be 1..{MAX_SAMPLE}"
    if (
        not problems
        and not any(plan.rates.values())
        and not plan.default_rate
        and plan.high_risk_min is None
        and not plan.high_risk_flagged
    ):
        problems["rates"] = "抽样比例全为 0 / every rate is 0: nothing would be sampled"
    if problems:
        first = next(iter(problems.items()))
        raise InvalidInputError(
            msg("review.invalid_plan", value=first[0], value2=first[1]), details={"fields": problems}
        )


class SamplingService:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        blobs: BlobStore,
        *,
        utc_offset_hours: float = 8.0,
        sampling_hour: int = 1,
    ) -> None:
        self.uows, self.blobs = uows, blobs
        self.zone = timezone(timedelta(hours=utc_offset_hours))
        self.sampling_hour = sampling_hour

    # ---- helpers -------------------------------------------------------------------------------

    def day_window(self, day: date) -> tuple[datetime, datetime]:
        """A local calendar day as a UTC half-open interval."""
        start = datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)
        return start, start + timedelta(days=1)

    def due_day(self, now: datetime) -> date:
        """The day a scheduled run samples at ``now``: yesterday once the local sampling hour has
        come, the day before until then."""
        local = now.astimezone(self.zone)
        return local.date() - timedelta(days=1 if local.hour >= self.sampling_hour else 2)

    def _check_assignees(self, uow: UnitOfWork, branch_path: str, assignees: tuple[int, ...]) -> None:
        """Every assignee is an active user who may review and sees the whole subtree."""
        if len(assignees) > MAX_LIST:
            raise InvalidInputError(msg("review.most_reviewers", MAX_LIST=MAX_LIST))
        custom = {r.id: r.permissions for r in uow.roles.all()}
        for user_id in assignees:
            found = uow.review.user_brief(user_id)
            if (
                found is None
                or not found[4]
                or Permission.QC_REVIEW not in role_permissions(found[2], custom)
                or not in_scope(found[3], branch_path)
            ):
                raise InvalidInputError(
                    msg("review.each_reviewer_must_active_user"),
                    details={"fields": {"assignees": str(user_id)}},
                )

    def _draw(
        self, uow: UnitOfWork, scope_path: str, filters: SampleFilters, plan: SamplingPlan, seed: str
    ) -> _Draw:
        candidates = [c for c in uow.review.candidates(filters, scope_path=scope_path) if filters.matches(c)]
        return _Draw(candidates, select_sample(candidates, plan, seed))

    def _run(
        self,
        *,
        actor: Actor,
        kind: str,
        branch_id: int,
        branch_path: str,
        filters: SampleFilters,
        plan: SamplingPlan,
        assignees: tuple[int, ...],
        rule_id: int | None = None,
        run_key: str | None = None,
        trigger: str = "",
    ) -> Sample | None:
        """Draw, store the sample and add its new items (None: a run with ``run_key`` exists)."""
        seed = secrets.token_hex(16)
        with self.uows.read() as uow:
            if run_key is not None and uow.review.run_exists(run_key):
                return None
            draw = self._draw(uow, branch_path, filters, plan, seed)
            reviewed = uow.review.reviewed_recordings(draw.selected)
            fresh = [rid for rid in draw.selected if rid not in reviewed][:MAX_SAMPLE]
            recs = {rid: uow.recordings.get(rid) for rid in fresh}
            links = {rid: uow.archive.task_link(rid) for rid in fresh}
        reports = {
            rid: load_report(self.blobs, (rec.artifacts or {}).get("report"))
            for rid, rec in recs.items()
            if rec
        }
        with self.uows() as uow:
            sample_id = uow.review.add_sample(
                kind=kind,
                rule_id=rule_id,
                run_key=run_key,
                trigger=trigger,
                branch_id=branch_id,
                filters=filters.to_json(),
                plan=plan.to_json(),
                seed=seed,
                candidates=len(draw.candidates),
                candidates_sha256=candidates_digest(draw.candidates),
                selected=draw.selected,
                added=0,
                created_by=actor.name,
                created_at=datetime.now(UTC),
            )
            if sample_id is None:
                return None
            taken = uow.review.reviewed_recordings(fresh)  # by a run that committed meanwhile
            added = 0
            for rid in fresh:
                rec = recs.get(rid)
                if rec is None or rid in taken or rec.status != "done" or rec.verdict is None:
                    continue
                link = links.get(rid)
                given = rec.task_inputs
                task_id = link[0] if link else (str(given["task_id"]) if given.get("task_id") else None)
                attempt = (
                    link[1]
                    if link
                    else (given.get("attempt") if isinstance(given.get("attempt"), int) else None)
                )
                uow.review.add_item(
                    recording_id=rid,
                    branch_id=rec.branch_id,
                    sample_id=sample_id,
                    status=ReviewStatus.PENDING.value,
                    findings=raised_findings(reports.get(rid, {})),
                    verdict=rec.verdict,
                    risk_score=int(rec.risk_score or 0),
                    recording_created_by=rec.created_by,
                    task_id=task_id,
                    attempt_no=attempt,
                    assignee_id=assignees[added % len(assignees)] if assignees else None,
                )
                added += 1
            uow.review.set_sample_added(sample_id, added)
            audit.record(
                uow,
                actor=actor,
                action=ReviewAction.SAMPLED,
                target_type="review_sample",
                target_id=sample_id,
                details={
                    "kind": kind,
                    "rule_id": rule_id,
                    "trigger": trigger,
                    "seed": seed,
                    "filters": filters.to_json(),
                    "plan": plan.to_json(),
                    "candidates": len(draw.candidates),
                    "selected": len(draw.selected),
                    "added": added,
                },
                branch_id=branch_id,
            )
            uow.commit()
            stored = uow.review.sample(sample_id)
        assert stored is not None
        return stored

    # ---- manual sampling -----------------------------------------------------------------------

    def _manual_scope(
        self, uow: UnitOfWork, actor: Actor, filters: SampleFilters
    ) -> tuple[int, str, SampleFilters]:
        assert actor.principal is not None
        branch = branch_in_scope(uow, actor.principal, filters.branch_id or actor.principal.branch_id)
        now = datetime.now(UTC)
        end = min(filters.finished_to, now) if filters.finished_to is not None else now
        return branch.id, branch.path, replace(filters, branch_id=branch.id, finished_to=end)

    def preview(self, *, actor: Actor, filters: SampleFilters, plan: SamplingPlan) -> tuple[int, int, int]:
        """(candidates, would be selected, of which already under review) — nothing is stored."""
        _check_filters(filters)
        _check_plan(plan)
        with self.uows.read() as uow:
            _, path, fixed = self._manual_scope(uow, actor, filters)
            draw = self._draw(uow, path, fixed, plan, secrets.token_hex(16))
            return (
                len(draw.candidates),
                len(draw.selected),
                len(uow.review.reviewed_recordings(draw.selected)),
            )

    def sample(
        self, *, actor: Actor, filters: SampleFilters, plan: SamplingPlan, assignees: tuple[int, ...] = ()
    ) -> Sample:
        _check_filters(filters)
        _check_plan(plan)
        with self.uows.read() as uow:
            branch_id, path, fixed = self._manual_scope(uow, actor, filters)
            self._check_assignees(uow, path, assignees)
        sample = self._run(
            actor=actor,
            kind="manual",
            branch_id=branch_id,
            branch_path=path,
            filters=fixed,
            plan=plan,
            assignees=assignees,
        )
        assert sample is not None
        return sample

    def list_samples(self, *, actor: Actor, page: int, page_size: int) -> tuple[list[Sample], int]:
        assert actor.principal is not None
        with self.uows.read() as uow:
            return uow.review.samples(
                scope_path=actor.principal.branch_path, offset=(page - 1) * page_size, limit=page_size
            )

    def get_sample(self, *, actor: Actor, sample_id: int) -> Sample:
        assert actor.principal is not None
        with self.uows.read() as uow:
            sample = uow.review.sample(sample_id)
        if sample is None or not in_scope(actor.principal.branch_path, sample.branch_path):
            raise NotFoundError(msg("review.sample_found"), details={"sample_id": sample_id})
        return sample

    def reproduce(self, *, actor: Actor, sample_id: int) -> Reproduction:
        """Draw again with the stored filters, plan and seed and compare with what was picked."""
        sample = self.get_sample(actor=actor, sample_id=sample_id)
        with self.uows.read() as uow:
            draw = self._draw(uow, sample.branch_path, sample.filters, sample.plan, sample.seed)
        then, now = set(sample.selected), set(draw.selected)
        return Reproduction(
            sample_id=sample.id,
            same_candidates=candidates_digest(draw.candidates) == sample.candidates_sha256,
            same_selection=list(draw.selected) == list(sample.selected),
            candidates=len(draw.candidates),
            missing=tuple(sorted(then - now)),
            extra=tuple(sorted(now - then)),
        )

    def reviewers(self, *, actor: Actor) -> list[tuple[int, str, str]]:
        """Users in the caller's subtree who may review (for assigning)."""
        assert actor.principal is not None
        with self.uows.read() as uow:
            custom = {r.id: r.permissions for r in uow.roles.all()}
            roles = [
                r for r in (*BUILTIN_ROLES, *custom) if Permission.QC_REVIEW in role_permissions(r, custom)
            ]
            return uow.review.users_in_scope(actor.principal.branch_path, roles)

    # ---- rules ---------------------------------------------------------------------------------

    def list_rules(self, *, actor: Actor) -> list[SamplingRule]:
        assert actor.principal is not None
        with self.uows.read() as uow:
            return uow.review.rules(scope_path=actor.principal.branch_path)

    def get_rule(self, *, actor: Actor, rule_id: int) -> SamplingRule:
        assert actor.principal is not None
        with self.uows.read() as uow:
            rule = uow.review.rule(rule_id)
        if rule is None or not in_scope(actor.principal.branch_path, rule.branch_path):
            raise NotFoundError(msg("review.sampling_rule_found"), details={"rule_id": rule_id})
        return rule

    def save_rule(
        self,
        *,
        actor: Actor,
        rule_id: int | None,
        name: str,
        enabled: bool,
        branch_id: int | None,
        filters: SampleFilters,
        plan: SamplingPlan,
        assignees: tuple[int, ...],
    ) -> SamplingRule:
        """Create (``rule_id`` None) or replace a rule. Its time window is always the day before the
        run: time filters are not kept."""
        assert actor.principal is not None
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInputError(msg("review.rule_needs_name"), details={"fields": {"name": "required"}})
        filters = replace(
            filters,
            recorded_from=None,
            recorded_to=None,
            finished_from=None,
            finished_to=None,
            branch_id=None,
        )
        _check_filters(filters)
        _check_plan(plan)
        now = datetime.now(UTC)
        with self.uows() as uow:
            if rule_id is not None:
                old = uow.review.rule(rule_id)
                if old is None or not in_scope(actor.principal.branch_path, old.branch_path):
                    raise NotFoundError(msg("review.sampling_rule_found"), details={"rule_id": rule_id})
            branch = branch_in_scope(uow, actor.principal, branch_id or actor.principal.branch_id)
            self._check_assignees(uow, branch.path, assignees)
            fields: dict[str, Any] = {
                "name": name,
                "enabled": enabled,
                "branch_id": branch.id,
                "filters": filters.to_json(),
                "plan": plan.to_json(),
                "assignees": list(assignees),
                "updated_by": actor.name,
                "updated_at": now,
            }
            if rule_id is None:
                rule_id = uow.review.add_rule(created_by=actor.name, created_at=now, **fields)
                action = ReviewAction.RULE_CREATED
            else:
                uow.review.update_rule(rule_id, **fields)
                action = ReviewAction.RULE_UPDATED
            audit.record(
                uow,
                actor=actor,
                action=action,
                target_type="review_rule",
                target_id=rule_id,
                details={k: v for k, v in fields.items() if k not in ("updated_by", "updated_at")},
                branch_id=branch.id,
            )
            uow.commit()
            rule = uow.review.rule(rule_id)
        assert rule is not None
        return rule

    def _run_rule(self, rule: SamplingRule, day: date, *, actor: Actor, scheduled: bool) -> Sample | None:
        start, end = self.day_window(day)
        filters = replace(
            rule.filters,
            branch_id=rule.branch_id,
            finished_from=start,
            finished_to=min(end, datetime.now(UTC)),
        )
        return self._run(
            actor=actor,
            kind="rule",
            branch_id=rule.branch_id,
            branch_path=rule.branch_path,
            filters=filters,
            plan=rule.plan,
            assignees=rule.assignees,
            rule_id=rule.id,
            run_key=f"rule:{rule.id}:{day.isoformat()}" if scheduled else None,
            trigger="schedule" if scheduled else "run_now",
        )

    def run_rule(self, *, actor: Actor, rule_id: int, day: date | None = None) -> Sample:
        """Run a rule now for ``day`` (default: today so far); the scheduled run still happens."""
        rule = self.get_rule(actor=actor, rule_id=rule_id)
        day = day or datetime.now(UTC).astimezone(self.zone).date()
        if day > datetime.now(UTC).astimezone(self.zone).date() or day.year < 2000:
            raise InvalidInputError(
                msg("review.day_must_after_2000_begun"),
                details={"fields": {"day": str(day)}},
            )
        sample = self._run_rule(rule, day, actor=actor, scheduled=False)
        assert sample is not None
        return sample

    def run_due(self, now: datetime | None = None) -> list[Sample]:
        """The scheduled runs that are due at ``now`` (each enabled rule once per day); errors of one
        rule are logged and do not stop the others."""
        now = now or datetime.now(UTC)
        day = self.due_day(now)
        with self.uows.read() as uow:
            rules = uow.review.rules(enabled_only=True)
        done: list[Sample] = []
        for rule in rules:
            try:
                sample = self._run_rule(rule, day, actor=SYSTEM, scheduled=True)
            except Exception:
                logger.exception("review: sampling rule %s failed for %s", rule.id, day)
                continue
            if sample is not None:
                done.append(sample)
        return done
