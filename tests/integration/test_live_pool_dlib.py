"""The live monitor through its pool of analysis worker processes with the real dlib engine: a
worker killed with SIGKILL in the middle of the liveness challenge, and again before the ID card,
does not lose the session (the passed action, the proof and the customer's face stay), and a page
that lies about its results is still judged by the server's own analysis."""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.media.models.dlib_faces import DlibFaceAnalyzer
from dualrec.services.sessions.live_pool import ProcessPool
from tests.integration.test_flows_tasks_api import Signed, admin, system
from tests.integration.test_live_identity_api import OUT_AND_BACK, _card_back, _start, action_frames
from tests.live_frames import framed, jpeg, photo, turn_head
from tests.media_factory import MediaFactory

__all__ = ["admin", "system"]


@pytest.fixture(scope="module")
def heads() -> dict[str, tuple[np.ndarray, Any]]:
    faces = DlibFaceAnalyzer()
    out = {}
    for name in ("obama.jpg", "biden2.jpg"):
        img = photo(name)
        frame = framed(img, faces.detect(img)[0])
        out[name] = (frame, faces.detect(frame)[0])
    return out


def _send(ws: Any, frame: np.ndarray, t: float, **extra: Any) -> dict[str, Any]:
    ws.send_json({"type": "frame", "t": t, "image": base64.b64encode(jpeg(frame)).decode(), **extra})
    reply: dict[str, Any] = ws.receive_json()
    assert reply["type"] == "observation", reply
    return reply


def _kill_worker_of(container: Container, token: str) -> int:
    assert container.live_monitor is not None and container.sessions is not None
    pool = container.live_monitor.pool
    assert isinstance(pool, ProcessPool)
    _, _, s = container.sessions.context(token)
    pid = pool.pids()[pool.worker_for(s.id)]
    assert pid is not None and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    return pid


def test_a_worker_killed_mid_session_does_not_lose_it(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    container: Container,
    heads: dict[str, tuple[np.ndarray, Any]],
    tmp_path: Path,
) -> None:
    client = TestClient(app_client.app)
    token = _start(admin, system, client)
    actions = client.post(f"/api/v1/session/{token}/liveness").json()["actions"]
    first, second = actions
    frame, face = heads["obama.jpg"]
    t = 0.0
    with client.websocket_connect(f"/api/v1/session/{token}/live") as ws:
        replies = []
        for f in action_frames(frame, face, [first]):
            replies.append(_send(ws, f, t))
            t += 0.5
        assert [r["liveness"]["event"]["kind"] for r in replies if "event" in r["liveness"]] == [
            "action_passed"
        ]
        # half of the second action, then the worker dies (kill -9)
        axis = "y" if second == "shake" else "x"
        for d in OUT_AND_BACK[:4]:
            _send(ws, turn_head(frame, face, axis, d), t)
            t += 0.5
        dead = _kill_worker_of(container, token)
        after = _send(ws, frame, t)  # answered by a new worker, rebuilt from the persisted snapshot
        t += 0.5
        live = after["liveness"]
        assert live["state"] == "pending" and live["current_action"] == second, live
        assert [r["action"] for r in live["results"] if r["passed"]] == [first]  # the passed action stayed
        events = []
        for f in action_frames(frame, face, [second]):  # the second action asked again from its start
            r = _send(ws, f, t)
            t += 0.5
            if "event" in r.get("liveness", {}):
                events.append(r["liveness"]["event"]["kind"])
        assert events == ["passed"], events
    assert client.get(f"/api/v1/session/{token}").json()["identity"]["liveness"]["passed"] is True
    pool = container.live_monitor.pool if container.live_monitor else None
    assert isinstance(pool, ProcessPool) and dead not in pool.pids() and pool.stats()["restarts"] >= 1
    # the operations team sees it in Prometheus
    scraped = TestClient(app_client.app, client=("127.0.0.1", 50000)).get("/metrics").text
    worker = str(pool.worker_for(container.sessions.context(token)[2].id)) if container.sessions else "?"
    assert f'dualrec_live_worker_events_total{{event="restarts",worker="{worker}"}} 1.0' in scraped, scraped
    assert f'dualrec_live_frames_total{{outcome="done",worker="{worker}"}}' in scraped

    # killed again: the new worker rebuilds the customer's face from the liveness proof's frame
    _kill_worker_of(container, token)
    card = MediaFactory(tmp_path).id_card().read_bytes()
    front = client.post(f"/api/v1/session/{token}/id-card/front", content=card)
    assert front.status_code == 200, front.text
    body = front.json()
    assert body["passed"] and body["face_distance"] is not None and body["face_distance"] < 0.6, body
    back = client.post(f"/api/v1/session/{token}/id-card/back", content=_card_back(tmp_path / "back.png"))
    assert back.json()["passed"], back.json()
    # a stranger in front of the camera is still told apart from the customer after the restarts
    stranger, _ = heads["biden2.jpg"]
    with client.websocket_connect(f"/api/v1/session/{token}/live") as ws:
        seen = [_send(ws, stranger, t + i / 2) for i in range(5)]
    assert any("not_customer" in r["alerts"] for r in seen), seen
    done = client.post(f"/api/v1/session/{token}/nodes/id/outcome", json={"kind": "passed", "t": t + 3})
    assert done.status_code == 200 and done.json()["node"]["id"] == "end"


def test_a_page_that_lies_is_judged_by_the_pools_analysis(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    container: Container,
    heads: dict[str, tuple[np.ndarray, Any]],
) -> None:
    """A modified page claims the liveness passed and shows no prompt: the server's analysis (in
    the worker processes) decides: a still photo passes no action and the node stays closed."""
    assert isinstance(container.live_monitor and container.live_monitor.pool, ProcessPool)
    client = TestClient(app_client.app)
    token = _start(admin, system, client)
    client.post(f"/api/v1/session/{token}/liveness")
    frame, _ = heads["obama.jpg"]
    black = np.zeros_like(frame)
    with client.websocket_connect(f"/api/v1/session/{token}/live") as ws:
        replies = [
            _send(ws, frame, i / 2, liveness={"passed": True}, alerts=[], face_count=1) for i in range(6)
        ]
        covered = [_send(ws, black, 3 + i / 2, face_count=1, prompts=[]) for i in range(4)]
    assert all(r["liveness"]["state"] == "pending" and not r["liveness"]["results"] for r in replies)
    assert any(p["code"] in ("covered", "dark", "no_face") for r in covered for p in r["prompts"]), covered
    s = client.get(f"/api/v1/session/{token}").json()
    assert "liveness" not in s["identity"]
    r = client.post(f"/api/v1/session/{token}/nodes/id/outcome", json={"kind": "passed"})
    assert r.status_code == 409 and "活体" in r.json()["detail"]


def test_actions_done_by_one_person_and_a_frontal_picture_of_another_do_not_pass(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    heads: dict[str, tuple[np.ndarray, Any]],
) -> None:
    """A live accomplice does the first action, another person's face does the second: the
    challenge's moves all pass, but the proof does not — the face that would become the customer's
    reference is not the face of everyone who did the actions."""
    client = TestClient(app_client.app)
    token = _start(admin, system, client)
    first, second = client.post(f"/api/v1/session/{token}/liveness").json()["actions"]
    t = 0.0
    events = []
    with client.websocket_connect(f"/api/v1/session/{token}/live") as ws:
        for name, action in (("obama.jpg", first), ("biden2.jpg", second)):
            frame, face = heads[name]
            for f in action_frames(frame, face, [action]):
                r = _send(ws, f, t)
                t += 0.5
                if "event" in r.get("liveness", {}):
                    events.append(r["liveness"]["event"]["kind"])
    assert events == ["action_passed", "passed"], events  # the moves themselves were all done
    proof = client.get(f"/api/v1/session/{token}").json()["identity"]["liveness"]
    assert proof["passed"] is False, proof
    assert any("another person" in p for p in proof.get("problems", [])), proof
