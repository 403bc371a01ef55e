"""The identity node of a self-service session with the real engines: the liveness challenge over
the WebSocket (frames of a photo with the head turned by tests.live_frames), the ID card read by
OCR and compared with the task and with the customer's face, the live compliance prompts, and bad
WebSocket messages answered without dropping the socket."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

from dualrec.bootstrap.container import Container
from dualrec.core.idcard import gb11643_check_digit
from dualrec.media.models.dlib_faces import DlibFaceAnalyzer
from tests.integration.test_flows_tasks_api import CUSTOMER, Signed, _publish_flow, admin, system
from tests.live_frames import framed, jpeg, photo, turn_head
from tests.media_factory import CARD_ID, CARD_NAME, FONT, MediaFactory

__all__ = ["admin", "system"]


FLOW: dict[str, Any] = {
    "mode": "self_service",
    "nodes": [
        # blinks cannot be made from a photo: this flow asks for a shake and a nod (in a drawn order)
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
OUT_AND_BACK = (0, 0, 5, 10, 15, 10, 5, 0, 0)


def action_frames(frame: np.ndarray, face: Any, actions: list[str]) -> list[np.ndarray]:
    """The head turned out and back for each action in turn (shake: about the vertical axis)."""
    out: list[np.ndarray] = []
    for action in actions:
        out += [turn_head(frame, face, "y" if action == "shake" else "x", d) for d in OUT_AND_BACK]
    return out


def _b64(frame: np.ndarray) -> str:
    return base64.b64encode(jpeg(frame)).decode()


@pytest.fixture(scope="module")
def head() -> tuple[np.ndarray, Any]:
    faces = DlibFaceAnalyzer()
    img = photo("obama.jpg")
    frame = framed(img, faces.detect(img)[0])
    return frame, faces.detect(frame)[0]


def _card_back(path: Path) -> bytes:
    card = Image.new("RGB", (428, 270), (232, 236, 240))
    draw = ImageDraw.Draw(card)
    font = ImageFont.truetype(str(FONT), 18)
    draw.text((40, 40), "中华人民共和国", fill=(20, 20, 20), font=font)
    draw.text((40, 80), "居民身份证", fill=(20, 20, 20), font=font)
    draw.text((40, 170), "签发机关  北京市公安局朝阳分局", fill=(20, 20, 20), font=font)
    draw.text((40, 210), "有效期限  2020.01.01-2040.01.01", fill=(20, 20, 20), font=font)
    card.save(path)
    return path.read_bytes()


def _start(admin: TestClient, system: Signed, client: TestClient) -> str:
    _publish_flow(admin, flow=FLOW)
    task = {**CUSTOMER, "customer_name": CARD_NAME, "id_number": CARD_ID}
    r = system.call("POST", "/api/v1/tasks", task)
    assert r.status_code == 201, r.text
    token: str = r.json()["entry_url"].rsplit("/h5/", 1)[1]
    client.get(f"/api/v1/session/{token}")
    assert client.post(f"/api/v1/session/{token}/consent", json={"agree": True}).json()["node"]["id"] == "id"
    return token


def test_identity_needs_liveness_card_and_face_match(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    container: Container,
    head: tuple[np.ndarray, Any],
    tmp_path: Path,
) -> None:
    client = TestClient(app_client.app)
    token = _start(admin, system, client)
    # the page cannot declare the identity verified
    r = client.post(f"/api/v1/session/{token}/nodes/id/outcome", json={"kind": "passed"})
    assert r.status_code == 409 and "活体" in r.json()["detail"]
    # a card before the liveness check has nothing to compare the card's photo with
    card = MediaFactory(tmp_path).id_card().read_bytes()
    early = client.post(f"/api/v1/session/{token}/id-card/front", content=card).json()
    assert not early["passed"] and any("活体" in p for p in early["problems"])

    challenge = client.post(f"/api/v1/session/{token}/liveness").json()
    assert sorted(challenge["actions"]) == ["nod", "shake"] and challenge["prompt_zh"]
    frame, face = head
    frames = action_frames(frame, face, challenge["actions"])
    seen: list[dict[str, Any]] = []
    with client.websocket_connect(f"/api/v1/session/{token}/live") as ws:
        for i, f in enumerate(frames):
            ws.send_json({"type": "frame", "t": i / 2, "image": _b64(f)})
            reply = ws.receive_json()
            assert reply["type"] == "observation" and reply["face_count"] == 1, reply
            if "liveness" in reply:  # while the challenge runs
                seen.append(reply["liveness"])
    events = [s["event"]["kind"] for s in seen if "event" in s]
    assert events == ["action_passed", "passed"], seen[-1]
    s = client.get(f"/api/v1/session/{token}").json()
    assert s["identity"]["liveness"]["passed"] is True

    # the ID card: name and number match the task, the photo matches the customer (Obama, another photo)
    front = client.post(f"/api/v1/session/{token}/id-card/front", content=card)
    assert front.status_code == 200, front.text
    body = front.json()
    assert body["name_matches"] and body["number_matches"] and body["number_valid"], body
    assert body["face_distance"] is not None and body["face_distance"] < 0.6 and body["passed"], body
    assert "blob_key" not in body["session"]["identity"]["id_card_front"]  # no storage keys to the page
    back = client.post(f"/api/v1/session/{token}/id-card/back", content=_card_back(tmp_path / "back.png"))
    assert back.json()["passed"], back.json()
    done = client.post(f"/api/v1/session/{token}/nodes/id/outcome", json={"kind": "passed", "t": 12})
    assert done.status_code == 200 and done.json()["node"]["id"] == "end"


def test_a_card_of_someone_else_fails(
    app_client: TestClient, admin: TestClient, system: Signed, container: Container, tmp_path: Path
) -> None:
    client = TestClient(app_client.app)
    _publish_flow(admin, flow=FLOW)
    other = "11010519800101001" + gb11643_check_digit("11010519800101001")
    r = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "id_number": other})  # 张三, not the card's
    token = r.json()["entry_url"].rsplit("/h5/", 1)[1]
    client.get(f"/api/v1/session/{token}")
    client.post(f"/api/v1/session/{token}/consent", json={"agree": True})
    card = MediaFactory(tmp_path).id_card().read_bytes()
    body = client.post(f"/api/v1/session/{token}/id-card/front", content=card).json()
    assert not body["passed"] and body["name_matches"] is False and body["number_matches"] is False
    assert any("姓名" in p for p in body["problems"]) and any("身份证号" in p for p in body["problems"])
    # not an image at all
    bad = client.post(f"/api/v1/session/{token}/id-card/front", content=b"%PDF-1.4 nonsense")
    assert bad.status_code == 422


def test_the_monitor_prompts_and_bad_messages_keep_the_socket(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    container: Container,
    head: tuple[np.ndarray, Any],
) -> None:
    client = TestClient(app_client.app)
    token = _start(admin, system, client)
    frame, _ = head
    black = np.zeros_like(frame)
    with client.websocket_connect(f"/api/v1/session/{token}/live") as ws:
        ws.send_text("not json")
        assert ws.receive_json()["type"] == "error"
        ws.send_bytes(b"\xff\xd8 a binary frame")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "frame", "t": 0, "image": "%%%"})
        answer = ws.receive_json()
        assert "Base64" in answer["detail"] and answer["message_key"] == "session_monitor.image_valid_base64"
        ws.send_json({"type": "frame", "t": 0, "image": base64.b64encode(b"not a jpeg").decode()})
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        prompts: list[tuple[float, str]] = []
        t = 0.0
        for f in [frame] * 2 + [black] * 4 + [frame] * 3:
            ws.send_json({"type": "frame", "t": t, "image": _b64(f)})
            reply = ws.receive_json()
            prompts += [(t, p["code"]) for p in reply["prompts"]]
            t += 0.5
    covered = [at for at, code in prompts if code in ("covered", "dark", "no_face")]
    assert covered and covered[0] - 1.0 <= 2.0, prompts  # black from t=1.0: prompted within 2 s
    with container.uows() as uow:
        s = uow.live_sessions.for_attempt(_task_id(container, token), 1)
        assert s is not None
        alerts = uow.live_sessions.events(s.id, ["alert"])
    assert any(a.data.get("code") in ("covered", "dark", "no_face") for a in alerts)


def _task_id(container: Container, token: str) -> str:
    assert container.sessions is not None
    task, _, _ = container.sessions.context(token)
    return task.id
