"""Recording tasks: the business-system integration API (HMAC-signed API keys) and the console.

``POST /tasks`` takes an ``Idempotency-Key`` header: the same key with the same body returns the
task created the first time (200 instead of 201); with a different body it is a 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query, Response

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.common import SEARCH_PATTERN, Page
from dualrec.api.schemas.tasks import EntryOut, TaskAction, TaskAttemptOut, TaskCreate, TaskCreated, TaskOut
from dualrec.core.flow import flow_to_dict
from dualrec.core.identity import Principal
from dualrec.core.rbac import Permission as P
from dualrec.core.tasks import Task, mask_id_number, mask_name, mask_phone
from dualrec.services.common.context import Actor
from dualrec.services.tasks.service import CreatedTask, TaskRequest

router = APIRouter(prefix="/tasks", tags=["tasks"])
public = APIRouter(tags=["entry"])
TaskId = Annotated[str, Path(min_length=1, max_length=36)]


def _unmasked(principal: Principal | None) -> bool:
    return principal is not None and (principal.kind == "api_key" or principal.can(P.SENSITIVE_UNMASK))


# the hand-over queue (and any list shown to a wider audience) asks for masked numbers even when the
# caller may see them in full
Masked = Annotated[
    bool,
    Query(
        description="证件号、手机号脱敏（即使有查看明文权限）/ "
        "mask ID and phone numbers even for callers allowed to see them"
    ),
]


def task_out(t: Task, actor: Actor, *, masked: bool = False) -> TaskOut:
    clear = _unmasked(actor.principal) and not masked
    return TaskOut(
        id=t.id,
        status=t.status,
        business_type=t.business_type,
        business_no=t.business_no,
        contract_no=t.contract_no,
        product=t.product,
        amount=t.amount,
        customer_id=t.customer_id,
        customer_name=t.customer_name,
        customer_type=t.customer_type,
        risk_level=t.risk_level,
        id_number=t.id_number if clear else mask_id_number(t.id_number),
        phone=t.phone if clear else mask_phone(t.phone),
        documents=t.documents,
        callback_url=t.callback_url,
        mode=t.mode,
        flow_code=t.flow_code,
        flow_version=t.flow_version,
        attempt=t.attempt_no,
        branch_id=t.branch_id,
        created_by=t.created_by,
        created_at=t.created_at,
        updated_at=t.updated_at,
        finished_at=t.finished_at,
        attempts=[
            TaskAttemptOut(
                number=a.number,
                status=a.status,
                flow_version=a.flow_version,
                entry_expires_at=a.entry_expires_at,
                created_at=a.created_at,
                finished_at=a.finished_at,
                reason=a.reason,
                recording_id=a.recording_id,
                questions=[
                    {"node_id": d["node_id"], "bank": d["bank"], "seed": d["seed"], "codes": d["codes"]}
                    for d in a.draws
                ],
                result=a.result,
            )
            for a in t.attempts
        ],
    )


def _created(c: CreatedTask, actor: Actor) -> TaskCreated:
    return TaskCreated(
        **task_out(c.task, actor).model_dump(),
        entry_url=c.entry_url,
        entry_expires_at=c.entry_expires_at,
        replayed=c.replayed,
    )


@router.post(
    "",
    response_model=TaskCreated,
    status_code=201,
    summary="创建双录任务 / create a recording task",
    responses={200: {"description": "重复请求，返回首次创建的任务 / replay of an earlier request"}},
)
def create_task(
    body: TaskCreate,
    response: Response,
    actor: Annotated[Actor, perm(P.TASKS_WRITE)],
    container: ContainerDep,
    idempotency_key: Annotated[str, Header(max_length=128)] = "",
) -> TaskCreated:
    request = TaskRequest(**body.model_dump(exclude_none=True))
    created = container.tasks.create(actor=actor, request=request, idempotency_key=idempotency_key)
    if created.replayed:
        response.status_code = 200
    return _created(created, actor)


@router.get("", response_model=Page[TaskOut], summary="任务列表 / search tasks")
def search_tasks(
    actor: Annotated[Actor, perm(P.TASKS_READ)],
    container: ContainerDep,
    status: Annotated[str | None, Query(max_length=16, pattern=SEARCH_PATTERN)] = None,
    business_type: Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN)] = None,
    business_no: Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN)] = None,
    contract_no: Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN)] = None,
    customer_id: Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN)] = None,
    customer_name: Annotated[str | None, Query(max_length=100, pattern=SEARCH_PATTERN)] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    masked: Masked = False,
) -> Page[TaskOut]:
    filters = {
        "status": status,
        "business_type": business_type,
        "business_no": business_no,
        "contract_no": contract_no,
        "customer_id": customer_id,
        "customer_name": customer_name,
        "created_from": created_from,
        "created_to": created_to,
    }
    items, total = container.tasks.search(
        actor=actor, filters=filters, offset=(page - 1) * page_size, limit=page_size
    )
    return Page(
        items=[task_out(t, actor, masked=masked) for t in items], total=total, page=page, page_size=page_size
    )


@router.get("/{task_id}", response_model=TaskOut, summary="任务状态与各次尝试 / task status and attempts")
def get_task(
    task_id: TaskId,
    actor: Annotated[Actor, perm(P.TASKS_READ)],
    container: ContainerDep,
    masked: Masked = False,
) -> TaskOut:
    return task_out(container.tasks.get(actor=actor, task_id=task_id), actor, masked=masked)


@router.get(
    "/{task_id}/attempts/{attempt}/signed-documents/{index}",
    summary="已签署文件 PDF / a document the customer signed, as stored",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def get_signed_document(
    task_id: TaskId,
    attempt: Annotated[int, Path(ge=1, le=10_000)],
    index: Annotated[int, Path(ge=0, le=1_000)],
    actor: Annotated[Actor, perm(P.TASKS_READ)],
    container: ContainerDep,
) -> Response:
    data, name = container.tasks.signed_document(actor=actor, task_id=task_id, attempt=attempt, index=index)
    ascii_name = f"signed-{task_id}-{attempt}-{index + 1}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/{task_id}/reset", response_model=TaskCreated, summary="双录重置 / reset: start a new attempt")
def reset_task(
    task_id: TaskId, body: TaskAction, actor: Annotated[Actor, perm(P.TASKS_WRITE)], container: ContainerDep
) -> TaskCreated:
    return _created(container.tasks.reset(actor=actor, task_id=task_id, reason=body.reason), actor)


@router.post("/{task_id}/cancel", response_model=TaskOut, summary="取消任务 / cancel")
def cancel_task(
    task_id: TaskId, body: TaskAction, actor: Annotated[Actor, perm(P.TASKS_WRITE)], container: ContainerDep
) -> TaskOut:
    return task_out(container.tasks.cancel(actor=actor, task_id=task_id, reason=body.reason), actor)


@router.post(
    "/{task_id}/link", response_model=TaskCreated, summary="重新发放客户链接 / issue a new entry link"
)
def issue_link(
    task_id: TaskId, actor: Annotated[Actor, perm(P.TASKS_WRITE)], container: ContainerDep
) -> TaskCreated:
    return _created(container.tasks.issue_link(actor=actor, task_id=task_id), actor)


@public.get(
    "/entry/{token}", response_model=EntryOut, summary="客户入口（凭链接令牌）/ customer entry (link token)"
)
def entry(token: Annotated[str, Path(min_length=10, max_length=400)], container: ContainerDep) -> EntryOut:
    task, flow = container.tasks.resolve_entry(token)
    return EntryOut(
        task_id=task.id,
        attempt=task.attempt_no,
        status=task.status,
        customer_name=mask_name(task.customer_name),
        business_type=task.business_type,
        product=task.product,
        mode=task.mode,
        flow=flow_to_dict(flow),
        documents=task.documents,
    )
