"""dualrec's own calls to Janus (server side, with the API secret): info, and VideoRoom requests.

Browsers never see the API secret; they talk to Janus through the app's proxy with a signed token
(``tokens.py``). Plain synchronous HTTP (httpx, one pooled keep-alive client per ``JanusApi``).

Two ways to send VideoRoom requests: ``videoroom()`` opens a Janus session of its own, attaches the
plugin and destroys the session at the end (for a short-lived ``JanusApi``); ``shared_videoroom()``
keeps one session and handle for the life of the ``JanusApi`` (the server's ``NodePool`` keeps one
per node), so a call's room requests cost one request each instead of four more to make and drop a
session. Janus reclaims a session idle for its ``session_timeout`` (60 s in dualrec's
configuration) and forgets them all when it restarts: the shared one is made again after
``SHARED_IDLE_S`` without use, and once when Janus says it no longer knows it.
"""

from __future__ import annotations

import functools
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import httpx

from dualrec.errors import DualrecError, EngineUnavailableError
from dualrec.i18n import msg

__all__ = [
    "JanusApi",
    "JanusError",
    "JanusUnavailableError",
    "SharedVideoRoom",
    "VideoRoomHandle",
    "tls_context",
]

VIDEOROOM = "janus.plugin.videoroom"
SESSION_GONE = (458, 459)  # Janus: no such session / no such handle (reclaimed, or Janus restarted)
SHARED_IDLE_S = 40.0  # under Janus' session_timeout (60 s): an idle shared session is made again


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The one verifying TLS context of every request to Janus (httpx's defaults). Without it each
    httpx client builds its own and loads the CA bundle into it: 20-180 ms of CPU per request on a
    small, busy node, in the event loop for the proxied browser requests - most of a call's set-up."""
    return httpx.create_ssl_context()


class JanusUnavailableError(EngineUnavailableError):
    """Janus does not answer (not started, crashed, wrong address): HTTP 503."""

    code = "media_server_unavailable"


class JanusError(EngineUnavailableError):
    """Janus or its VideoRoom plugin refused one of dualrec's own requests: HTTP 503."""

    code = "media_server_error"

    def __init__(self, message: str, *, janus_code: int = 0) -> None:
        super().__init__(message, details={"janus_code": janus_code})
        self.janus_code = janus_code


class JanusApi:
    def __init__(
        self, url: str, api_secret: str, *, timeout: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.url = url.rstrip("/")
        self._secret = api_secret
        self._client = httpx.Client(timeout=timeout, verify=tls_context())
        self._clock = clock
        self._lock = threading.Lock()
        self._shared: tuple[str, float] | None = None  # (/session/handle, last used)

    def __enter__(self) -> JanusApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drops the shared session (if any) and the connections."""
        with self._lock:
            shared, self._shared = self._shared, None
        if shared is not None:
            self._drop_session(shared[0])
        self._client.close()

    def _drop_session(self, path: str) -> None:
        """Ends the Janus session of ``path`` (``/session`` or ``/session/handle``); when that fails
        Janus reclaims it after its session timeout."""
        with suppress(DualrecError):
            self._post("/" + path.strip("/").split("/")[0], {"janus": "destroy"})

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(8), "apisecret": self._secret}
        try:
            resp = self._client.post(f"{self.url}{path}", json=body)
        except httpx.HTTPError as exc:
            raise JanusUnavailableError(
                msg("rtc.media_server_does_answer_2", url=self.url, name__=type(exc).__name__)
            ) from exc
        try:
            data: dict[str, Any] = resp.json()
        except ValueError as exc:
            raise JanusUnavailableError(
                f"the media server answered HTTP {resp.status_code} without JSON"
            ) from exc
        if data.get("janus") == "error":
            err = data.get("error") or {}
            raise JanusError(f"Janus: {err.get('reason', 'error')}", janus_code=int(err.get("code") or 0))
        return data

    def info(self) -> dict[str, Any]:
        """``server_info``: version, plugins, transports (raises when Janus does not answer)."""
        try:
            resp = self._client.get(f"{self.url}/info")
            data: dict[str, Any] = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise JanusUnavailableError(f"the media server does not answer at {self.url}") from exc
        return data

    def _open_handle(self) -> tuple[int, int]:
        session = self._post("", {"janus": "create"})["data"]["id"]
        try:
            handle = self._post(f"/{session}", {"janus": "attach", "plugin": VIDEOROOM})["data"]["id"]
        except DualrecError:
            self._drop_session(f"/{session}")
            raise
        return int(session), int(handle)

    @contextmanager
    def videoroom(self) -> Iterator[VideoRoomHandle]:
        """A VideoRoom handle on a Janus session of its own, destroyed at the end."""
        session, handle = self._open_handle()
        try:
            yield VideoRoomHandle(self, f"/{session}/{handle}")
        finally:
            self._drop_session(f"/{session}")

    def shared_videoroom(self) -> SharedVideoRoom:
        """VideoRoom requests on this API's long-lived session and handle (see the module's doc)."""
        return SharedVideoRoom(self)

    def _shared_path(self, *, renew: str | None = None) -> str:
        """The shared handle's path; a new one when there is none, it idled too long, or it is
        ``renew`` (Janus said it no longer knows it: made again once, by one thread)."""
        with self._lock:
            now = self._clock()
            shared = self._shared
            if shared is not None and shared[0] != renew and now - shared[1] < SHARED_IDLE_S:
                self._shared = (shared[0], now)
                return shared[0]
            session, handle = self._open_handle()
            path = f"/{session}/{handle}"
            self._shared = (path, now)
        if shared is not None and shared[0] != renew:  # idle: Janus may still hold it, let it go
            self._drop_session(shared[0])
        return path


class VideoRoomHandle:
    """Synchronous VideoRoom requests (create, exists, destroy, listparticipants…) on one handle."""

    def __init__(self, api: JanusApi, path: str) -> None:
        self._api = api
        self._path = path

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._message(self._path, body)

    def _message(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._api._post(path, {"janus": "message", "body": body})
        data: dict[str, Any] = ((answer.get("plugindata") or {}).get("data")) or {}
        if data.get("videoroom") == "event" and "error_code" in data:
            raise JanusError(f"VideoRoom: {data.get('error', 'error')}", janus_code=int(data["error_code"]))
        return data


class SharedVideoRoom(VideoRoomHandle):
    """VideoRoom requests on a ``JanusApi``'s shared handle, made again when Janus lost it."""

    def __init__(self, api: JanusApi) -> None:
        super().__init__(api, "")

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        path = self._api._shared_path()
        try:
            return self._message(path, body)
        except JanusError as exc:
            if exc.janus_code not in SESSION_GONE:
                raise
        return self._message(self._api._shared_path(renew=path), body)
