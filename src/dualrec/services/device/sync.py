"""Store and forward: the agent sends confirmed packages to the central server (docs/agent.md).

Every request is signed with the device's API key (the HMAC scheme of ``core.auth_rules``). The
content goes in chunks at the offset the server holds, so an upload cut anywhere resumes where the
server stopped (at most one chunk is sent twice); a failed try is retried with exponential backoff;
the bytes of the content are paced to a configured rate (bytes per second) for weak branch links.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from dualrec.core.agent_package import PackageManifest
from dualrec.core.auth_rules import sign_request
from dualrec.db.agent_local import LocalUpload
from dualrec.i18n import msg
from dualrec.services.device.agent import DeviceAgent, PackageChangedError, sha256_file

__all__ = [
    "PackageUploader",
    "Throttle",
    "UploadError",
    "backoff_seconds",
    "signed_headers",
    "upload_next",
]

logger = logging.getLogger(__name__)
UPLOADS_PATH = "/api/v1/agent-uploads"


def signed_headers(
    key_id: str, secret: str, method: str, path: str, query: str, body: bytes
) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    return {
        "X-Dualrec-Key": key_id,
        "X-Dualrec-Timestamp": timestamp,
        "X-Dualrec-Nonce": nonce,
        "X-Dualrec-Signature": sign_request(secret, method, path, query, timestamp, nonce, body),
    }


class Throttle:
    """Paces bytes to ``rate`` per second across all requests (0: unlimited); thread-safe."""

    def __init__(self, rate: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0  # when the next byte may go

    def delay(self, n: int) -> float:
        """Seconds to wait before sending ``n`` more bytes (and books them)."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + n / self.rate
            return start - now

    def pace(self, n: int) -> None:
        wait = self.delay(n)
        if wait > 0:
            time.sleep(wait)


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Wait after ``attempts`` failed tries: base × 2^(attempts−1), at most ``cap``."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


class UploadError(Exception):
    """A try failed; it is tried again later. ``rejected``: the server found a file hash wrong."""

    def __init__(self, message: str, *, rejected: bool = False) -> None:
        super().__init__(message)
        self.rejected = rejected


def _read_range(paths: Sequence[Path], manifest: PackageManifest, start: int, size: int) -> bytes:
    """``size`` bytes of the package content from ``start`` (files back to back in manifest order)."""
    out = bytearray()
    for (f, a, b), path in zip(manifest.ranges(), paths, strict=True):
        if b <= start or a >= start + size:
            continue
        lo, hi = max(start, a) - a, min(start + size, b) - a
        with path.open("rb") as fh:
            fh.seek(lo)
            data = fh.read(hi - lo)
        if len(data) != hi - lo:
            raise PackageChangedError(msg("device.shorter_than_manifest", name=f.name))
        out += data
    return bytes(out)


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass
class PackageUploader:
    """Uploads one package to ``client``'s base URL; ``on_progress(acknowledged_offset, upload_id)``."""

    client: httpx.Client
    key_id: str
    secret: str
    throttle: Throttle
    chunk_bytes: int = 256 * 1024
    piece_bytes: int = 16 * 1024
    finalize_poll_seconds: float = 1.0

    def _send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        signed = {**headers, **signed_headers(self.key_id, self.secret, method, path, "", body)}
        pieces: bytes | Iterator[bytes] = body
        if self.throttle.rate > 0:
            pieces = self._paced(body)
            signed["Content-Length"] = str(len(body))
        try:
            return self.client.request(method, path, content=pieces, headers=signed)
        except httpx.HTTPError as exc:
            raise UploadError(f"网络错误 / network error: {type(exc).__name__}: {exc}") from exc

    def _paced(self, body: bytes) -> Iterator[bytes]:
        step = max(1024, min(self.piece_bytes, self.throttle.rate // 10 or 1024))
        for i in range(0, len(body), step):
            piece = body[i : i + step]
            self.throttle.pace(len(piece))
            yield piece

    def _state(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise UploadError(f"服务器忙 / server answered {response.status_code}")
        if response.status_code >= 400:
            problem = _problem(response)
            detail = str(problem.get("detail") or response.text[:300])
            # auth or validation errors wait for the operator (tried again with backoff)
            raise UploadError(f"{response.status_code}: {detail}", rejected="files" in problem)
        body = _problem(response)
        if "status" not in body or "received" not in body:
            raise UploadError(f"unexpected answer from the server: {response.text[:200]}")
        return body

    def open(self, manifest: PackageManifest, task_id: str | None = None) -> dict[str, Any]:
        """Opens (or resumes) the upload; ``task_id``: the server task the recording is for (else
        the server takes the newest task with the runningNo as its business number)."""
        doc: dict[str, Any] = {"manifest": manifest.to_dict()}
        if task_id is not None:
            doc["task_id"] = task_id
        body = json.dumps(doc, ensure_ascii=False).encode()
        r = self._send("POST", UPLOADS_PATH, body, {"Content-Type": "application/json"})
        return self._state(r)

    def upload(
        self,
        manifest: PackageManifest,
        paths: Sequence[Path],
        on_progress: Callable[[int, str], None] | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Sends what the server lacks and returns its final state (``status: complete``)."""
        state = self.open(manifest, task_id)
        while state["status"] == "receiving":
            offset = int(state["received"])
            if on_progress is not None:
                on_progress(offset, state["id"])
            chunk = _read_range(paths, manifest, offset, min(self.chunk_bytes, manifest.size - offset))
            path = f"{UPLOADS_PATH}/{state['id']}/content"
            r = self._send(
                "PUT",
                path,
                chunk,
                {"Content-Type": "application/octet-stream", "Upload-Offset": str(offset)},
            )
            if r.status_code == 409 and "offset" in _problem(r):
                state = {**state, "received": int(_problem(r)["offset"])}  # resume where the server is
                continue
            state = self._state(r)
        while state["status"] == "finalizing":
            time.sleep(self.finalize_poll_seconds)
            state = self.open(manifest, task_id)
        if on_progress is not None:
            on_progress(int(state["received"]), state["id"])
        return state


def _changed(manifest: PackageManifest, paths: Sequence[Path]) -> bool:
    for f, path in zip(manifest.files, paths, strict=True):
        try:
            if sha256_file(path) != (f.size, f.sha256):
                return True
        except OSError:
            return True
    return False


def upload_next(
    agent: DeviceAgent,
    uploader: PackageUploader | None,
    *,
    now: float,
    backoff_base: float,
    backoff_cap: float,
) -> LocalUpload | None:
    """One step of the upload queue: the next due package is sent (or its try is booked as failed
    with the time of the next one). Returns the upload it worked on, None when nothing was due."""
    upload = agent.due_upload(now)
    if upload is None:
        return None
    rn = upload.running_no
    if uploader is None:
        agent.update_upload(
            rn,
            last_error="未配置中心服务器 / no central server configured (DUALREC_AGENT_SERVER_URL)",
            next_try_at=now + backoff_cap,
        )
        return agent.upload(rn)
    try:
        manifest, paths = agent.package(rn)
    except PackageChangedError as exc:
        agent.update_upload(rn, state="failed", last_error=exc.message)
        return agent.upload(rn)
    agent.update_upload(rn, state="uploading")

    def progress(offset: int, upload_id: str) -> None:
        agent.update_upload(rn, sent=offset, server_upload_id=upload_id)

    try:
        final = uploader.upload(manifest, paths, progress)
    except (PackageChangedError, UploadError) as exc:
        if isinstance(exc, PackageChangedError) or (exc.rejected and _changed(manifest, paths)):
            agent.update_upload(rn, state="failed", last_error=f"本地文件已改变 / a file changed: {exc}")
            return agent.upload(rn)
        attempts = upload.attempts + 1
        wait = backoff_seconds(attempts, backoff_base, backoff_cap)
        logger.info("upload of %s failed (try %d), next in %.0f s: %s", rn, attempts, wait, exc)
        agent.update_upload(rn, attempts=attempts, last_error=str(exc)[:1000], next_try_at=time.time() + wait)
        return agent.upload(rn)
    agent.update_upload(
        rn,
        state="uploaded",
        sent=int(final["received"]),
        server_upload_id=final["id"],
        recording_id=final.get("recording_id"),
        task_id=final.get("task_id"),
        attempts=0,
        last_error=None,
        uploaded_at=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
    )
    return agent.upload(rn)
