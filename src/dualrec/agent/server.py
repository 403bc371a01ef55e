"""The agent's WebSocket + HTTP endpoint on 127.0.0.1 (a small Starlette app served by uvicorn).

* ``ws://127.0.0.1:1234/`` — one JSON message per text frame, one answer per message, and the
  100005 push when a QC started on that connection finishes.
* ``POST /`` with the same JSON message (polling clients); ``GET /?interfaceID=100003&runningNo=…``
  for the read-only messages 100003 and 100004. Protocol answers are always HTTP 200 with
  ``result: fail`` when something is wrong; HTTP 403 only for a refused Origin or Host.
* ``GET /evidence/<runningNo>/<file>.jpg`` — an evidence frame of a finished report.

Browsers: a page may connect only from a configured Origin (a request without Origin is a native
client and is allowed); the Host header must name the loopback address (no DNS rebinding).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from dualrec import __version__
from dualrec.agent.protocol import (
    READ_ONLY,
    START_QC,
    MessageHandler,
    ProtocolError,
    evidence_file,
    fail,
    parse_message,
)

__all__ = ["PushHub", "create_agent_app"]

logger = logging.getLogger(__name__)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class PushHub:
    """Which WebSocket connections wait for which runningNo; ``push`` may be called from any thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: dict[str, set[_Connection]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, conn: _Connection, running_no: str) -> None:
        self._waiting.setdefault(running_no, set()).add(conn)

    def forget(self, conn: _Connection) -> None:
        for conns in self._waiting.values():
            conns.discard(conn)

    def push(self, running_no: str, message: dict[str, Any]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._send(running_no, message), loop)

    async def _send(self, running_no: str, message: dict[str, Any]) -> None:
        for conn in list(self._waiting.pop(running_no, ())):
            await conn.send(message)


class _Connection:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self._lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._lock:
            try:
                await self.ws.send_json(message)
            except (RuntimeError, WebSocketDisconnect, OSError):
                logger.debug("push to a closed WebSocket dropped")


def create_agent_app(
    handler: MessageHandler,
    hub: PushHub,
    *,
    port: int,
    allowed_origins: tuple[str, ...],
    on_startup: Callable[[], None] = lambda: None,
    on_shutdown: Callable[[], None] = lambda: None,
) -> Starlette:
    origins = frozenset(o.rstrip("/") for o in allowed_origins)
    hosts = frozenset(f"{h}:{port}" for h in LOOPBACK_HOSTS) | frozenset(LOOPBACK_HOSTS)

    def refused(headers: Any) -> str | None:
        if headers.get("host", "") not in hosts:
            return "Host 须为本机回环地址 / the Host header must name 127.0.0.1"
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/") not in origins:
            return f"来源 {origin} 未被允许 / origin {origin} is not allowed (DUALREC_AGENT_ALLOWED_ORIGINS)"
        return None

    def cors(request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if origin is None:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    async def websocket(ws: WebSocket) -> None:
        reason = refused(ws.headers)
        if reason is not None:
            logger.warning("WebSocket refused: %s", reason)
            await ws.close(code=1008)  # before accept: the handshake is answered with HTTP 403
            return
        await ws.accept()
        conn = _Connection(ws)
        try:
            while True:
                frame = await ws.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                raw = frame.get("text")
                if raw is None:
                    raw = frame.get("bytes") or b""
                answer = await run_in_threadpool(handler.handle_raw, raw)
                if answer.get("interfaceID") == START_QC and answer.get("state") in ("queued", "running"):
                    hub.subscribe(conn, str(answer["runningNo"]))
                await conn.send(answer)
        except WebSocketDisconnect:
            pass
        finally:
            hub.forget(conn)

    async def http(request: Request) -> Response:
        reason = refused(request.headers)
        if reason is not None:
            return JSONResponse(fail("", reason), status_code=403)
        headers = cors(request)
        if request.method == "OPTIONS":  # CORS preflight of an allowed page (incl. private network access)
            return Response(
                status_code=204,
                headers={
                    **headers,
                    "Access-Control-Allow-Methods": "GET, POST",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Allow-Private-Network": "true",
                    "Access-Control-Max-Age": "600",
                },
            )
        if request.method == "GET":
            message = dict(request.query_params)
            if not message:
                return JSONResponse(
                    {
                        "service": "dualrec-agent",
                        "version": __version__,
                        "interfaces": sorted(handler.routes),
                    },
                    headers=headers,
                )
            if message.get("interfaceID") not in READ_ONLY:
                answer = fail(
                    str(message.get("interfaceID", "")),
                    "GET 只用于 100003、100004，其他请用 POST / GET serves 100003, 100004 only: POST others",
                )
            else:
                answer = await run_in_threadpool(handler.handle, message)
            return JSONResponse(answer, headers=headers)
        body = b""
        async for piece in request.stream():
            body += piece
            if len(body) > handler.max_message_bytes:
                break
        try:
            message = parse_message(body, handler.max_message_bytes)
        except ProtocolError as exc:
            return JSONResponse(fail(exc.interface_id, exc.message), headers=headers)
        answer = await run_in_threadpool(handler.handle, message)
        return JSONResponse(answer, headers=headers)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def evidence(request: Request) -> Response:
        reason = refused(request.headers)
        if reason is not None:
            return JSONResponse(fail("", reason), status_code=403)
        path = evidence_file(handler.agent, request.path_params["running_no"], request.path_params["name"])
        if path is None:
            return JSONResponse(fail("", "没有该证据帧 / no such evidence frame"), status_code=404)
        return FileResponse(path, media_type="image/jpeg", headers=cors(request))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        on_startup()
        try:
            yield
        finally:
            on_shutdown()

    return Starlette(
        routes=[
            WebSocketRoute("/", websocket),
            Route("/", http, methods=["GET", "POST", "OPTIONS"]),
            Route("/health", health),
            Route("/evidence/{running_no}/{name}", evidence),
        ],
        lifespan=lifespan,
    )
