"""The customer's self-service session through the API: consent, the flow judged on the server,
acknowledged chunks (duplicates, conflicts, bad hashes, future segments), reconnection as a new
segment, the 15-minute window, hand-over, and finishing into a recording with markers."""

from __future__ import annotations

import hashlib
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.bootstrap.engines import build_qc_engines
from tests.integration.test_flows_tasks_api import CUSTOMER, Signed, _publish_flow, admin, system

__all__ = ["admin", "system"]  # fixtures used by the tests below

FLOW: dict[str, Any] = {
    "mode": "self_service",
    "nodes": [
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险告知",
            "script": "本产品不保本，投资有风险。",
        },
        {
            "id": "q1",
            "type": "qa",
            "title": "自愿确认",
            "script": "您是否本人自愿购买本产品？",
            "expected_answers": ["是", "否"],
            "branches": {"否": "@handover"},
            "retries": 1,
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}
TASK = {**CUSTOMER, "documents": [], "callback_url": "http://127.0.0.1:9/hook"}


def _webm(path: Path, seconds: int, freq: int) -> bytes:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=15",
            "-f",
            "lavfi",
            "-i",
            f"sine=f={freq}",
            "-t",
            str(seconds),
            "-c:v",
            "libvpx",
            "-b:v",
            "200k",
            "-c:a",
            "libopus",
            str(path),
        ],
        check=True,
        timeout=120,
    )
    return path.read_bytes()


def _pieces(data: bytes, n: int) -> list[bytes]:
    step = -(-len(data) // n)
    return [data[i : i + step] for i in range(0, len(data), step)]


def _put(client: TestClient, token: str, segment: int, seq: int, data: bytes, sha: str | None = None) -> Any:
    digest = sha or hashlib.sha256(data).hexdigest()
    return client.put(
        f"/api/v1/session/{token}/chunks/{segment}/{seq}", content=data, headers={"X-Chunk-SHA256": digest}
    )


@pytest.fixture
def light(container: Container) -> Container:
    """QC without the AI engines (this file tests the session, not the models)."""
    engines = build_qc_engines(data_dir=container.settings.data_dir, asr=False, faces=False, ocr=False)
    container.engines = lambda: engines
    return container


def _task(admin: TestClient, system: Signed, flow: dict[str, Any] = FLOW) -> tuple[str, str]:
    _publish_flow(admin, flow=flow)
    r = system.call("POST", "/api/v1/tasks", TASK)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]


def _started(app_client: TestClient, token: str) -> TestClient:
    """The customer's client (no console cookie) with the session opened and consent given."""
    client = TestClient(app_client.app)
    client.get(f"/api/v1/session/{token}")
    assert client.post(f"/api/v1/session/{token}/consent", json={"agree": True}).status_code == 200
    return client


@pytest.mark.slow
def test_a_session_runs_the_flow_and_becomes_a_recording(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container, tmp_path: Path
) -> None:
    task_id, token = _task(admin, system)
    client = TestClient(app_client.app)  # the customer: no console cookie
    s = client.get(f"/api/v1/session/{token}").json()
    assert s["status"] == "consent" and s["customer"]["customer_name"] == "张*"
    assert s["customer"]["id_number"].startswith("110105") and "*" in s["customer"]["id_number"]
    # nothing is accepted before consent
    assert _put(client, token, 0, 0, b"x").status_code == 409
    s = client.post(f"/api/v1/session/{token}/consent", json={"agree": True, "t": 0.2}).json()
    assert s["status"] == "running" and s["node"]["id"] == "risk" and s["segment"] == 0
    assert system.call("GET", f"/api/v1/tasks/{task_id}").json()["status"] == "in_progress"

    first = _pieces(_webm(tmp_path / "a.webm", 3, 440), 3)
    for i, piece in enumerate(first[:2]):
        ack = _put(client, token, 0, i, piece)
        assert ack.status_code == 200 and not ack.json()["duplicate"], ack.text
    # a resend of the same piece is acknowledged again; different bytes under that number are refused
    assert _put(client, token, 0, 1, first[1]).json()["duplicate"] is True
    assert _put(client, token, 0, 1, b"other bytes").status_code == 409
    # a corrupted upload (hash mismatch) and a segment that does not exist yet are refused
    bad = _put(client, token, 0, 2, first[2], sha="0" * 64)
    assert bad.status_code == 422 and bad.json()["message_key"] == "sessions.chunk_s_sha_256_does"
    assert bad.json()["detail"] == "分片校验值不符，请重传"
    assert _put(client, token, 3, 0, first[0]).status_code == 409
    # the page cannot claim an answer on a non-answer node, nor act on another node
    r = client.post(f"/api/v1/session/{token}/nodes/risk/outcome", json={"kind": "answer", "text": "是"})
    assert r.status_code == 422
    r = client.post(f"/api/v1/session/{token}/nodes/q1/outcome", json={"kind": "answer", "text": "是"})
    assert r.status_code == 409 and r.json()["current"] == "risk"
    client.post(
        f"/api/v1/session/{token}/prompts", json={"node_id": "risk", "text": "本产品不保本", "t": 0.5}
    )
    s = client.post(f"/api/v1/session/{token}/nodes/risk/outcome", json={"kind": "passed", "t": 1.5}).json()
    assert s["node"]["id"] == "q1"

    # the tab is closed and opened again: same node, a new segment of the same recording
    s = client.post(f"/api/v1/session/{token}/connect").json()
    assert s["resumed"] and s["segment"] == 1 and s["node"]["id"] == "q1" and s["received"] == {"0": [0, 1]}
    second = _pieces(_webm(tmp_path / "b.webm", 2, 660), 2)
    for i, piece in enumerate(second):
        assert _put(client, token, 1, i, piece).status_code == 200
    # a tap is one of the question's choices (all of them are offered), nothing else
    assert sorted(s["node"]["choices"]) == ["否", "是"]
    s = client.post(
        f"/api/v1/session/{token}/nodes/q1/outcome", json={"kind": "answer", "text": "什么意思", "t": 0.4}
    )
    assert s.status_code == 422 and sorted(s.json()["choices"]) == ["否", "是"]
    # no answer in time is asked again, then 是 goes on to the end node
    s = client.post(f"/api/v1/session/{token}/nodes/q1/outcome", json={"kind": "no_answer", "t": 0.4})
    assert s.json()["node"]["id"] == "q1" and s.json()["ask"] == 2
    s = client.post(
        f"/api/v1/session/{token}/nodes/q1/outcome", json={"kind": "answer", "text": "是", "t": 1.0}
    )
    assert s.json()["node"]["id"] == "end"
    s = client.post(f"/api/v1/session/{token}/nodes/end/outcome", json={"kind": "passed", "t": 1.8}).json()
    assert s["status"] == "completed" and s["node"] is None

    # finishing lists the piece that never arrived; after it is sent the recording is built
    r = client.post(f"/api/v1/session/{token}/finish", json={"final_seqs": {"0": 2, "1": 1}, "t": 1.9})
    assert r.status_code == 200 and r.json()["missing"] == {"0": [2]}
    assert _put(client, token, 0, 2, first[2]).status_code == 200
    r = client.post(f"/api/v1/session/{token}/finish", json={"final_seqs": {"0": 2, "1": 1}, "t": 1.9})
    assert r.json()["missing"] == {}
    deadline = time.monotonic() + 120
    rec_id = None
    while time.monotonic() < deadline and rec_id is None:
        rec_id = client.get(f"/api/v1/session/{token}").json()["recording_id"]
        time.sleep(0.5)
    assert rec_id, "the recording was not assembled"
    with light.uows() as uow:
        rec = uow.recordings.get(rec_id)
        assert rec is not None
        markers = {m["node_id"]: m for m in rec.inputs["markers"]}
        assert rec.inputs["task"]["task_id"] == task_id and rec.inputs["task"]["running_no"] == "WM-2026-0001"
        sess = uow.live_sessions.for_attempt(task_id, 1)
        assert sess is not None
        durations = {int(k): v for k, v in sess.identity["durations"].items()}
    # both segments are in the recording, one after the other (3 s + 2 s)
    assert durations[0] == pytest.approx(3.0, abs=0.3) and durations[1] == pytest.approx(2.0, abs=0.3)
    assert markers["risk"]["start"] == pytest.approx(0.2, abs=0.01) and markers["risk"][
        "end"
    ] == pytest.approx(1.5)
    assert markers["risk"]["prompts"] == ["本产品不保本"]
    # q1 ran in segment 1: its marker is on the joined timeline, after segment 0
    assert markers["q1"]["start"] == pytest.approx(durations[0], abs=0.01)
    assert markers["q1"]["answers"] == ["是"]
    assert markers["end"]["start"] == pytest.approx(durations[0] + 1.0, abs=0.01)
    # the QC result moves the task and tells the business system
    deadline = time.monotonic() + 180
    status = ""
    while time.monotonic() < deadline and status not in ("passed", "review", "failed"):
        status = system.call("GET", f"/api/v1/tasks/{task_id}").json()["status"]
        time.sleep(0.5)
    assert status in ("passed", "review", "failed")
    task = system.call("GET", f"/api/v1/tasks/{task_id}").json()
    assert task["attempts"][0]["recording_id"] == rec_id
    sent = admin.get("/api/v1/webhook-deliveries", params={"task_id": task_id, "page_size": 100}).json()
    results = [d for d in sent["items"] if d["event"] == "task.result"]
    assert results, [d["event"] for d in sent["items"]]
    detail = admin.get(f"/api/v1/webhook-deliveries/{results[0]['id']}").json()
    assert detail["payload"]["data"]["result"]["recording_id"] == rec_id
    # once finished, no more chunks are taken
    assert _put(client, token, 1, 5, b"late").status_code == 409


def test_a_no_answer_hands_over_with_a_summary(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    task_id, token = _task(admin, system)
    client = _started(app_client, token)
    client.post(f"/api/v1/session/{token}/nodes/risk/outcome", json={"kind": "passed", "t": 1})
    client.post(
        f"/api/v1/session/{token}/prompts",
        json={"node_id": "q1", "text": "您是否本人自愿购买本产品？", "t": 1},
    )
    s = client.post(
        f"/api/v1/session/{token}/nodes/q1/outcome", json={"kind": "answer", "text": "否", "t": 2}
    )
    assert s.json()["status"] == "handover"
    task = system.call("GET", f"/api/v1/tasks/{task_id}").json()
    assert task["status"] == "handover"
    summary = task["attempts"][0]["result"]
    assert summary["node_id"] == "q1" and "否" in summary["reason"]
    assert {"kind": "prompt", "node_id": "q1", "text": "您是否本人自愿购买本产品？"} in summary[
        "last_exchange"
    ]
    assert {"kind": "answer", "node_id": "q1", "text": "否"} in summary["last_exchange"]


def test_declining_consent_fails_the_attempt(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    task_id, token = _task(admin, system)
    client = TestClient(app_client.app)
    client.get(f"/api/v1/session/{token}")
    s = client.post(f"/api/v1/session/{token}/consent", json={"agree": False}).json()
    assert s["status"] == "failed" and "不同意" in s["reason"]
    assert system.call("GET", f"/api/v1/tasks/{task_id}").json()["status"] == "failed"


def test_after_the_window_the_attempt_expires(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    task_id, token = _task(admin, system)
    client = _started(app_client, token)
    with light.uows() as uow:  # the customer left 16 minutes ago
        s = uow.live_sessions.for_attempt(task_id, 1)
        assert s is not None
        from dataclasses import replace

        uow.live_sessions.save(replace(s, last_seen_at=datetime.now(UTC) - timedelta(minutes=16)))
        uow.commit()
    r = client.post(f"/api/v1/session/{token}/connect")
    assert r.status_code == 409 and r.json()["session_status"] == "expired"
    assert client.get(f"/api/v1/session/{token}").json()["status"] == "expired"
    assert system.call("GET", f"/api/v1/tasks/{task_id}").json()["status"] == "expired"


def test_the_sweeper_expires_sessions_nobody_reopens(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    task_id, token = _task(admin, system)
    _started(app_client, token)
    assert light.sessions is not None
    assert light.sessions.sweep(datetime.now(UTC) + timedelta(minutes=14)) == 0
    assert light.sessions.sweep(datetime.now(UTC) + timedelta(minutes=16)) == 1
    assert system.call("GET", f"/api/v1/tasks/{task_id}").json()["status"] == "expired"


def test_bad_tokens_and_bodies_are_refused(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    _, token = _task(admin, system)
    client = TestClient(app_client.app)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get(f"/api/v1/session/{forged}").status_code == 401
    assert client.get(f"/api/v1/session/{token}").status_code == 200
    client.post(f"/api/v1/session/{token}/consent", json={"agree": True})
    # a chunk over the limit is refused before it is stored
    huge = b"\0" * (8 * 1024 * 1024 + 1)
    r = _put(client, token, 0, 0, huge)
    assert r.status_code == 422 and r.json()["message_key"] == "sessions.body_larger_than_bytes"
    assert "内容过大" in r.json()["detail"]
    assert _put(client, token, 0, 0, b"").status_code == 422
    r = client.put(f"/api/v1/session/{token}/chunks/0/0", content=b"x", headers={"X-Chunk-SHA256": "nothex"})
    assert r.status_code == 422
    # unknown fields and out-of-range clocks
    assert client.post(f"/api/v1/session/{token}/consent", json={"agree": True, "x": 1}).status_code == 422
    r = client.post(f"/api/v1/session/{token}/nodes/risk/outcome", json={"kind": "passed", "t": -1})
    assert r.status_code == 422
    s = client.get(f"/api/v1/session/{token}").json()
    assert s["received"] == {} and s["node"]["id"] == "risk"  # nothing was stored or advanced


def test_the_h265_archive_copy(light: Container, tmp_path: Path) -> None:
    """DUALREC_ARCHIVE_H265: the assembled MP4 is also kept as H.265 (QC and playback use the H.264)."""
    from dualrec.media.probe import PyAVProbe
    from dualrec.media.transcode import transcode_to_mp4
    from dualrec.services.sessions.assembly import SessionAssembler

    _webm(tmp_path / "a.webm", 2, 440)
    src = transcode_to_mp4(tmp_path / "a.webm", tmp_path / "a.mp4")
    assembler = SessionAssembler(
        light.uows, light.blobs, lambda: light.queue, light.tasks, tmp_path / "scratch", archive_h265=True
    )
    key = assembler._h265_copy(src, tmp_path)
    assert key is not None
    out = tmp_path / "hevc.mp4"
    with light.blobs.open(key) as fh:
        out.write_bytes(fh.read())
    info = PyAVProbe().probe(out)
    assert info.video is not None and info.video.codec == "hevc"
