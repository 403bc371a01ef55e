"""QC operations (质检运营): sampling rules and samples, the review queue and workbench, the final
decision (终审), appeals (申诉) and accuracy statistics. Everything is scoped to the caller's branch
subtree (other branches' items are 404); see docs/review.md."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.common import MAX_ID, IdPath, Page
from dualrec.api.schemas.review import (
    AddedFindingIn,
    AppealDecisionIn,
    AppealOut,
    AssignIn,
    ConditionsIn,
    FiltersIn,
    FindingDecisionIn,
    FindingDecisionOut,
    HighRiskFlagOut,
    HighRiskRuleIn,
    HighRiskRuleOut,
    NoticeReadIn,
    NoticeReadOut,
    PlanIn,
    PreviewOut,
    QcNoticeOut,
    QcNoticePageOut,
    ReproductionOut,
    ReviewDecisionIn,
    ReviewDecisionOut,
    ReviewerOut,
    ReviewItemOut,
    RuleIn,
    RuleOut,
    RunRuleIn,
    SampleIn,
    SampleOut,
    StatsOut,
    StatsRowOut,
    TaskEffectOut,
    ThresholdAdviceOut,
    ThresholdBinOut,
    ThresholdsOut,
)
from dualrec.bootstrap.review import ReviewServices
from dualrec.core.high_risk import HighRiskFlag, HighRiskRule, RuleConditions
from dualrec.core.rbac import Permission as P
from dualrec.core.review import (
    Appeal,
    FindingDecision,
    ReviewItem,
    Sample,
    SampleFilters,
    SamplingPlan,
    SamplingRule,
)
from dualrec.core.review_stats import StatsRow
from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor
from dualrec.services.review.appeals import Attachment
from dualrec.services.review.service import TaskEffect
from dualrec.services.review.stats import Statistics, to_csv

router = APIRouter(prefix="/review", tags=["review"])
M = TypeVar("M", bound=BaseModel)

RecordingId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]
FindingKey = Annotated[str, Path(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+:[0-9]{1,5}$")]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


def _svc(container: ContainerDep) -> ReviewServices:
    assert container.review is not None, "review services not built"
    return container.review


def _filters(body: FiltersIn) -> SampleFilters:
    return SampleFilters(
        recorded_from=body.recorded_from,
        recorded_to=body.recorded_to,
        finished_from=body.finished_from,
        finished_to=body.finished_to,
        branch_id=body.branch_id,
        business_types=tuple(body.business_types),
        products=tuple(body.products),
        customer_types=tuple(body.customer_types),
        modes=tuple(body.modes),
        verdicts=tuple(body.verdicts),
        risk_min=body.risk_min,
        risk_max=body.risk_max,
        agents=tuple(body.agents),
    )


def _plan(body: PlanIn) -> SamplingPlan:
    return SamplingPlan(
        rates={str(k): float(v) for k, v in body.rates.items()},
        default_rate=body.default_rate,
        per_branch=body.per_branch,
        high_risk_min=body.high_risk_min,
        limit=body.limit,
        high_risk_flagged=body.high_risk_flagged,
    )


def _out(model: type[M], obj: object, **given: Any) -> M:
    """The response model filled from ``obj``'s attributes of the same names (the domain records
    and the response bodies share their field names), ``given`` for the fields that change form."""
    fields = {n: getattr(obj, n) for n in model.model_fields if n not in given and hasattr(obj, n)}
    return model(**fields, **given)


def _value(x: StrEnum | None) -> str | None:
    return None if x is None else x.value


def _save_rule(container: ContainerDep, actor: Actor, rule_id: int | None, body: RuleIn) -> RuleOut:
    rule = _svc(container).sampling.save_rule(
        actor=actor,
        rule_id=rule_id,
        name=body.name,
        enabled=body.enabled,
        branch_id=body.branch_id,
        filters=_filters(body.filters),
        plan=_plan(body.plan),
        assignees=tuple(body.assignees),
    )
    return rule_out(rule)


def rule_out(r: SamplingRule) -> RuleOut:
    return _out(RuleOut, r, filters=r.filters.to_json(), plan=r.plan.to_json(), assignees=list(r.assignees))


def sample_out(s: Sample) -> SampleOut:
    return _out(SampleOut, s, filters=s.filters.to_json(), plan=s.plan.to_json(), selected=list(s.selected))


def decision_out(d: FindingDecision) -> FindingDecisionOut:
    return _out(FindingDecisionOut, d, action=d.action.value)


def appeal_out(a: Appeal) -> AppealOut:
    base = f"/api/v1/review/appeals/{a.id}/attachments"
    return _out(
        AppealOut,
        a,
        status=a.status.value,
        attachments=[
            {
                "name": f.get("name"),
                "content_type": f.get("content_type"),
                "size": f.get("size"),
                "sha256": f.get("sha256"),
                "url": f"{base}/{i}",
            }
            for i, f in enumerate(a.attachments)
        ],
        decision=_value(a.decision),
    )


def item_out(i: ReviewItem, appeals: list[Appeal] | None = None) -> ReviewItemOut:
    return _out(
        ReviewItemOut,
        i,
        status=i.status.value,
        findings=list(i.findings),
        decisions=[decision_out(d) for d in i.decisions],
        open_findings=i.open_findings(),
        decision=_value(i.decision),
        final_decision=_value(i.final_decision),
        outcome=_value(i.outcome),
        appeals=[appeal_out(a) for a in appeals or ()],
    )


def effect_out(e: TaskEffect | None) -> TaskEffectOut | None:
    return (
        None if e is None else TaskEffectOut(task_id=e.task_id, applied=e.applied, new_attempt=e.new_attempt)
    )


def _with_appeals(svc: ReviewServices, actor: Actor, item: ReviewItem) -> ReviewItemOut:
    appeals, _ = svc.appeals.search(actor=actor, status=None, item_id=item.id, page=1, page_size=20)
    return item_out(item, appeals)


# ---- sampling rules ----------------------------------------------------------------------------


@router.get("/rules", response_model=list[RuleOut], summary="抽检规则 / sampling rules")
def list_rules(actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep) -> list[RuleOut]:
    return [rule_out(r) for r in _svc(container).sampling.list_rules(actor=actor)]


@router.post(
    "/rules", response_model=RuleOut, status_code=201, summary="新建抽检规则 / create a sampling rule"
)
def create_rule(body: RuleIn, actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep) -> RuleOut:
    return _save_rule(container, actor, None, body)


@router.get("/rules/{rule_id}", response_model=RuleOut, summary="抽检规则 / one sampling rule")
def get_rule(rule_id: IdPath, actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep) -> RuleOut:
    return rule_out(_svc(container).sampling.get_rule(actor=actor, rule_id=rule_id))


@router.put("/rules/{rule_id}", response_model=RuleOut, summary="修改抽检规则 / change a sampling rule")
def update_rule(
    rule_id: IdPath, body: RuleIn, actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep
) -> RuleOut:
    return _save_rule(container, actor, rule_id, body)


@router.post(
    "/rules/{rule_id}/run", response_model=SampleOut, status_code=201, summary="立即运行规则 / run a rule now"
)
def run_rule(
    rule_id: IdPath, body: RunRuleIn, actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep
) -> SampleOut:
    try:
        day = date.fromisoformat(body.day) if body.day else None
    except ValueError as exc:
        raise InvalidInputError(msg("review.invalid_day"), details={"fields": {"day": body.day}}) from exc
    return sample_out(_svc(container).sampling.run_rule(actor=actor, rule_id=rule_id, day=day))


# ---- samples -----------------------------------------------------------------------------------


@router.post("/samples", response_model=SampleOut, status_code=201, summary="人工抽样 / sample by filters")
def create_sample(
    body: SampleIn, actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep
) -> SampleOut:
    return sample_out(
        _svc(container).sampling.sample(
            actor=actor,
            filters=_filters(body.filters),
            plan=_plan(body.plan),
            assignees=tuple(body.assignees),
        )
    )


@router.post("/samples/preview", response_model=PreviewOut, summary="抽样预览（不保存）/ preview a sample")
def preview_sample(
    body: SampleIn, actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep
) -> PreviewOut:
    candidates, selected, reviewed = _svc(container).sampling.preview(
        actor=actor, filters=_filters(body.filters), plan=_plan(body.plan)
    )
    return PreviewOut(candidates=candidates, selected=selected, already_in_review=reviewed)


@router.get("/samples", response_model=Page[SampleOut], summary="抽样记录 / sampling runs")
def list_samples(
    actor: Annotated[Actor, perm(P.QC_SAMPLE)],
    container: ContainerDep,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> Page[SampleOut]:
    items, total = _svc(container).sampling.list_samples(actor=actor, page=page, page_size=page_size)
    return Page[SampleOut](items=[sample_out(s) for s in items], total=total, page=page, page_size=page_size)


@router.get("/samples/{sample_id}", response_model=SampleOut, summary="抽样记录 / one sampling run")
def get_sample(
    sample_id: IdPath, actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep
) -> SampleOut:
    return sample_out(_svc(container).sampling.get_sample(actor=actor, sample_id=sample_id))


@router.get(
    "/samples/{sample_id}/reproduction",
    response_model=ReproductionOut,
    summary="按种子复现抽样 / draw again with the stored seed and compare",
)
def reproduce_sample(
    sample_id: IdPath, actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep
) -> ReproductionOut:
    r = _svc(container).sampling.reproduce(actor=actor, sample_id=sample_id)
    return ReproductionOut(
        sample_id=r.sample_id,
        same_candidates=r.same_candidates,
        same_selection=r.same_selection,
        candidates=r.candidates,
        missing=list(r.missing),
        extra=list(r.extra),
    )


@router.get("/reviewers", response_model=list[ReviewerOut], summary="可分配的质检员 / reviewers to assign")
def list_reviewers(actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep) -> list[ReviewerOut]:
    return [
        ReviewerOut(id=i, username=u, display_name=d)
        for i, u, d in _svc(container).sampling.reviewers(actor=actor)
    ]


# ---- the queue and the workbench ---------------------------------------------------------------


@router.get("/items", response_model=Page[ReviewItemOut], summary="复核队列 / review queue")
def list_items(
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
    view: Annotated[Literal["mine", "pool", "final", "all"], Query()] = "all",
    status: Annotated[
        Literal["pending", "in_review", "awaiting_final", "done", "appealed"] | None, Query()
    ] = None,
    outcome: Annotated[Literal["pass", "fail", "rerecord"] | None, Query()] = None,
    sample_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    high_risk: Annotated[bool | None, Query(description="仅高风险 / only high-risk (or not)")] = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> Page[ReviewItemOut]:
    items, total = _svc(container).reviews.queue(
        high_risk=high_risk,
        actor=actor,
        view=view,
        status=status,
        outcome=outcome,
        sample_id=sample_id,
        page=page,
        page_size=page_size,
    )
    return Page[ReviewItemOut](
        items=[item_out(i) for i in items], total=total, page=page, page_size=page_size
    )


@router.get("/items/{item_id}", response_model=ReviewItemOut, summary="复核详情 / one review")
def get_item(
    item_id: IdPath, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> ReviewItemOut:
    svc = _svc(container)
    return _with_appeals(svc, actor, svc.reviews.get(actor=actor, item_id=item_id))


@router.get(
    "/recordings/{recording_id}",
    response_model=ReviewItemOut | None,
    summary="录像的复核与申诉（无则 null）/ the review of a recording, null when none",
)
def get_recording_review(
    recording_id: RecordingId, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> ReviewItemOut | None:
    svc = _svc(container)
    item = svc.reviews.for_recording(actor=actor, recording_id=recording_id)
    return None if item is None else _with_appeals(svc, actor, item)


@router.post(
    "/items/{item_id}/claim", response_model=ReviewItemOut, summary="领取并开始复核 / claim and start"
)
def claim_item(
    item_id: IdPath, actor: Annotated[Actor, perm(P.QC_REVIEW)], container: ContainerDep
) -> ReviewItemOut:
    return item_out(_svc(container).reviews.claim(actor=actor, item_id=item_id))


@router.put(
    "/items/{item_id}/assignee", response_model=ReviewItemOut, summary="分配质检员 / assign a reviewer"
)
def assign_item(
    item_id: IdPath, body: AssignIn, actor: Annotated[Actor, perm(P.QC_SAMPLE)], container: ContainerDep
) -> ReviewItemOut:
    return item_out(_svc(container).reviews.assign(actor=actor, item_id=item_id, user_id=body.user_id))


@router.put(
    "/items/{item_id}/findings/{finding_key}",
    response_model=ReviewItemOut,
    summary="确认或推翻一个发现项 / confirm or overrule a finding",
)
def decide_finding(
    item_id: IdPath,
    finding_key: FindingKey,
    body: FindingDecisionIn,
    actor: Annotated[Actor, perm(P.QC_REVIEW)],
    container: ContainerDep,
) -> ReviewItemOut:
    return item_out(
        _svc(container).reviews.decide_finding(
            actor=actor, item_id=item_id, finding_key=finding_key, action=body.action, reason=body.reason
        )
    )


@router.post(
    "/items/{item_id}/added-findings",
    response_model=FindingDecisionOut,
    status_code=201,
    summary="补充漏检发现 / add a finding the machine missed",
)
def add_finding(
    item_id: IdPath, body: AddedFindingIn, actor: Annotated[Actor, perm(P.QC_REVIEW)], container: ContainerDep
) -> FindingDecisionOut:
    return decision_out(
        _svc(container).reviews.add_finding(
            actor=actor,
            item_id=item_id,
            check_id=body.check_id,
            start=body.start,
            end=body.end,
            note=body.note,
        )
    )


@router.delete(
    "/items/{item_id}/added-findings/{decision_id}",
    status_code=204,
    summary="删除补充发现 / remove an added finding",
)
def remove_added_finding(
    item_id: IdPath, decision_id: IdPath, actor: Annotated[Actor, perm(P.QC_REVIEW)], container: ContainerDep
) -> Response:
    _svc(container).reviews.remove_added(actor=actor, item_id=item_id, decision_id=decision_id)
    return Response(status_code=204)


@router.post(
    "/items/{item_id}/decision", response_model=ReviewDecisionOut, summary="复核结论 / decide the review"
)
def decide_item(
    item_id: IdPath,
    body: ReviewDecisionIn,
    actor: Annotated[Actor, perm(P.QC_REVIEW)],
    container: ContainerDep,
) -> ReviewDecisionOut:
    item, effect = _svc(container).reviews.decide(
        actor=actor, item_id=item_id, decision=body.decision, reason=body.reason
    )
    return ReviewDecisionOut(item=item_out(item), task=effect_out(effect))


@router.post(
    "/items/{item_id}/final", response_model=ReviewDecisionOut, summary="终审 / final decision on a FAIL"
)
def final_decision(
    item_id: IdPath,
    body: ReviewDecisionIn,
    actor: Annotated[Actor, perm(P.QC_FINAL_REVIEW)],
    container: ContainerDep,
) -> ReviewDecisionOut:
    item, effect = _svc(container).reviews.final(
        actor=actor, item_id=item_id, decision=body.decision, reason=body.reason
    )
    return ReviewDecisionOut(item=item_out(item), task=effect_out(effect))


# ---- appeals -----------------------------------------------------------------------------------


@router.get("/appeals", response_model=Page[AppealOut], summary="申诉列表 / appeals")
def list_appeals(
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
    status: Annotated[Literal["open", "rejected", "accepted"] | None, Query()] = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> Page[AppealOut]:
    items, total = _svc(container).appeals.search(
        actor=actor, status=status, item_id=None, page=page, page_size=page_size
    )
    return Page[AppealOut](items=[appeal_out(a) for a in items], total=total, page=page, page_size=page_size)


@router.post("/appeals", response_model=AppealOut, status_code=201, summary="提起申诉 / appeal a FAIL")
async def create_appeal(
    actor: Annotated[Actor, perm(P.APPEALS_CREATE)],
    container: ContainerDep,
    item_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    files: Annotated[list[UploadFile], File(description="PDF / JPEG / PNG")] = [],  # noqa: B006
) -> AppealOut:
    svc = _svc(container)
    limit = container.settings.review_appeal_max_file_bytes
    if len(files) > container.settings.review_appeal_max_files:
        raise InvalidInputError(
            msg(
                "review.too_many_attachments",
                review_appeal_max_files=container.settings.review_appeal_max_files,
            ),
            details={"fields": {"files": f"at most {container.settings.review_appeal_max_files}"}},
        )
    attachments = [Attachment(f.filename or "", await f.read(limit + 1)) for f in files]
    return appeal_out(svc.appeals.create(actor=actor, item_id=item_id, reason=reason, files=attachments))


@router.get("/appeals/{appeal_id}", response_model=AppealOut, summary="申诉详情 / one appeal")
def get_appeal(
    appeal_id: IdPath, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> AppealOut:
    return appeal_out(_svc(container).appeals.get(actor=actor, appeal_id=appeal_id))


@router.get("/appeals/{appeal_id}/attachments/{index}", summary="申诉附件 / an appeal's attachment")
def get_appeal_attachment(
    appeal_id: IdPath,
    index: Annotated[int, Path(ge=0, le=100)],
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
) -> Response:
    data, content_type, name = _svc(container).appeals.attachment(
        actor=actor, appeal_id=appeal_id, index=index
    )
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="appeal-{appeal_id}-{index}"; '
            f"filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/appeals/{appeal_id}/decision", response_model=AppealOut, summary="裁决申诉 / decide an appeal")
def decide_appeal(
    appeal_id: IdPath,
    body: AppealDecisionIn,
    actor: Annotated[Actor, perm(P.QC_FINAL_REVIEW)],
    container: ContainerDep,
) -> AppealOut:
    appeal, _ = _svc(container).appeals.decide(
        actor=actor, appeal_id=appeal_id, decision=body.decision, reason=body.reason
    )
    return appeal_out(appeal)


# ---- statistics --------------------------------------------------------------------------------

GroupBy = Annotated[Literal["check", "branch", "period"], Query()]
Period = Annotated[Literal["day", "week", "month"], Query()]
BranchQ = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _row(r: StatsRow, labels: dict[str, str]) -> StatsRowOut:
    return _out(StatsRowOut, r, label=labels.get(r.key, r.key))


def _stats(
    container: ContainerDep,
    actor: Actor,
    since: datetime | None,
    until: datetime | None,
    branch_id: int | None,
    group_by: str,
    period: str,
) -> Statistics:
    for t in (since, until):
        if t is not None and t.tzinfo is None:
            raise InvalidInputError(msg("review.times_need_time_zone_e"))
    return _svc(container).stats.compute(
        actor=actor, since=since, until=until, branch_id=branch_id, group_by=group_by, period=period
    )


@router.get("/stats", response_model=StatsOut, summary="质检准确率统计 / accuracy statistics")
def get_stats(
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
    group_by: GroupBy = "check",
    period: Period = "day",
    since: datetime | None = None,
    until: Annotated[datetime | None, Query(description="不含 / exclusive")] = None,
    branch_id: BranchQ = None,
) -> StatsOut:
    s = _stats(container, actor, since, until, branch_id, group_by, period)
    return StatsOut(
        group_by=s.group_by,
        period=s.period,
        rows=[_row(r, s.labels) for r in s.rows],
        total=_row(s.total, {"total": "合计 / total"}),
    )


@router.get("/stats.csv", summary="导出准确率统计 CSV / accuracy statistics as CSV")
def get_stats_csv(
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
    group_by: GroupBy = "check",
    period: Period = "day",
    since: datetime | None = None,
    until: Annotated[datetime | None, Query(description="不含 / exclusive")] = None,
    branch_id: BranchQ = None,
) -> Response:
    s = _stats(container, actor, since, until, branch_id, group_by, period)
    return Response(
        to_csv(s).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="qc-accuracy-{group_by}.csv"'},
    )


@router.get(
    "/thresholds",
    response_model=ThresholdsOut,
    summary="阈值调优参考 / what reviewers' decisions say about each numeric check's threshold",
)
def get_thresholds(
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
    since: datetime | None = None,
    until: Annotated[datetime | None, Query(description="不含 / exclusive")] = None,
    branch_id: BranchQ = None,
) -> ThresholdsOut:
    for t in (since, until):
        if t is not None and t.tzinfo is None:
            raise InvalidInputError(msg("review.times_need_time_zone_e"))
    advice, titles = _svc(container).stats.thresholds(
        actor=actor, since=since, until=until, branch_id=branch_id
    )
    return ThresholdsOut(
        checks=[
            _out(
                ThresholdAdviceOut,
                a,
                check_title=titles.get(a.check_id, a.check_id),
                bins=[ThresholdBinOut(lo=lo, hi=hi, confirmed=c, overruled=o) for lo, hi, c, o in a.bins],
            )
            for a in advice
        ]
    )


# ---- high-risk rules and notices ---------------------------------------------------------------


def _conditions(body: ConditionsIn) -> RuleConditions:
    return RuleConditions(
        risk_min=body.risk_min,
        verdicts=tuple(body.verdicts),
        checks_all=tuple(body.checks_all),
        checks_any=tuple(body.checks_any),
        min_severity=body.min_severity,
        customer_types=tuple(body.customer_types),
        risk_levels=tuple(body.risk_levels),
        modes=tuple(body.modes),
    )


def _save_high_risk(
    container: ContainerDep, actor: Actor, rule_id: int | None, body: HighRiskRuleIn
) -> HighRiskRuleOut:
    rule = _svc(container).high_risk.save_rule(
        actor=actor,
        rule_id=rule_id,
        name=body.name,
        enabled=body.enabled,
        branch_id=body.branch_id,
        conditions=_conditions(body.conditions),
        notify_roles=body.notify_roles,
    )
    return high_risk_rule_out(rule)


def high_risk_rule_out(r: HighRiskRule) -> HighRiskRuleOut:
    return _out(HighRiskRuleOut, r, conditions=r.conditions.to_json(), notify_roles=list(r.notify_roles))


def flag_out(f: HighRiskFlag) -> HighRiskFlagOut:
    return HighRiskFlagOut(
        recording_id=f.recording_id,
        high_risk=f.high_risk,
        rules=[{k: v for k, v in r.items() if k != "roles"} for r in f.rules],
        flagged_at=f.flagged_at if f.high_risk else None,
        evaluated_at=f.evaluated_at,
    )


@router.get("/high-risk-rules", response_model=list[HighRiskRuleOut], summary="高风险规则 / high-risk rules")
def list_high_risk_rules(
    actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> list[HighRiskRuleOut]:
    return [high_risk_rule_out(r) for r in _svc(container).high_risk.list_rules(actor=actor)]


@router.post(
    "/high-risk-rules",
    response_model=HighRiskRuleOut,
    status_code=201,
    summary="新建高风险规则 / create a high-risk rule",
)
def create_high_risk_rule(
    body: HighRiskRuleIn, actor: Annotated[Actor, perm(P.QC_RULES)], container: ContainerDep
) -> HighRiskRuleOut:
    return _save_high_risk(container, actor, None, body)


@router.get(
    "/high-risk-rules/{rule_id}", response_model=HighRiskRuleOut, summary="高风险规则 / one high-risk rule"
)
def get_high_risk_rule(
    rule_id: IdPath, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> HighRiskRuleOut:
    return high_risk_rule_out(_svc(container).high_risk.get_rule(actor=actor, rule_id=rule_id))


@router.put(
    "/high-risk-rules/{rule_id}",
    response_model=HighRiskRuleOut,
    summary="修改高风险规则 / change a high-risk rule",
)
def update_high_risk_rule(
    rule_id: IdPath, body: HighRiskRuleIn, actor: Annotated[Actor, perm(P.QC_RULES)], container: ContainerDep
) -> HighRiskRuleOut:
    return _save_high_risk(container, actor, rule_id, body)


@router.get(
    "/recordings/{recording_id}/high-risk",
    response_model=HighRiskFlagOut | None,
    summary="录像的高风险标记（无则 null）/ a recording's high-risk flag, null when never evaluated",
)
def get_high_risk_flag(
    recording_id: RecordingId, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> HighRiskFlagOut | None:
    flag = _svc(container).high_risk.flag_of(actor=actor, recording_id=recording_id)
    return None if flag is None else flag_out(flag)


@router.post(
    "/recordings/{recording_id}/high-risk/evaluate",
    response_model=HighRiskFlagOut,
    summary="重新评估高风险规则 / evaluate the high-risk rules again",
)
def evaluate_high_risk(
    recording_id: RecordingId, actor: Annotated[Actor, perm(P.QC_RULES)], container: ContainerDep
) -> HighRiskFlagOut:
    return flag_out(_svc(container).high_risk.reevaluate(actor=actor, recording_id=recording_id))


@router.get("/notices", response_model=QcNoticePageOut, summary="站内通知 / my role's notices in my branches")
def list_notices(
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
    unread: bool = False,
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> QcNoticePageOut:
    p = _svc(container).high_risk.notices(actor=actor, unread_only=unread, page=page, page_size=page_size)
    return QcNoticePageOut(
        items=[
            QcNoticeOut(
                id=n.id,
                kind=n.kind,
                branch_id=n.branch_id,
                recording_id=n.recording_id,
                title=n.title,
                body={
                    **dict(n.body),
                    "rules": [
                        {k: v for k, v in r.items() if k != "roles"} for r in n.body.get("rules") or ()
                    ],
                },
                created_at=n.created_at,
                read=n.read_at is not None,
            )
            for n in p.items
        ],
        total=p.total,
        unread=p.unread,
        page=page,
        page_size=page_size,
    )


@router.post("/notices/read", response_model=NoticeReadOut, summary="标记通知已读 / mark notices read")
def read_notices(
    body: NoticeReadIn, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> NoticeReadOut:
    return NoticeReadOut(marked=_svc(container).high_risk.mark_read(actor=actor, ids=body.ids))
