"""Shared pieces of the local QC agent tests and bench (docs/agent.md): a central server with a
device API key and a task, upload packages made from files, a TCP proxy that counts, throttles and
cuts connections, and the agent as a real process that can be killed with SIGKILL."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dualrec.bootstrap.container import Container, build_container
from dualrec.core.agent_package import PackageFile, PackageManifest
from dualrec.core.identity import ApiKey, Principal
from dualrec.core.rbac import role_permissions
from dualrec.jobs.fakes import MemoryJobStore
from dualrec.jobs.ports import JobRecord
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.common.job_kinds import QC_JOB_KIND
from dualrec.services.flows.demo_content import seed_demo_content
from dualrec.services.identity.apikeys import create_api_key
from dualrec.services.identity.seed import seed_demo
from dualrec.services.tasks.service import TaskRequest
from dualrec.settings import Settings
from tests.conftest import ADMIN_PASSWORD, make_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DUALREC = REPO_ROOT / ".venv" / "bin" / "dualrec"
CARD_ID = "11010519491231002X"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def admin_actor(container: Container) -> Actor:
    with container.uows() as uow:
        hq = uow.branches.by_code("HQ")
    assert hq is not None
    p = Principal("user", 1, "admin", "admin", hq.id, hq.path, role_permissions("admin"))
    return Actor(principal=p, meta=SYSTEM.meta)


class RecordingQueue:
    """A job queue that keeps what was enqueued and runs nothing (the server's QC is tested elsewhere)."""

    def __init__(self) -> None:
        self.store = MemoryJobStore()

    def enqueue(self, kind: str, payload: Mapping[str, Any], *, max_attempts: int | None = None) -> str:
        return self.store.add(kind=kind, payload=payload, max_attempts=max_attempts or 3).id

    def get(self, job_id: str) -> JobRecord:
        job = self.store.get(job_id)
        assert job is not None
        return job

    def start(self) -> None:
        return None

    def stop(self, wait: bool = True) -> None:
        return None


@dataclass
class Central:
    """The central dualrec server of a test: QC jobs are recorded, not run (``queue``)."""

    settings: Settings
    container: Container
    queue: RecordingQueue
    key: ApiKey
    url: str = ""

    def add_task(self, business_no: str) -> str:
        with self.container.uows() as uow:
            bj = uow.branches.by_code("BJ")
        assert bj is not None
        created = self.container.tasks.create(
            actor=admin_actor(self.container),
            request=TaskRequest(
                customer_id="C0001",
                customer_name="王小明",
                id_number=CARD_ID,
                customer_type="personal",
                risk_level="R3",
                business_type="wealth",
                business_no=business_no,
                branch_id=bj.id,
            ),
        )
        return created.task.id

    def qc_jobs(self) -> list[dict[str, Any]]:
        jobs = self.queue.store.list_unfinished(status="queued")
        return [dict(j.payload) for j in jobs if j.kind == QC_JOB_KIND]


@contextmanager
def central_server(data_dir: Path, *, database_url: str = "", serve: bool = False) -> Iterator[Central]:
    """A migrated, seeded server with a device API key in 北京分行; ``serve``: also on a real port."""
    settings = make_settings(data_dir, database_url=database_url)
    container = build_container(settings, migrate=True, with_jobs=False)
    queue = RecordingQueue()
    container.jobs = queue
    try:
        seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        seed_demo_content(container.uows)
        with container.uows() as uow:
            bj = uow.branches.by_code("BJ")
        assert bj is not None
        key = create_api_key(
            container.uows,
            container.secretbox,
            actor=admin_actor(container),
            name="网点双录终端 BJ-01",
            branch_id=bj.id,
            business_types=[],
        )
        central = Central(settings, container, queue, key)
        if not serve:
            yield central
            return
        with _uvicorn(settings, container) as url:
            central.url = url
            yield central
    finally:
        container.close()


@contextmanager
def _uvicorn(settings: Settings, container: Container) -> Iterator[str]:
    import uvicorn

    from dualrec.api.app import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(settings, container=container), host="127.0.0.1", port=port, log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def make_package(
    folder: Path, running_no: str, recording: bytes, *, verdict: str = "PASS"
) -> tuple[PackageManifest, list[Path]]:
    """A package of a recording, both reports and one evidence frame, written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    report = {"schema": "dualrec.qc.report/1", "running_no": running_no, "verdict": verdict}
    check_data = {"runningNo": running_no, "video_info": {"name": "recording.mp4"}, "check_list": []}
    contents = [
        ("recording.mp4", "recording", recording),
        ("report.json", "report", json.dumps(report).encode()),
        ("check_data.json", "check_data", json.dumps(check_data, ensure_ascii=False).encode()),
        ("evidence/portrait.jpg", "evidence", b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9"),
    ]
    files, paths = [], []
    for name, role, data in contents:
        path = folder / name.replace("/", "_")
        path.write_bytes(data)
        paths.append(path)
        files.append(PackageFile(name, role, len(data), hashlib.sha256(data).hexdigest()))
    manifest = PackageManifest(
        running_no=running_no,
        business_type="wealth",
        operator="E1024",
        device="BJ-01",
        created_at="2026-11-23T10:00:00+00:00",
        verdict=verdict,
        risk_score=0,
        files=tuple(files),
    )
    return manifest, paths


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; counts the bytes sent upstream, can pace them
    (bytes/s), cut every connection after N upstream bytes, or refuse connections (``down``)."""

    def __init__(self, target_port: int, *, rate: int = 0) -> None:
        self.target_port = target_port
        self.rate = rate
        self.upstream_bytes = 0
        self.cut_after: int | None = None  # cut once this many upstream bytes went through
        self.down = False
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop = True
        self._listener.close()
        self.drop_all()

    def drop_all(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            with suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        started, sent = time.monotonic(), 0
        try:
            while True:
                data = src.recv(16384 if not (up and self.rate) else max(512, self.rate // 20))
                if not data:
                    break
                if up:
                    with self._lock:
                        self.upstream_bytes += len(data)
                        cut = self.cut_after is not None and self.upstream_bytes >= self.cut_after
                        if cut:
                            self.cut_after = None
                    if cut:
                        self.drop_all()
                        return
                    if self.rate:
                        sent += len(data)
                        ahead = sent / self.rate - (time.monotonic() - started)
                        if ahead > 0:
                            time.sleep(ahead)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@dataclass
class AgentProcess:
    """``dualrec agent`` as a real process (SIGKILL-able) with its own settings in ``env``."""

    env: dict[str, str]
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(DUALREC), "agent", "--port", str(self.port)],
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"agent exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{self.http}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"agent not ready:\n{self.log.read_text()[-3000:]}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        """One message over HTTP polling (POST /)."""
        answer: dict[str, Any] = httpx.post(self.http + "/", json=message, timeout=10.0).json()
        return answer

    def wait_for(self, message: dict[str, Any], done: Any, timeout: float = 120.0) -> dict[str, Any]:
        """Polls ``message`` over HTTP until ``done(answer)``."""
        deadline = time.monotonic() + timeout
        answer: dict[str, Any] = {}
        while time.monotonic() < deadline:
            answer = self.call(message)
            if done(answer):
                return answer
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting; last answer: {answer}\n{self.log.read_text()[-3000:]}")


def media_cache() -> Path:
    """The QC tests' media and model cache (the Whisper model is assembled there once)."""
    import tempfile

    from tests import media_factory as mf

    digest = hashlib.sha256(Path(mf.__file__).read_bytes()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"dualrec-qc-media-{os.getuid()}-{digest}"


def short_recording(folder: Path, name: str = "clip.mp4", seconds: float = 3.0) -> Path:
    """The first seconds of the QC tests' clean recording (a person on camera, real speech)."""
    import shutil

    from tests import media_factory as mf

    why = mf.available()
    if why is not None:
        import pytest

        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    source = mf.MediaFactory(media_cache()).recording()
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    cached = media_cache() / f"agent_{seconds:g}s.mp4"
    if not cached.exists():
        part = cached.with_name(f".part-{os.getpid()}-{cached.name}")  # parallel test workers
        trim = ["-i", str(source), "-t", str(seconds), "-c", "copy", str(part)]
        subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *trim], check=True, timeout=120)
        part.replace(cached)
    shutil.copyfile(cached, out)
    return out


def agent_env(agent_dir: Path, recordings: Path, **extra: str) -> dict[str, str]:
    """Settings of an agent process that uses the real engines with the cached models."""
    return {
        "DUALREC_ENV": "test",
        "DUALREC_DATA_DIR": str(media_cache() / "data"),
        "DUALREC_AGENT_DIR": str(agent_dir),
        "DUALREC_AGENT_RECORDING_DIRS": str(recordings),
        "DUALREC_CPU_THREADS": "2",
        "DUALREC_LOG_JSON": "false",
        **extra,
    }
