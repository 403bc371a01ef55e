"""``dualrec agent``: builds the local QC agent from Settings and serves it on the loopback address."""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dualrec.agent.protocol import MessageHandler, finished_push
from dualrec.agent.server import PushHub, create_agent_app
from dualrec.agent.workers import QcWorker, UploadWorker
from dualrec.bootstrap.container import LazyEngines
from dualrec.errors import ConfigurationError
from dualrec.i18n import msg
from dualrec.services.device.agent import AgentStore, DeviceAgent, DeviceConfig, LocalTask
from dualrec.services.device.sync import PackageUploader, Throttle
from dualrec.settings import Settings

__all__ = ["AgentRuntime", "build_agent", "is_loopback", "serve_agent"]

logger = logging.getLogger(__name__)
WS_MAX_FRAME = 16 * 1024 * 1024  # frames up to this get a "too large" answer; beyond, 1009 closes


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def agent_dir(settings: Settings) -> Path:
    return settings.agent_dir or settings.data_dir / "agent"


class _SingleInstance:
    """An exclusive lock on ``<agent dir>/agent.lock`` (released by the OS when the process dies)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = path.open("a+")
        try:
            if sys.platform == "win32":  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(self._fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._fh.close()
            raise ConfigurationError(msg("agent.another_agent_running", parent=path.parent)) from exc

    def release(self) -> None:
        self._fh.close()


@dataclass
class AgentRuntime:
    agent: DeviceAgent
    handler: MessageHandler
    hub: PushHub
    qc: QcWorker
    uploads: UploadWorker
    lock: _SingleInstance

    def start(self) -> None:
        requeued = self.agent.recover()
        if requeued:
            logger.warning("%d QC task(s) interrupted by a stop were queued again", requeued)
        self.qc.start()
        self.uploads.start()

    def stop(self) -> None:
        self.uploads.stop()
        self.qc.stop(timeout=2.0)  # a QC in flight is abandoned; it runs again after a restart

    def close(self) -> None:
        self.lock.release()


def _uploader(settings: Settings) -> PackageUploader | None:
    secret = settings.agent_api_secret.get_secret_value() if settings.agent_api_secret else ""
    if not (settings.agent_server_url and settings.agent_api_key and secret):
        logger.warning("no central server configured: confirmed packages stay queued on this device")
        return None
    import httpx

    client = httpx.Client(
        base_url=settings.agent_server_url.rstrip("/"),
        timeout=httpx.Timeout(30.0, read=600.0),  # the last chunk waits for the server's verification
        follow_redirects=False,
    )
    return PackageUploader(
        client,
        settings.agent_api_key,
        secret,
        Throttle(settings.agent_upload_bytes_per_second),
        chunk_bytes=settings.agent_upload_chunk_bytes,
    )


def build_agent(settings: Settings) -> AgentRuntime:
    folder = agent_dir(settings)
    lock = _SingleInstance(folder / "agent.lock")
    try:
        agent = DeviceAgent(
            AgentStore(folder / "agent.sqlite3"),
            DeviceConfig(
                recording_dirs=tuple(settings.agent_recording_dirs),
                work_dir=folder,
                device_name=settings.agent_device_name or socket.gethostname()[:100],
            ),
            LazyEngines(settings),
        )
        hub = PushHub()
        uploads = UploadWorker(
            agent,
            _uploader(settings),
            backoff_base=settings.agent_retry_seconds,
            backoff_cap=settings.agent_retry_cap_seconds,
        )

        def finished(task: LocalTask) -> None:
            hub.push(task.running_no, finished_push(agent, task))

        qc = QcWorker(agent, finished)
        handler = MessageHandler(
            agent,
            max_message_bytes=settings.agent_max_message_bytes,
            wake_qc=qc.wake,
            wake_upload=uploads.wake,
        )
    except Exception:
        lock.release()
        raise
    return AgentRuntime(agent, handler, hub, qc, uploads, lock)


def serve_agent(settings: Settings, *, host: str, port: int, **uvicorn_options: Any) -> None:
    """Runs the agent until interrupted. Refuses any address that is not a loopback address."""
    import uvicorn

    if not is_loopback(host):
        raise ConfigurationError(msg("agent.agent_listens_loopback_only", host=host))
    runtime = build_agent(settings)
    app = create_agent_app(
        runtime.handler,
        runtime.hub,
        port=port,
        allowed_origins=tuple(settings.agent_allowed_origins),
        on_startup=runtime.start,
        on_shutdown=runtime.stop,
    )
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_config=None,
            ws_max_size=WS_MAX_FRAME,
            proxy_headers=False,
            **uvicorn_options,
        )
    finally:
        runtime.close()
