"""The self-service session's identity checks and live monitor: the liveness challenge, the ID card
photos and the frames of the live camera (a WebSocket). The link token is the credential."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect

from dualrec.api.deps import ContainerDep
from dualrec.api.routers.sessions import MAX_IMAGE_BYTES, Token, read_limited, session_out, sessions
from dualrec.api.schemas.sessions import CardOut
from dualrec.bootstrap.container import Container
from dualrec.core import bounded_json
from dualrec.errors import DualrecError, InvalidInputError
from dualrec.i18n import msg, negotiate
from dualrec.services.sessions.monitor import LiveMonitor

router = APIRouter(prefix="/session", tags=["session"])

MAX_FRAME_MESSAGE = 3 * 1024 * 1024  # a Base64 frame of at most 2 MB (pipeline.live.FrameLimits)


FRAME_THREADS = 256  # frames of one serve process waiting for (or being moved to) the analysis


def _frame_limiter(websocket: WebSocket) -> anyio.CapacityLimiter:
    state = websocket.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "live_frame_limiter", None)
    if limiter is None:
        limiter = state.live_frame_limiter = anyio.CapacityLimiter(FRAME_THREADS)
    return limiter


def _monitor(container: Container) -> LiveMonitor:
    assert container.live_monitor is not None
    return container.live_monitor


@router.post("/{token}/liveness", summary="开始活体检测（随机 2–3 个动作）/ start the liveness challenge")
def start_liveness(token: Token, container: ContainerDep) -> dict[str, Any]:
    return _monitor(container).start_liveness(token)


@router.post(
    "/{token}/id-card/{side}", response_model=CardOut, summary="身份证照片（人像面/国徽面）/ ID card photo"
)
async def id_card(
    token: Token,
    side: Literal["front", "back"],
    request: Request,
    container: ContainerDep,
    t: Annotated[float, Query(ge=0, le=24 * 3600)] = 0.0,
) -> CardOut:
    from starlette.concurrency import run_in_threadpool

    data = await read_limited(request, MAX_IMAGE_BYTES)
    r = await run_in_threadpool(_monitor(container).id_card, token, side, data, t=t)
    assert r.session is not None
    return CardOut(
        side=r.side,
        passed=r.passed,
        problems=list(r.problems),
        name_matches=r.name_matches,
        number_matches=r.number_matches,
        number_valid=r.number_valid,
        face_distance=r.face_distance,
        session=session_out(r.session),
    )


def _error(exc: DualrecError, language: str) -> dict[str, Any]:
    """An ``error`` answer in the page's language (with the message key and its parameters)."""
    answer: dict[str, Any] = {"type": "error", "code": exc.code, "detail": exc.localized(language)}
    if exc.key is not None:
        answer |= {"message_key": exc.key, "params": {k: str(v) for k, v in exc.params.items()}}
    return answer


@router.websocket("/{token}/live")
async def live(websocket: WebSocket, token: str) -> None:
    """Frames from the page (JSON ``{"type": "frame", "t": s, "image": base64 JPEG}``), one at a
    time: each is answered with an ``observation`` (alerts to show and say, liveness progress)
    before the page sends the next. Bad messages get an ``error`` answer; the socket stays open."""
    from starlette.concurrency import run_in_threadpool

    container: Container = websocket.app.state.container
    monitor = _monitor(container)
    # the page's language: ?lang= (the page's own choice), else the browser's Accept-Language
    language = negotiate(websocket.headers.get("accept-language"), websocket.query_params.get("lang"))
    await websocket.accept()
    try:
        await run_in_threadpool(sessions(container).context, token)
    except DualrecError as exc:
        await websocket.send_json(_error(exc, language))
        await websocket.close(code=4401)
        return
    while True:
        incoming = await websocket.receive()
        if incoming["type"] == "websocket.disconnect":
            return
        raw = incoming.get("text") or ""  # binary messages are answered as malformed
        try:
            try:  # bounded: deep nesting is a malformed message, not a RecursionError that drops the socket
                message = bounded_json.loads(raw, max_bytes=MAX_FRAME_MESSAGE)
            except bounded_json.JsonTooComplexError as exc:
                raise InvalidInputError(
                    msg("session_monitor.malformed_message", message=exc.message)
                ) from exc
            except ValueError:
                message = None
            if not isinstance(message, dict) or message.get("type") not in ("frame", "ping"):
                raise InvalidInputError(msg("session_monitor.malformed_message_frame_ping_expected"))
            if message["type"] == "ping":
                await websocket.send_json({"type": "pong"})
                continue
            t = message.get("t")
            image = message.get("image")
            if not isinstance(t, int | float) or not 0 <= t <= 24 * 3600 or not isinstance(image, str):
                raise InvalidInputError(msg("session_monitor.frame_needs_t_image"))
            try:
                data = base64.b64decode(image, validate=True)
            except ValueError as exc:
                raise InvalidInputError(msg("session_monitor.image_valid_base64")) from exc
            # a frame's thread mostly waits for its analysis worker: a limiter of its own, so that
            # many sessions' frames do not hold every token of the shared thread pool
            reply = await anyio.to_thread.run_sync(
                monitor.frame, token, data, float(t), limiter=_frame_limiter(websocket)
            )
            await websocket.send_json(reply)
        except DualrecError as exc:
            await websocket.send_json(_error(exc, language))
        except WebSocketDisconnect:
            return
