"""One story from session to court: a self-service session whose customer passed the liveness
challenge and whose ID card was read live is assembled into a recording, QC takes the session's
proof as the identity node's result (and checks the recording against the face verified live), and
the QC report and the litigation PDF say the same thing.

Real media and real engines (dlib faces, RapidOCR): the customer is a real photo (obama.jpg) whose
head turns (tests.live_frames), the card is a synthetic ID card with another real photo of him, the
microphone is real Mandarin speech. Whisper is left out (this test is about identity)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.bootstrap.engines import build_qc_engines
from dualrec.media.models.dlib_faces import DlibFaceAnalyzer
from tests.conftest import TEST_DATA
from tests.integration.test_flows_tasks_api import CUSTOMER, Signed, _publish_flow, admin, system
from tests.integration.test_live_identity_api import _card_back, action_frames
from tests.live_frames import framed, jpeg, photo
from tests.media_factory import CARD_ID, CARD_NAME, MediaFactory

__all__ = ["admin", "system"]

pytestmark = pytest.mark.slow

FLOW: dict[str, Any] = {
    "mode": "self_service",
    "nodes": [
        {
            "id": "id",
            "type": "identity",
            "title": "身份核实",
            "retries": 0,
            "params": {"liveness_actions": ["shake", "nod"]},
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}
FPS = 10
SECONDS = 16


def _recording(frames: Iterable[np.ndarray], out: Path) -> bytes:
    """What the page's MediaRecorder would upload: the camera (640×480 frames) and the microphone
    (real speech) as WebM (VP8/Opus)."""
    raw = out.with_suffix(".rgb")
    with raw.open("wb") as fh:
        for f in frames:
            fh.write(np.ascontiguousarray(f).tobytes())
    speech = TEST_DATA / "speech" / "asr_example.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "640x480",
         "-r", str(FPS), "-i", str(raw), "-i", str(speech), "-af", "apad", "-t", str(SECONDS),
         "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "600k",
         "-c:a", "libopus", str(out)],
        check=True,
        timeout=300,
    )  # fmt: skip
    return out.read_bytes()


def _put(client: TestClient, token: str, seq: int, data: bytes) -> None:
    r = client.put(
        f"/api/v1/session/{token}/chunks/0/{seq}",
        content=data,
        headers={"X-Chunk-SHA256": hashlib.sha256(data).hexdigest()},
    )
    assert r.status_code == 200, r.text


def _wait(what: str, probe: Any, seconds: float = 600) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def _pdf_text(pdf: bytes, tmp: Path) -> str:
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed"
    src = tmp / "report.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(src), "-"], check=True, capture_output=True, timeout=60)
    return out.stdout.decode()


@pytest.fixture
def vision(container: Container) -> Container:
    """QC with the face and OCR engines (Whisper left out: this test is about identity)."""
    engines = build_qc_engines(data_dir=container.settings.data_dir, asr=False, faces=True, ocr=True)
    container.engines = lambda: engines
    return container


def _moving(name: str, actions: list[str] = ["shake", "nod"]) -> list[np.ndarray]:  # noqa: B006
    """Camera frames of the person in ``name`` doing the liveness actions (shake, nod) in turn."""
    faces = DlibFaceAnalyzer()
    img = photo(name)
    frame = framed(img, faces.detect(img)[0])
    return action_frames(frame, faces.detect(frame)[0], actions)


def _session(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    vision: Container,
    tmp_path: Path,
    on_camera: list[np.ndarray] | None = None,
) -> tuple[str, str]:
    """A self-service session through the API: liveness (obama.jpg shaking and nodding), the ID card
    read live, the flow completed, the page's recording uploaded (``on_camera``: what the camera
    recorded, the same customer when None); returns the task id and the recording id once QC is done."""
    _publish_flow(admin, flow=FLOW)
    r = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "customer_name": CARD_NAME, "id_number": CARD_ID})
    assert r.status_code == 201, r.text
    task_id, token = r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]
    client = TestClient(app_client.app)  # the customer
    client.get(f"/api/v1/session/{token}")
    assert client.post(f"/api/v1/session/{token}/consent", json={"agree": True, "t": 0.2}).status_code == 200

    # liveness over the WebSocket: the head shakes and nods
    actions = client.post(f"/api/v1/session/{token}/liveness").json()["actions"]
    moving = _moving("obama.jpg", actions)
    with client.websocket_connect(f"/api/v1/session/{token}/live") as ws:
        for i, f in enumerate(moving):
            ws.send_json({"type": "frame", "t": 1 + i / 2, "image": base64.b64encode(jpeg(f)).decode()})
            ws.receive_json()
    assert client.get(f"/api/v1/session/{token}").json()["identity"]["liveness"]["passed"] is True

    # the ID card's two sides (camera snapshot / album photo), then the rest of the flow
    card = MediaFactory(tmp_path / "media").id_card().read_bytes()
    front = client.post(f"/api/v1/session/{token}/id-card/front", content=card, params={"t": 11})
    assert front.status_code == 200 and front.json()["passed"], front.text
    back = client.post(f"/api/v1/session/{token}/id-card/back", content=_card_back(tmp_path / "back.png"))
    assert back.json()["passed"], back.text
    s = client.post(f"/api/v1/session/{token}/nodes/id/outcome", json={"kind": "passed", "t": 12})
    assert s.status_code == 200 and s.json()["node"]["id"] == "end", s.text
    s = client.post(f"/api/v1/session/{token}/nodes/end/outcome", json={"kind": "passed", "t": 14})
    assert s.json()["status"] == "completed"

    # the recording the page uploaded (the customer on camera all along: the same head moving)
    frames = ((on_camera or moving) * 20)[: FPS * SECONDS]
    data = _recording(frames, tmp_path / "camera.webm")
    step = -(-len(data) // 4)
    pieces = [data[i : i + step] for i in range(0, len(data), step)]
    for seq, piece in enumerate(pieces):
        _put(client, token, seq, piece)
    r = client.post(f"/api/v1/session/{token}/finish", json={"final_seqs": {"0": len(pieces) - 1}, "t": 15})
    assert r.status_code == 200 and r.json()["missing"] == {}, r.text
    rec_id = _wait("the recording", lambda: client.get(f"/api/v1/session/{token}").json()["recording_id"])
    rec = _wait(
        "QC",
        lambda: (x := admin.get(f"/api/v1/recordings/{rec_id}").json())["status"] in ("done", "failed") and x,
    )
    assert rec["status"] == "done", rec
    return task_id, rec_id


def test_the_session_qc_and_litigation_report_tell_one_story(
    app_client: TestClient, admin: TestClient, system: Signed, vision: Container, tmp_path: Path
) -> None:
    task_id, rec_id = _session(app_client, admin, system, vision, tmp_path)
    report = admin.get(f"/api/v1/recordings/{rec_id}/report").json()
    checks = {c["id"]: c for c in report["checks"]}
    everything = repr(report)
    # QC: the identity node's result is the live session's proof
    assert "未在画面中识别到身份证正面" not in everything
    assert checks["liveness"]["status"] == "passed", checks["liveness"]
    assert checks["liveness"]["metrics"]["source"] == "live_session"
    assert sorted(checks["liveness"]["metrics"]["actions"]) == ["nod", "shake"]
    assert checks["id_card"]["status"] == "passed", checks["id_card"]
    assert checks["id_card"]["metrics"]["source"] == "live_session"
    assert checks["id_card"]["metrics"]["id_number"] == "110105********002X"
    assert checks["identity_match"]["status"] == "passed", checks["identity_match"]
    metrics = checks["identity_match"]["metrics"]
    assert metrics["source"] == "live_session" and metrics["live_distance"] < metrics["live_threshold"]
    assert metrics["video_samples"] > 0 and metrics["video_median_distance"] <= 0.6  # the recording agrees
    live = report["identity"]["liveness"]
    assert live["passed"] and live["source"] == "live_session" and live["frame"] and live["captured_at"]
    (card_front,) = [c for c in report["identity"]["id_card"] if c["side"] == "front"]
    assert card_front["source"] == "live_session" and card_front["frame"].startswith("evidence/idcard_")

    # the litigation report says the same (unmasked: the card's image is in it)
    pdf = admin.get(f"/api/v1/recordings/{rec_id}/litigation.pdf", params={"unmask": "true"})
    assert pdf.status_code == 200, pdf.text
    text = _pdf_text(pdf.content, tmp_path)
    flat = " ".join(text.split())
    assert "未做活体检测" not in flat and "未在画面中识别到身份证正面" not in flat
    assert "活体检测 通过" in flat, flat[:3000]  # one language (zh-CN by default)
    assert "证件识别 通过" in flat and "活体检测 / liveness" not in flat
    assert "实时会话" in flat and "摇头" in flat and "点头" in flat
    assert "110105********002X" in flat
    assert f"阈值 {metrics['live_threshold']}" in flat
    # the task moved with the QC result
    task = system.call("GET", f"/api/v1/tasks/{task_id}").json()
    assert task["attempts"][0]["recording_id"] == rec_id


def test_a_recording_of_someone_else_than_the_customer_verified_live_fails(
    app_client: TestClient, admin: TestClient, system: Signed, vision: Container, tmp_path: Path
) -> None:
    """The session verified the customer (liveness, card, face), but the recording shows another
    person (biden.jpg): the live proof stands, and the recording contradicts it."""
    _, rec_id = _session(app_client, admin, system, vision, tmp_path, on_camera=_moving("biden.jpg"))
    report = admin.get(f"/api/v1/recordings/{rec_id}/report").json()
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["liveness"]["status"] == "passed" and checks["id_card"]["status"] == "passed"
    match = checks["identity_match"]
    assert match["status"] == "failed", match
    (finding,) = match["findings"]
    assert finding["severity"] == "critical" and "活体核验" in finding["message"]
    assert match["metrics"]["video_median_distance"] > 0.6
    assert report["verdict"] == "FAIL"
    faces = report["identity"]["face_comparison"]
    assert faces["reference"] == "live_session" and not any(s["match"] for s in faces["samples"])
