"""Remote interviews: joining a task attempt's Janus room (agent: console session with
``interview:conduct``; customer: the attempt's link token), hanging up, and the browsers' way to
Janus — ``/api/v1/rtc/janus/…`` forwarded to the Janus API, whose own token is the credential there.
The Admin API is never forwarded (it listens on 127.0.0.1 only, docs/remote-interview.md)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated

import httpx
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.routers.sessions import read_limited
from dualrec.api.schemas.rtc import (
    AgentQueueOut,
    AwayIn,
    CustomerQueueOut,
    DeskEventIn,
    DeskMark,
    DeskOut,
    DeskStateOut,
    HangupOut,
    JoinOut,
    MarkIn,
    QueueEntryOut,
    RtcEntryOut,
    SkillsIn,
    SkillsOut,
)
from dualrec.bootstrap.container import Container
from dualrec.core import bounded_json
from dualrec.core.rbac import Permission as P
from dualrec.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor
from dualrec.services.rtc import tokens
from dualrec.services.rtc.desk_share import DeskShare, DeskState
from dualrec.services.rtc.janus_api import JanusUnavailableError, tls_context
from dualrec.services.rtc.queue import CustomerQueueView, InterviewQueue
from dualrec.services.rtc.rooms import RtcService
from dualrec.services.rtc.signals import ChangeSignals

router = APIRouter(prefix="/rtc", tags=["rtc"])
public = APIRouter(prefix="/rtc", tags=["rtc"])

TaskId = Annotated[str, Path(min_length=1, max_length=36)]
Token = Annotated[str, Path(min_length=10, max_length=400)]
JanusId = Annotated[int, Path(ge=1, le=2**63 - 1)]
EntryId = Annotated[int, Path(ge=1, le=2**62)]
UserId = Annotated[int, Path(ge=1, le=2**62)]
MAX_JANUS_BODY = 256 * 1024  # an SDP offer with every codec is ~10 KB
# what a browser may ask of the Janus core (no "info" listing, no admin requests)
JANUS_VERBS = frozenset(
    {"create", "attach", "message", "trickle", "keepalive", "detach", "hangup", "destroy"}
)
LONG_POLL_SECONDS = 65.0  # Janus holds a long poll for 30 s


HELD_WAIT_MAX = 10.0  # seconds a queue or desk request may be held (queue presence window: 45 s)
HELD_TICK = 0.2
HeldWait = Annotated[
    float,
    Query(
        ge=0,
        le=HELD_WAIT_MAX,
        description="最多等待秒数，有变化即返回 / hold the answer up to this many seconds; it comes back "
        "as soon as something changed (an interviewer took the call, the desk changed)",
    ),
]


def rtc_service(container: Container) -> RtcService:
    if container.rtc is None:
        raise NotFoundError(msg("rtc.remote_interviews_enabled_dualrec_rtc"))
    return container.rtc


def _out(grant: object) -> JoinOut:
    return JoinOut(**asdict(grant))  # type: ignore[call-overload]


@router.post(
    "/tasks/{task_id}/join",
    response_model=JoinOut,
    summary="坐席加入任务的视频房间 / the agent joins the task attempt's call",
)
def agent_join(
    task_id: TaskId, actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)], container: ContainerDep
) -> JoinOut:
    return _out(rtc_service(container).join_agent(actor=actor, task_id=task_id))


@router.post(
    "/tasks/{task_id}/hangup",
    response_model=HangupOut,
    summary="结束通话并生成录像 / end the call: its recording is composed and QC'd",
)
def agent_hangup(
    task_id: TaskId, actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)], container: ContainerDep
) -> HangupOut:
    return HangupOut(job_id=rtc_service(container).hang_up(actor=actor, task_id=task_id))


@public.get(
    "/entry/{token}",
    response_model=RtcEntryOut,
    summary="客户链接是否为人工视频面签 / does this link lead to a human interview",
)
def customer_entry(token: Token, container: ContainerDep) -> RtcEntryOut:
    if container.rtc is None:  # every link is self-service then
        task, _flow = container.tasks.resolve_entry(token, allow_finished=True)
        return RtcEntryOut(human=False, status=task.status, business_type=task.business_type)
    task, human = container.rtc.customer_mode(token)
    return RtcEntryOut(human=human, status=task.status, business_type=task.business_type, calls=True)


@public.post(
    "/entry/{token}/join",
    response_model=JoinOut,
    summary="客户加入视频房间（凭链接令牌）/ the customer joins the call (link token)",
)
def customer_join(token: Token, container: ContainerDep) -> JoinOut:
    return _out(rtc_service(container).join_customer(token))


# ---- the queue (SPEC §3.2) and the agent desk -----------------------------------------------------


@public.post(
    "/entry/{token}/queue",
    response_model=CustomerQueueOut,
    summary="客户进入人工坐席排队 / the customer enters the interviewer queue (link token)",
)
def customer_enqueue(token: Token, container: ContainerDep) -> CustomerQueueOut:
    return CustomerQueueOut(**asdict(rtc_service(container).queue.customer_enqueue(token)))


@public.get(
    "/entry/{token}/queue",
    response_model=CustomerQueueOut,
    summary="排队位置与预计等待 / the customer's place and estimated wait (link token)",
)
async def customer_queue_status(
    token: Token,
    container: ContainerDep,
    request: Request,
    wait: HeldWait = 0,
) -> CustomerQueueOut:
    queue = rtc_service(container).queue
    view, (task_id, attempt) = await run_in_threadpool(queue.customer_status_keyed, token)
    if wait > 0 and view.status == "waiting":
        view = await _wait_for_change(queue, request, token, task_id, attempt, wait) or view
    return CustomerQueueOut(**asdict(view))


async def _wait_for_change(
    queue: InterviewQueue, request: Request, token: str, task_id: str, attempt: int, wait: float
) -> CustomerQueueView | None:
    """Holds a waiting customer's request until its entry changes or ``wait`` passes; then the place
    and estimate are read again (the answer is also the customer's presence). None: the customer
    went away meanwhile."""
    still = await _changed(
        request,
        queue.signals,
        lambda: queue.entry_status(task_id, attempt) != "waiting",
        task_id,
        attempt,
        wait,
    )
    if not still:
        return None
    return await run_in_threadpool(queue.customer_status, token)


@public.post(
    "/entry/{token}/queue/leave",
    response_model=CustomerQueueOut,
    summary="客户离开排队 / the customer leaves the queue (link token)",
)
def customer_queue_leave(token: Token, container: ContainerDep) -> CustomerQueueOut:
    return CustomerQueueOut(**asdict(rtc_service(container).queue.customer_leave(token)))


@router.get(
    "/queue",
    response_model=AgentQueueOut,
    summary="坐席排队列表 / the customers waiting for this interviewer (branch scope, skill groups)",
)
def agent_queue(
    actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)],
    container: ContainerDep,
    all_groups: Annotated[bool, Query(description="不限技能组 / every skill group in scope")] = False,
) -> AgentQueueOut:
    view = rtc_service(container).queue.agent_queue(actor, mine_only=not all_groups)
    return AgentQueueOut(**asdict(view))


@router.put(
    "/queue/away",
    response_model=AgentQueueOut,
    summary="示忙/示闲：暂停或恢复接听客户 / pause (away) or resume taking customers",
)
def set_away(
    body: AwayIn, actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)], container: ContainerDep
) -> AgentQueueOut:
    return AgentQueueOut(**asdict(rtc_service(container).queue.set_away(actor, body.away)))


@router.post(
    "/queue/accept-next",
    response_model=QueueEntryOut,
    summary="接听下一位客户（VIP 优先）/ take the next customer (VIP first)",
)
def accept_next(actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)], container: ContainerDep) -> QueueEntryOut:
    return QueueEntryOut(**rtc_service(container).queue.accept(actor, None))


@router.post(
    "/queue/{entry_id}/accept",
    response_model=QueueEntryOut,
    summary="接听指定客户 / take this customer",
)
def accept_entry(
    entry_id: EntryId, actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)], container: ContainerDep
) -> QueueEntryOut:
    return QueueEntryOut(**rtc_service(container).queue.accept(actor, entry_id))


@router.get(
    "/tasks/{task_id}/desk",
    response_model=DeskOut,
    summary="坐席台：客户资料（脱敏）、流程、话术与合规要点 / the agent desk's data for a task",
)
def desk(
    task_id: TaskId, actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)], container: ContainerDep
) -> DeskOut:
    return DeskOut(**asdict(rtc_service(container).queue.desk(actor, task_id)))


@router.post(
    "/tasks/{task_id}/marks",
    response_model=DeskMark,
    status_code=201,
    summary="打点：开始/结束流程节点 / mark the start or end of a flow node during the call",
)
def mark_node(
    task_id: TaskId, body: MarkIn, actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)], container: ContainerDep
) -> DeskMark:
    return DeskMark(**rtc_service(container).queue.mark(actor, task_id, body.node_id, body.kind))


@router.get(
    "/agents/{user_id}/skills",
    response_model=SkillsOut,
    summary="坐席技能组 / an interviewer's skill groups",
)
def agent_skills(
    user_id: UserId, actor: Annotated[Actor, perm(P.USERS_READ)], container: ContainerDep
) -> SkillsOut:
    groups = rtc_service(container).queue.skills(actor, user_id)
    return SkillsOut(user_id=user_id, skill_groups=list(groups))


@router.put(
    "/agents/{user_id}/skills",
    response_model=SkillsOut,
    summary="设置坐席技能组 / set an interviewer's skill groups (empty: every group)",
)
def set_agent_skills(
    user_id: UserId, body: SkillsIn, actor: Annotated[Actor, perm(P.USERS_WRITE)], container: ContainerDep
) -> SkillsOut:
    groups = rtc_service(container).queue.set_skills(actor, user_id, body.skill_groups)
    return SkillsOut(user_id=user_id, skill_groups=list(groups))


# ---- the shared desk: document page with highlights, screen share, the customer's signature ------

DocIndex = Annotated[int, Path(ge=0, le=100)]
PageNo = Annotated[int, Path(ge=0, le=10_000)]
MAX_SIGNATURE_BODY = 2 * 1024 * 1024


def _desk(container: Container) -> DeskShare:
    desk = rtc_service(container).desk
    if desk is None:
        raise NotFoundError(msg("rtc.desk_not_available"))
    return desk


DeskAfter = Annotated[
    int | None,
    Query(
        ge=0, le=2**62, description="页面已有的 seq / the seq the page already shows: held until a later one"
    ),
]


async def _held_desk(
    desk: DeskShare,
    request: Request,
    load: Callable[[], tuple[DeskState, tuple[str, int]]],
    after: int | None,
    wait: float,
) -> DeskState:
    """The desk's state; with ``after`` and ``wait``, held until the desk has an event after
    ``after`` (at once when this process made it, within a second when another did) or ``wait``
    passes. The answer is loaded again at the end: who may read it is checked then too."""
    state, (task_id, attempt) = await run_in_threadpool(load)
    if after is None or wait <= 0 or state.seq != after:
        return state
    if not await _changed(
        request, desk.signals, lambda: desk.seq(task_id, attempt) != after, task_id, attempt, wait
    ):
        return state
    return (await run_in_threadpool(load))[0]


async def _changed(
    request: Request,
    signals: ChangeSignals,
    check: Callable[[], bool],
    task_id: str,
    attempt: int,
    wait: float,
) -> bool:
    """Waits (no thread held) until ``check()`` — a database read — is true or ``wait`` passes. It is
    read once a second, and at once for a moment after ``signals`` moved for the call (a signal is
    given before its commit may be visible). False: the client went away."""
    if not signals.try_hold(task_id, attempt):
        return True  # too many held for this call already: answered at once
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        seen = signals.version(task_id, attempt)
        recheck_until = 0.0
        next_read = loop.time() + 1.0
        while loop.time() < deadline:
            await asyncio.sleep(HELD_TICK)
            now = loop.time()
            version = signals.version(task_id, attempt)
            if version != seen:
                seen, recheck_until = version, now + 2.0
            if now < recheck_until or now >= next_read:
                next_read = now + 1.0
                if await run_in_threadpool(check):
                    return True
                if await request.is_disconnected():
                    return False
        return True
    finally:
        signals.release(task_id, attempt)


def _state_out(state: object) -> DeskStateOut:
    return DeskStateOut(**asdict(state))  # type: ignore[call-overload]


@router.get(
    "/tasks/{task_id}/desk/state",
    response_model=DeskStateOut,
    summary="共享桌面状态（坐席）/ the shared desk: page shown, marks, screen share, signatures",
)
async def agent_desk_state(
    task_id: TaskId,
    actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)],
    container: ContainerDep,
    request: Request,
    after: DeskAfter = None,
    wait: HeldWait = 0,
) -> DeskStateOut:
    desk = _desk(container)
    state = await _held_desk(desk, request, lambda: desk.agent_state_keyed(actor, task_id), after, wait)
    return _state_out(state)


@router.post(
    "/tasks/{task_id}/desk/events",
    response_model=DeskStateOut,
    summary="坐席共享操作：展示文件页、标注、屏幕共享、请求签署 / the interviewer changes the shared desk",
)
def agent_desk_event(
    task_id: TaskId,
    body: DeskEventIn,
    actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)],
    container: ContainerDep,
) -> DeskStateOut:
    return _state_out(_desk(container).agent_post(actor, task_id, body.kind, body.payload()))


@router.get(
    "/tasks/{task_id}/documents/{index}/pages/{page}.jpg",
    summary="任务文件页面（坐席）/ a page of the task's documents for the interviewer",
    response_class=Response,
)
def agent_document_page(
    task_id: TaskId,
    index: DocIndex,
    page: PageNo,
    actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)],
    container: ContainerDep,
    width: Annotated[int, Query(ge=160, le=2400)] = 960,
) -> Response:
    data = _desk(container).agent_page(actor, task_id, index, page, width=width)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=600"})


@public.get(
    "/entry/{token}/desk/state",
    response_model=DeskStateOut,
    summary="共享桌面状态（客户，凭链接令牌）/ the shared desk as the customer sees it",
)
async def customer_desk_state(
    token: Token,
    container: ContainerDep,
    request: Request,
    after: DeskAfter = None,
    wait: HeldWait = 0,
) -> DeskStateOut:
    desk = _desk(container)
    state = await _held_desk(desk, request, lambda: desk.customer_state_keyed(token), after, wait)
    return _state_out(state)


@public.post(
    "/entry/{token}/desk/events",
    response_model=DeskStateOut,
    summary="客户确认已显示共享页面 / the customer's page confirms it shows the shared page",
)
def customer_desk_event(token: Token, body: DeskEventIn, container: ContainerDep) -> DeskStateOut:
    return _state_out(_desk(container).customer_post(token, body.kind, body.payload()))


@public.get(
    "/entry/{token}/documents/{index}/pages/{page}.jpg",
    summary="共享中的文件页面（客户）/ the page being shown to the customer",
    response_class=Response,
)
def customer_document_page(
    token: Token,
    index: DocIndex,
    page: PageNo,
    container: ContainerDep,
    width: Annotated[int, Query(ge=160, le=2400)] = 720,
) -> Response:
    data = _desk(container).customer_page(token, index, page, width=width)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


@public.post(
    "/entry/{token}/desk/signature",
    response_model=DeskStateOut,
    summary="客户在通话中手写签名（PNG）/ the customer signs the document asked for during the call",
)
async def customer_desk_signature(
    token: Token,
    request: Request,
    container: ContainerDep,
    document: Annotated[int | None, Query(ge=0, le=100)] = None,
) -> DeskStateOut:
    data = await read_limited(request, MAX_SIGNATURE_BODY)
    state = await run_in_threadpool(_desk(container).customer_sign, token, document, data)
    return _state_out(state)


# ---- the Janus API, forwarded -------------------------------------------------------------------


def _client() -> httpx.AsyncClient:
    """A client per forwarded request: Janus is local, and no connection outlives its event loop
    (cheap: the TLS context is built once, not per client)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=LONG_POLL_SECONDS), verify=tls_context())


def _janus_node(service: RtcService, token: object) -> str:
    """The media node a browser's request goes to: the one its core token names (signed by dualrec,
    unexpired). Each request carries that token (janus.js sends it with every request and long
    poll), so a session or a room on one node is never reached with another node's grant."""
    node = tokens.verify_core_token(service.secrets().token_secret, token, now=int(time.time()))
    if node is None:
        raise PermissionDeniedError(msg("rtc.invalid_expired_core_token"))
    return node or service.nodes.default.name


def _janus_url(service: RtcService, node: str, *ids: int) -> str:
    found = service.nodes.get(node)
    if found is None:
        raise PermissionDeniedError(msg("rtc.media_node_unknown", node=node[:40]))
    return "/".join([found.url, *(str(i) for i in ids)])


async def _forward_post(request: Request, container: ContainerDep, *ids: int) -> Response:
    service = rtc_service(container)
    body = await request.body()
    if len(body) > MAX_JANUS_BODY:
        raise InvalidInputError(f"body larger than {MAX_JANUS_BODY} bytes")
    try:
        message = bounded_json.loads(body)
    except (ValueError, bounded_json.JsonTooComplexError) as exc:
        raise InvalidInputError("not a Janus request (JSON object expected)") from exc
    if not isinstance(message, dict) or message.get("janus") not in JANUS_VERBS:
        raise InvalidInputError(
            "Janus request not allowed here",
            details={"janus": str(message.get("janus"))[:20] if isinstance(message, dict) else ""},
        )
    message.pop("apisecret", None)  # browsers authenticate with their token only
    node = _janus_node(service, message.get("token"))
    url = _janus_url(service, node, *ids)
    if message.get("janus") == "message":
        # participant requests only; joins with dualrec's room token for a room on this node,
        # publishers as their own feed
        service.check_participant_request(message.get("body"), node)
    try:
        async with _client() as client:
            answer = await client.post(url, json=message)
    except httpx.HTTPError as exc:
        raise JanusUnavailableError(msg("rtc.media_server_does_answer")) from exc
    return Response(answer.content, status_code=answer.status_code, media_type="application/json")


_QUERY_KEYS = re.compile(r"^(rid|maxev|token|_)$")


@public.post("/janus", summary="Janus API（会话创建）/ Janus API: create a session (Janus token)")
async def janus_root(request: Request, container: ContainerDep) -> Response:
    return await _forward_post(request, container)


@public.post("/janus/{session_id}", summary="Janus API（会话）/ Janus API: a session (Janus token)")
async def janus_session(session_id: JanusId, request: Request, container: ContainerDep) -> Response:
    return await _forward_post(request, container, session_id)


@public.get("/janus/{session_id}", summary="Janus 事件长轮询 / Janus events, long poll (Janus token)")
async def janus_events(session_id: JanusId, request: Request, container: ContainerDep) -> Response:
    service = rtc_service(container)
    params = {k: v for k, v in request.query_params.items() if _QUERY_KEYS.match(k)}
    url = _janus_url(service, _janus_node(service, params.get("token")), session_id)
    try:
        async with _client() as client:
            answer = await client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise JanusUnavailableError(msg("rtc.media_server_does_answer")) from exc
    return Response(answer.content, status_code=answer.status_code, media_type="application/json")


@public.post(
    "/janus/{session_id}/{handle_id}",
    summary="Janus API（插件句柄）/ Janus API: a plugin handle (Janus token)",
)
async def janus_handle(
    session_id: JanusId, handle_id: JanusId, request: Request, container: ContainerDep
) -> Response:
    return await _forward_post(request, container, session_id, handle_id)
