"""Archive administration: deletion requests and their approval chain, retention policies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.archive import (
    ApprovalChainIn,
    ApprovalChainOut,
    ApprovalStepIO,
    DecisionIn,
    DeletionRequestCreate,
    DeletionRequestOut,
    RetentionPolicyIn,
    RetentionPolicyOut,
    RetentionPolicySaved,
    StepDecisionOut,
)
from dualrec.api.schemas.common import Page
from dualrec.core.approvals import ApprovalStep, Decision
from dualrec.core.rbac import Permission as P
from dualrec.services.archive.deletion import DELETE_CHAIN_ID, RequestView
from dualrec.services.common.context import Actor

router = APIRouter(prefix="/archive", tags=["archive"])

RecordingId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]
RequestId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]
BusinessType = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^(\*|[A-Za-z0-9_\-]+)$")]


def request_out(view: RequestView) -> DeletionRequestOut:
    r = view.request
    step = r.state.current_step
    return DeletionRequestOut(
        id=r.id,
        recording_id=r.recording_id,
        status=r.state.status.value,
        reason=r.reason,
        requested_by=r.requested_by,
        requester_id=r.state.requester_id,
        created_at=r.created_at,
        finished_at=r.finished_at,
        steps=[ApprovalStepIO(role=s.role, name=s.name) for s in r.state.steps],
        decisions=[
            StepDecisionOut(
                step=d.step + 1,
                role=d.role,
                user_id=d.user_id,
                username=d.username,
                decision=d.decision.value,
                comment=d.comment,
                at=d.at,
            )
            for d in r.state.decisions
        ],
        current_step=step + 1 if step is not None and step < len(r.state.steps) else None,
        can_decide=view.can_decide,
        legal_hold=view.legal_hold,
        result=r.result,
    )


@router.post(
    "/entries/{recording_id}/deletion-requests",
    response_model=DeletionRequestOut,
    status_code=201,
    summary="申请删除（进入审批链）/ request deletion (starts the approval chain)",
)
def request_deletion(
    recording_id: RecordingId,
    body: DeletionRequestCreate,
    actor: Annotated[Actor, perm(P.ARCHIVE_DELETE_REQUEST)],
    container: ContainerDep,
) -> DeletionRequestOut:
    deletions = container.archive.deletions
    created = deletions.request(actor=actor, recording_id=recording_id, reason=body.reason)
    return request_out(deletions.get(actor=actor, request_id=created.id))


@router.get(
    "/deletion-requests", response_model=Page[DeletionRequestOut], summary="删除申请 / deletion requests"
)
def list_requests(
    actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)],
    container: ContainerDep,
    status: Annotated[str | None, Query(pattern=r"^(pending|rejected|cancelled|completed)$")] = None,
    recording_id: Annotated[str | None, Query(max_length=36, pattern=r"^[0-9a-f-]{36}$")] = None,
    actionable: Annotated[bool, Query(description="只看我现在可审批的 / only what I may decide now")] = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Page[DeletionRequestOut]:
    views, total = container.archive.deletions.search(
        actor=actor,
        status=status,
        recording_id=recording_id,
        actionable=actionable,
        page=page,
        page_size=page_size,
    )
    return Page(items=[request_out(v) for v in views], total=total, page=page, page_size=page_size)


@router.get(
    "/deletion-requests/{request_id}",
    response_model=DeletionRequestOut,
    summary="删除申请 / deletion request",
)
def get_request(
    request_id: RequestId, actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)], container: ContainerDep
) -> DeletionRequestOut:
    return request_out(container.archive.deletions.get(actor=actor, request_id=request_id))


@router.post(
    "/deletion-requests/{request_id}/decision",
    response_model=DeletionRequestOut,
    summary="审批当前环节（最后一步通过即删除）/ decide the current step (the last approval deletes)",
)
def decide(
    request_id: RequestId,
    body: DecisionIn,
    actor: Annotated[Actor, perm(P.ARCHIVE_APPROVE)],
    container: ContainerDep,
) -> DeletionRequestOut:
    view = container.archive.deletions.decide(
        actor=actor, request_id=request_id, decision=Decision(body.decision), comment=body.comment
    )
    return request_out(view)


@router.post(
    "/deletion-requests/{request_id}/cancel",
    response_model=DeletionRequestOut,
    summary="撤回删除申请 / withdraw a request",
)
def cancel_request(
    request_id: RequestId,
    actor: Annotated[Actor, perm(P.ARCHIVE_DELETE_REQUEST)],
    container: ContainerDep,
) -> DeletionRequestOut:
    return request_out(container.archive.deletions.cancel(actor=actor, request_id=request_id))


@router.get(
    "/approval-chain", response_model=ApprovalChainOut, summary="删除审批链 / deletion approval chain"
)
def get_chain(actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)], container: ContainerDep) -> ApprovalChainOut:
    steps = container.archive.deletions.chain()
    return ApprovalChainOut(
        id=DELETE_CHAIN_ID, steps=[ApprovalStepIO(role=s.role, name=s.name) for s in steps]
    )


@router.put("/approval-chain", response_model=ApprovalChainOut, summary="配置删除审批链 / set the chain")
def put_chain(
    body: ApprovalChainIn, actor: Annotated[Actor, perm(P.SETTINGS_WRITE)], container: ContainerDep
) -> ApprovalChainOut:
    steps = container.archive.deletions.set_chain(
        actor=actor, steps=[ApprovalStep(s.role, s.name) for s in body.steps]
    )
    return ApprovalChainOut(
        id=DELETE_CHAIN_ID, steps=[ApprovalStepIO(role=s.role, name=s.name) for s in steps]
    )


@router.get(
    "/retention-policies",
    response_model=list[RetentionPolicyOut],
    summary="保管期限策略 / retention policies",
)
def list_policies(
    actor: Annotated[Actor, perm(P.ARCHIVE_SEARCH)], container: ContainerDep
) -> list[RetentionPolicyOut]:
    return [
        RetentionPolicyOut(business_type=p.business_type, code=p.code, basis=p.basis.value, name=p.name)
        for p in container.archive.retention.policies()
    ]


@router.put(
    "/retention-policies/{business_type}",
    response_model=RetentionPolicySaved,
    summary="设置保管期限策略（重算到期日）/ set a policy (expiry dates are recomputed)",
)
def put_policy(
    business_type: BusinessType,
    body: RetentionPolicyIn,
    actor: Annotated[Actor, perm(P.SETTINGS_WRITE)],
    container: ContainerDep,
) -> RetentionPolicySaved:
    policy, changed = container.archive.retention.put_policy(
        actor=actor, business_type=business_type, code=body.code, basis=body.basis, name=body.name
    )
    return RetentionPolicySaved(
        business_type=policy.business_type,
        code=policy.code,
        basis=policy.basis.value,
        name=policy.name,
        entries_recomputed=changed,
    )


@router.delete(
    "/retention-policies/{business_type}",
    status_code=204,
    summary="删除保管期限策略（改用默认策略）/ delete a policy (the default applies)",
)
def delete_policy(
    business_type: BusinessType, actor: Annotated[Actor, perm(P.SETTINGS_WRITE)], container: ContainerDep
) -> None:
    container.archive.retention.delete_policy(actor=actor, business_type=business_type)
