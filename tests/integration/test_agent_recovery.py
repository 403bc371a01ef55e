"""Store and forward under failures, with real processes: the agent is killed with SIGKILL during a
QC and during an upload, the central server is unreachable for a while and the link drops in the
middle of a chunk; everything still completes exactly once (one report, one upload, one recording,
one server QC job) and only a small, measured number of bytes is sent twice."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest

from dualrec.db.agent_local import AgentStore
from tests.agent_support import AgentProcess, TcpProxy, agent_env, central_server, free_port, short_recording

pytestmark = pytest.mark.slow  # about 15 s: the agent process is killed and restarted


RUNNING_NO = "BJ-2026-0007"
RATE = 200_000  # bytes/s: the upload is slow enough to be killed in the middle
CHUNK = 64 * 1024


def _upload(answer: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = answer.get("info", {}).get("upload", {})
    return info


def test_kills_an_unreachable_server_and_a_dropped_link_still_give_exactly_one_upload(tmp_path: Path) -> None:
    clip = short_recording(tmp_path / "recordings", "a.mp4", seconds=1.0)
    with central_server(tmp_path / "server", serve=True) as central:
        task_id = central.add_task(RUNNING_NO)
        proxy = TcpProxy(int(central.url.rsplit(":", 1)[1]))
        proxy.down = True  # the branch is offline at first
        env = agent_env(
            tmp_path / "agent",
            tmp_path / "recordings",
            DUALREC_AGENT_SERVER_URL=proxy.url,
            DUALREC_AGENT_API_KEY=central.key.key_id,
            DUALREC_AGENT_API_SECRET=central.key.secret,
            DUALREC_AGENT_UPLOAD_BYTES_PER_SECOND=str(RATE),
            DUALREC_AGENT_UPLOAD_CHUNK_BYTES=str(CHUNK),
            DUALREC_AGENT_RETRY_SECONDS="0.2",
            DUALREC_AGENT_RETRY_CAP_SECONDS="1",
        )
        agent = AgentProcess(env, free_port(), tmp_path / "agent.log")
        agent.start()
        try:
            _scenario(agent, central, proxy, clip, task_id)
        finally:
            agent.stop()
            proxy.close()


def _scenario(agent: AgentProcess, central: Any, proxy: TcpProxy, clip: Path, task_id: str) -> None:
    report_q = {"interfaceID": "100003", "runningNo": RUNNING_NO}
    state_q = {"interfaceID": "100004", "runningNo": RUNNING_NO}

    # 1. killed in the middle of the QC: after a restart it runs again from scratch, once
    start = agent.call({"interfaceID": "100001", "runningNo": RUNNING_NO, "filePath": str(clip)})
    assert start["result"] == "success"
    agent.wait_for(report_q, lambda a: a.get("state") == "running" and a.get("progress", 0) > 0)
    agent.kill9()
    store = AgentStore(Path(agent.env["DUALREC_AGENT_DIR"]) / "agent.sqlite3")
    with store.unit() as unit:
        killed = unit.task(RUNNING_NO)
    assert killed is not None and killed.state == "running" and killed.report is None
    agent.start()
    report = agent.wait_for(report_q, lambda a: a["result"] == "success", timeout=240)
    assert report["info"]["check_data"]["runningNo"] == RUNNING_NO
    with store.unit() as unit:
        done = unit.task(RUNNING_NO)
    assert done is not None and done.state == "done" and done.attempt == 2  # run again, stored once
    again = agent.call({"interfaceID": "100001", "runningNo": RUNNING_NO, "filePath": str(clip)})
    assert again["result"] == "fail" and again["state"] == "done"

    # 2. confirmed while the server is unreachable: queued, tried again and again with backoff
    assert (
        agent.call({"interfaceID": "100002", "runningNo": RUNNING_NO, "operator": "E1024"})["result"]
        == "success"
    )
    offline = _upload(agent.wait_for(state_q, lambda a: _upload(a)["attempts"] >= 3, timeout=30))
    assert offline["state"] == "uploading" and "network error" in offline["last_error"]
    size = offline["size"]
    assert size > clip.stat().st_size and proxy.upstream_bytes == 0

    # 3. reachable again: paced to RATE; killed in the middle of the upload
    proxy.down = False
    began = time.monotonic()
    part = _upload(agent.wait_for(state_q, lambda a: _upload(a)["sent"] >= size // 3, timeout=60))
    assert time.monotonic() - began >= 0.8 * part["sent"] / RATE  # the bandwidth limit holds
    agent.kill9()
    with central.container.uows() as uow:
        server_side = uow.agent_uploads.search(
            scope_path="/", running_no=RUNNING_NO, status=None, offset=0, limit=9
        )
    assert server_side[1] == 1 and 0 < server_side[0][0].received < size

    # 4. restarted; then the link drops in the middle of a chunk: both times it resumes
    agent.start()
    proxy.cut_after = proxy.upstream_bytes + CHUNK + CHUNK // 2
    final = _upload(agent.wait_for(state_q, lambda a: _upload(a)["state"] == "uploaded", timeout=120))
    assert final["sent"] == size and final["task_id"] == task_id and proxy.cut_after is None

    # exactly once on the server: one upload, one recording, one QC job, attached to the task
    with central.container.uows() as uow:
        uploads, n_uploads = uow.agent_uploads.search(
            scope_path="/", running_no=RUNNING_NO, status=None, offset=0, limit=9
        )
        recordings, n_recordings = uow.recordings.search(
            scope_path="/", running_no=RUNNING_NO, status=None, verdict=None, offset=0, limit=9
        )
        task = uow.tasks.get(task_id)
    assert n_uploads == 1 and uploads[0].status == "complete" and uploads[0].received == size
    assert n_recordings == 1 and recordings[0].id == final["recording_id"]
    assert recordings[0].sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert central.qc_jobs() == [{"recording_id": recordings[0].id}]
    assert task is not None and task.current_attempt is not None
    assert task.current_attempt.recording_id == recordings[0].id

    # bytes sent twice: the chunk cut by the kill and the one cut by the link (plus HTTP headers)
    resent = proxy.upstream_bytes - size
    print(f"\npackage {size} B, sent upstream {proxy.upstream_bytes} B, sent twice or overhead {resent} B")
    assert resent < 2 * CHUNK + 32 * 1024
