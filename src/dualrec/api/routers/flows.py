"""Flow administration: drafts, validation, sensitive-word review, publishing, versions, rules."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.flows import (
    FlowChangeOut,
    FlowCreate,
    FlowDraft,
    FlowOut,
    FlowProblemOut,
    FlowPublish,
    FlowSummaryOut,
    FlowVersionOut,
    RoutingRuleOut,
    RoutingRules,
    SensitiveWords,
    TextHitOut,
)
from dualrec.core.flow import NODE_TYPES
from dualrec.core.flow_versions import FlowVersion, StoredFlow
from dualrec.core.rbac import Permission as P
from dualrec.core.routing import RoutingRule
from dualrec.services.common.context import Actor
from dualrec.services.flows import routing, sensitive_words
from dualrec.services.flows import service as svc

router = APIRouter(tags=["flows"])
FlowCode = Annotated[str, Path(min_length=1, max_length=64)]


def _summary(f: StoredFlow) -> FlowSummaryOut:
    return FlowSummaryOut(
        code=f.code,
        name=f.name,
        business_type=f.business_type,
        latest_version=f.latest_version,
        archived=f.archived,
        draft_updated_at=f.draft_updated_at,
        draft_updated_by=f.draft_updated_by,
    )


def _view(v: svc.FlowView) -> FlowOut:
    return FlowOut(
        **_summary(v.flow).model_dump(),
        draft=v.flow.draft,
        draft_sha256=svc.definition_sha256(v.flow.draft),
        problems=[FlowProblemOut(**dataclasses.asdict(p)) for p in v.problems],
        hits=[TextHitOut(**dataclasses.asdict(h)) for h in v.hits],
        changes=[FlowChangeOut(**dataclasses.asdict(c)) for c in v.changes],
        unpublished_changes=v.unpublished_changes,
    )


def _version(v: FlowVersion) -> FlowVersionOut:
    return FlowVersionOut(
        code=v.code,
        version=v.version,
        definition=v.definition,
        sha256=v.sha256,
        published_at=v.published_at,
        published_by=v.published_by,
        changes=[FlowChangeOut(**c) for c in v.changes],
        review_hits=[TextHitOut(**h) for h in v.review_hits],
        override_reason=v.override_reason,
    )


@router.get("/flows", response_model=list[FlowSummaryOut], summary="流程列表 / list flows")
def list_flows(
    actor: Annotated[Actor, perm(P.FLOWS_READ)],
    container: ContainerDep,
    include_archived: bool = False,
) -> list[FlowSummaryOut]:
    return [_summary(f) for f in svc.list_flows(container.uows, include_archived=include_archived)]


@router.post("/flows", response_model=FlowOut, status_code=201, summary="新建流程 / create a flow")
def create_flow(
    body: FlowCreate, actor: Annotated[Actor, perm(P.FLOWS_WRITE)], container: ContainerDep
) -> FlowOut:
    return _view(
        svc.create_flow(
            container.uows,
            actor=actor,
            code=body.code,
            name=body.name,
            business_type=body.business_type,
            definition=body.definition,
        )
    )


@router.get("/flows/{code}", response_model=FlowOut, summary="流程草稿与检查结果 / a flow's draft and checks")
def get_flow(code: FlowCode, actor: Annotated[Actor, perm(P.FLOWS_READ)], container: ContainerDep) -> FlowOut:
    return _view(svc.get_flow(container.uows, code))


@router.put("/flows/{code}", response_model=FlowOut, summary="保存草稿 / save the draft")
def save_draft(
    code: FlowCode, body: FlowDraft, actor: Annotated[Actor, perm(P.FLOWS_WRITE)], container: ContainerDep
) -> FlowOut:
    return _view(
        svc.save_draft(
            container.uows,
            actor=actor,
            code=code,
            name=body.name,
            business_type=body.business_type,
            definition=body.definition,
        )
    )


@router.post(
    "/flows/{code}/publish", response_model=FlowVersionOut, status_code=201, summary="发布新版本 / publish"
)
def publish(
    code: FlowCode, body: FlowPublish, actor: Annotated[Actor, perm(P.FLOWS_PUBLISH)], container: ContainerDep
) -> FlowVersionOut:
    return _version(
        svc.publish_flow(
            container.uows,
            actor=actor,
            code=code,
            override_reason=body.override_reason,
            expected_sha256=body.expected_sha256,
        )
    )


@router.post("/flows/{code}/archive", status_code=204, summary="归档/恢复流程 / archive or restore")
def archive(
    code: FlowCode,
    actor: Annotated[Actor, perm(P.FLOWS_WRITE)],
    container: ContainerDep,
    archived: bool = True,
) -> None:
    svc.set_archived(container.uows, actor=actor, code=code, archived=archived)


@router.get("/flows/{code}/versions", response_model=list[FlowVersionOut], summary="版本列表 / versions")
def versions(
    code: FlowCode, actor: Annotated[Actor, perm(P.FLOWS_READ)], container: ContainerDep
) -> list[FlowVersionOut]:
    return [_version(v) for v in svc.get_version(container.uows, code)]


@router.get(
    "/flows/{code}/versions/{version}", response_model=FlowVersionOut, summary="某个版本 / one version"
)
def version(
    code: FlowCode,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    actor: Annotated[Actor, perm(P.FLOWS_READ)],
    container: ContainerDep,
) -> FlowVersionOut:
    return _version(svc.get_version(container.uows, code, version)[0])


def _rule_out(r: RoutingRule) -> RoutingRuleOut:
    return RoutingRuleOut(
        id=r.id,
        name=r.name,
        priority=r.priority,
        flow_code=r.flow_code,
        mode=r.mode,
        customer_types=sorted(r.customer_types),
        business_types=sorted(r.business_types),
        risk_levels=sorted(r.risk_levels),
        enabled=r.enabled,
    )


@router.get(
    "/routing-rules", response_model=list[RoutingRuleOut], summary="面签方式与流程规则 / routing rules"
)
def list_rules(actor: Annotated[Actor, perm(P.FLOWS_READ)], container: ContainerDep) -> list[RoutingRuleOut]:
    return [_rule_out(r) for r in routing.list_rules(container.uows)]


@router.put(
    "/routing-rules", response_model=list[RoutingRuleOut], summary="保存规则表 / save the rules table"
)
def save_rules(
    body: RoutingRules, actor: Annotated[Actor, perm(P.FLOWS_PUBLISH)], container: ContainerDep
) -> list[RoutingRuleOut]:
    rules = [
        RoutingRule(
            id=0,
            priority=r.priority,
            flow_code=r.flow_code,
            mode=r.mode,
            customer_types=frozenset(r.customer_types),
            business_types=frozenset(r.business_types),
            risk_levels=frozenset(r.risk_levels),
            enabled=r.enabled,
            name=r.name,
        )
        for r in body.rules
    ]
    return [_rule_out(r) for r in routing.replace_rules(container.uows, actor=actor, rules=rules)]


@router.get("/sensitive-words", response_model=SensitiveWords, summary="敏感词表 / sensitive words")
def get_words(actor: Annotated[Actor, perm(P.FLOWS_READ)], container: ContainerDep) -> SensitiveWords:
    return SensitiveWords(words=list(sensitive_words.current_words(container.uows)))


@router.put("/sensitive-words", response_model=SensitiveWords, summary="保存敏感词表 / save the list")
def put_words(
    body: SensitiveWords, actor: Annotated[Actor, perm(P.FLOWS_OVERRIDE_REVIEW)], container: ContainerDep
) -> SensitiveWords:
    return SensitiveWords(
        words=list(sensitive_words.replace_words(container.uows, actor=actor, words=body.words))
    )


@router.get("/node-types", summary="节点类型 / node types")
def node_types(actor: Annotated[Actor, perm(P.FLOWS_READ)]) -> list[dict[str, str]]:
    return [{"type": t, "name_zh": zh, "name_en": en} for t, (zh, en) in NODE_TYPES.items()]
