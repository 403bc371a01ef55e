"""The customer's self-service session (H5): its state, the flow's steps and the recording's chunks.
The signed link token is the only credential: every route resolves it to its task's current attempt,
so a token can never reach another task (also in session_monitor.py and session_documents.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request

from dualrec.api.deps import ContainerDep
from dualrec.api.schemas.sessions import (
    ChunkAckOut,
    ConsentIn,
    CopyOut,
    FinishIn,
    FinishOut,
    HelpIn,
    OutcomeIn,
    PromptIn,
    ScoredOut,
    SessionNodeOut,
    SessionOut,
    SpeechOut,
)
from dualrec.bootstrap.container import Container
from dualrec.core.flow import FlowNode
from dualrec.core.live_session import MAX_CHUNK_BYTES
from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.services.sessions.copying import MAX_COPY_BYTES, HandwrittenCopies
from dualrec.services.sessions.service import LiveSessionService, ScoredAttempt, SessionView

router = APIRouter(prefix="/session", tags=["session"])

Token = Annotated[str, Path(min_length=10, max_length=400)]
MAX_SPEECH_BYTES = 4 * 1024 * 1024  # 60 s of 16 kHz 16-bit mono is under 2 MB
MAX_IMAGE_BYTES = 6 * 1024 * 1024


def sessions(container: Container) -> LiveSessionService:
    assert container.sessions is not None
    return container.sessions


def copies(container: Container) -> HandwrittenCopies:
    assert container.session_copies is not None
    return container.session_copies


def _node(n: FlowNode, v: SessionView) -> SessionNodeOut:
    rule = v.rule
    return SessionNodeOut(
        id=n.id,
        type=n.type,
        title=n.title,
        script=n.script,
        subtitle=n.shown_text,
        choices=list(v.choices),
        mode=rule.mode if rule is not None else "",
        sentence=rule.sentence if rule is not None else "",
        accuracy=v.accuracy,
        min_page_seconds=v.min_page_seconds,
        retries=n.retries,
        timeout_seconds=n.timeout_seconds,
        params=dict(n.params),
    )


def session_out(v: SessionView) -> SessionOut:
    return SessionOut(
        session_id=v.session_id,
        status=v.status,
        segment=v.segment,
        resumed=v.resumed,
        ask=v.ask,
        reason=v.reason,
        recording_id=v.recording_id,
        node=_node(v.node, v) if v.node is not None else None,
        nodes=[{"id": n.id, "type": n.type, "title": n.title} for n in v.flow.active_nodes],
        customer=v.masked_task,
        identity=dict(v.identity),
        received=dict(v.received),
        pages_read=dict(v.pages_read),
        documents=[
            {"index": i, "name": str(d.get("name", "")), "pages": int(d.get("pages", 0))}
            for i, d in enumerate(v.task.documents)
        ],
        tts_voice=v.tts_voice,
        tts_rate=v.tts_rate,
    )


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes ``limit`` (never buffered beyond it)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InvalidInputError(msg("sessions.body_larger_than_bytes", limit=limit), details={"limit": limit})
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > limit:
            raise InvalidInputError(
                msg("sessions.body_larger_than_bytes", limit=limit), details={"limit": limit}
            )
    return bytes(body)


@router.get("/{token}", response_model=SessionOut, summary="会话状态 / the session (created on first visit)")
def get_session(token: Token, container: ContainerDep) -> SessionOut:
    return session_out(sessions(container).state(token))


@router.post("/{token}/consent", response_model=SessionOut, summary="同意录音录像 / consent")
def consent(token: Token, body: ConsentIn, container: ContainerDep) -> SessionOut:
    return session_out(sessions(container).consent(token, agree=body.agree, t=body.t))


@router.post("/{token}/connect", response_model=SessionOut, summary="重新连接：新的录像分段 / (re)connect")
def connect(token: Token, container: ContainerDep) -> SessionOut:
    return session_out(sessions(container).connect(token))


@router.post(
    "/{token}/nodes/{node_id}/outcome",
    response_model=SessionOut,
    summary="节点结果（点选回答等）/ node outcome",
)
def outcome(
    token: Token, node_id: Annotated[str, Path(max_length=64)], body: OutcomeIn, container: ContainerDep
) -> SessionOut:
    view = sessions(container).report(
        token, node_id, kind=body.kind, text=body.text, reason=body.reason, t=body.t
    )
    return session_out(view)


@router.post(
    "/{token}/nodes/{node_id}/speech",
    response_model=SpeechOut,
    summary="语音回答（16 位 PCM WAV）/ spoken answer (16-bit PCM WAV)",
)
async def speech(
    token: Token,
    node_id: Annotated[str, Path(max_length=64)],
    request: Request,
    container: ContainerDep,
    t: Annotated[float, Query(ge=0, le=24 * 3600)] = 0.0,
) -> SpeechOut:
    from starlette.concurrency import run_in_threadpool

    data = await read_limited(request, MAX_SPEECH_BYTES)
    view, text, words, attempt = await run_in_threadpool(
        sessions(container).speech_answer, token, node_id, data, t=t
    )
    return SpeechOut(
        session=session_out(view),
        transcript=text,
        sensitive_words=words,
        attempt=_scored(attempt) if attempt is not None else None,
    )


def _scored(a: ScoredAttempt) -> ScoredOut:
    return ScoredOut(
        mode=a.mode,
        text=a.text,
        score=a.score,
        accuracy=a.accuracy,
        passed=a.passed,
        review=a.review,
        retry=a.retry,
    )


@router.post(
    "/{token}/nodes/{node_id}/copy",
    response_model=CopyOut,
    summary="手写抄录（PNG）/ the sentence copied by hand (PNG)",
)
async def copy(
    token: Token,
    node_id: Annotated[str, Path(max_length=64)],
    request: Request,
    container: ContainerDep,
    t: Annotated[float, Query(ge=0, le=24 * 3600)] = 0.0,
) -> CopyOut:
    from starlette.concurrency import run_in_threadpool

    data = await read_limited(request, MAX_COPY_BYTES)
    view, attempt = await run_in_threadpool(copies(container).submit, token, node_id, data, t=t)
    return CopyOut(session=session_out(view), attempt=_scored(attempt))


@router.post("/{token}/prompts", status_code=204, summary="已播放/显示的话术 / a text played or shown")
def prompt(token: Token, body: PromptIn, container: ContainerDep) -> None:
    sessions(container).note(token, kind="prompt", node_id=body.node_id, text=body.text, t=body.t)


@router.post("/{token}/resume", response_model=SessionOut, summary="暂停后继续 / continue after a pause")
def resume(token: Token, body: HelpIn, container: ContainerDep) -> SessionOut:
    return session_out(sessions(container).resume_paused(token, t=body.t))


@router.post("/{token}/help", response_model=SessionOut, summary="请求人工协助 / ask for a person")
def ask_help(token: Token, body: HelpIn, container: ContainerDep) -> SessionOut:
    return session_out(sessions(container).ask_for_help(token, t=body.t, note=body.note))


@router.put(
    "/{token}/chunks/{segment}/{seq}",
    response_model=ChunkAckOut,
    summary="上传录像分片（确认其 SHA-256）/ upload a recording chunk",
)
async def put_chunk(
    token: Token,
    segment: Annotated[int, Path(ge=0, le=1000)],
    seq: Annotated[int, Path(ge=0, le=1_000_000)],
    request: Request,
    container: ContainerDep,
    x_chunk_sha256: Annotated[str, Header(min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$")],
) -> ChunkAckOut:
    from starlette.concurrency import run_in_threadpool

    data = await read_limited(request, MAX_CHUNK_BYTES)
    ack = await run_in_threadpool(sessions(container).put_chunk, token, segment, seq, data, x_chunk_sha256)
    return ChunkAckOut(
        segment=ack.segment, seq=ack.seq, sha256=ack.sha256, size=ack.size, duplicate=ack.duplicate
    )


@router.post(
    "/{token}/finish", response_model=FinishOut, summary="结束：校验分片并生成录像 / finish the recording"
)
def finish(token: Token, body: FinishIn, container: ContainerDep) -> FinishOut:
    view, missing = sessions(container).finish(token, body.final_seqs, t=body.t)
    return FinishOut(session=session_out(view), missing=missing)
