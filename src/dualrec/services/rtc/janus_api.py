"""dualrec's own calls to Janus (server side, with the API secret): info, and VideoRoom requests.

Browsers never see the API secret; they talk to Janus through the app's proxy with a signed token
(``tokens.py``). Plain synchronous HTTP (httpx): each use case opens a Janus session, attaches the
VideoRoom plugin, sends its request(s) and destroys the session.
"""

from __future__ import annotations

import functools
import secrets
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import httpx

from dualrec.errors import DualrecError, EngineUnavailableError
from dualrec.i18n import msg

__all__ = ["JanusApi", "JanusError", "JanusUnavailableError", "VideoRoomHandle", "tls_context"]

VIDEOROOM = "janus.plugin.videoroom"


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
    def __init__(self, url: str, api_secret: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._secret = api_secret
        self._timeout = timeout

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(8), "apisecret": self._secret}
        try:
            resp = httpx.post(f"{self.url}{path}", json=body, timeout=self._timeout, verify=tls_context())
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
            resp = httpx.get(f"{self.url}/info", timeout=self._timeout, verify=tls_context())
            data: dict[str, Any] = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise JanusUnavailableError(f"the media server does not answer at {self.url}") from exc
        return data

    @contextmanager
    def videoroom(self) -> Iterator[VideoRoomHandle]:
        session = self._post("", {"janus": "create"})["data"]["id"]
        try:
            handle = self._post(f"/{session}", {"janus": "attach", "plugin": VIDEOROOM})["data"]["id"]
            yield VideoRoomHandle(self, f"/{session}/{handle}")
        finally:
            with suppress(DualrecError):
                self._post(f"/{session}", {"janus": "destroy"})


class VideoRoomHandle:
    """Synchronous VideoRoom requests (create, exists, destroy, listparticipants…) on one handle."""

    def __init__(self, api: JanusApi, path: str) -> None:
        self._api = api
        self._path = path

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._api._post(self._path, {"janus": "message", "body": body})
        data: dict[str, Any] = ((answer.get("plugindata") or {}).get("data")) or {}
        if data.get("videoroom") == "event" and "error_code" in data:
            raise JanusError(f"VideoRoom: {data.get('error', 'error')}", janus_code=int(data["error_code"]))
        return data
