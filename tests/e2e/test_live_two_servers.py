"""Two real `dualrec serve` processes on one data directory and database (SQLite, WAL), as behind
a proxy without session affinity: the customer's page streams the liveness frames to A, loses the
connection, reconnects to B and finishes the liveness check there; the ID card goes to A again,
whose analysis workers rebuild the customer's face from the proof B stored. Nothing is shared
between the two processes but the database and the blob store."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from dualrec.media.models.dlib_faces import DlibFaceAnalyzer
from tests.e2e.conftest import ADMIN_PASSWORD, CSRF, DUALREC, _free_port, _wait_healthy, running_server
from tests.e2e.h5_support import create_task, publish_system, token
from tests.integration.test_live_identity_api import _card_back, action_frames
from tests.live_frames import framed, jpeg, photo
from tests.media_factory import MediaFactory

FLOW: dict[str, Any] = {
    "mode": "self_service",
    "nodes": [
        {
            "id": "id",
            "type": "identity",
            "title": "身份核实",
            "retries": 0,
            "params": {"liveness_actions": ["shake", "nod"]},  # blinks cannot be made from a photo
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}


@contextmanager
def second_server(data_dir: Path) -> Iterator[str]:
    """Another `dualrec serve` on the same data directory (already migrated and seeded)."""
    env = {
        **os.environ,
        "DUALREC_DATA_DIR": str(data_dir),
        "DUALREC_ENV": "test",
        "DUALREC_LIVE_WORKERS": "1",
    }
    port = _free_port()
    log = data_dir / "serve-b.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(DUALREC), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _frames(ws: Any, frames: list[np.ndarray], t0: float) -> list[dict[str, Any]]:
    """Each frame analysed (its observation); a frame the server dropped as stale (its live
    worker was behind: by design on a busy machine, live_pool.py) is sent again, a few times."""
    out = []
    for i, f in enumerate(frames):
        message = json.dumps({"type": "frame", "t": t0 + i / 2, "image": base64.b64encode(jpeg(f)).decode()})
        for _attempt in range(6):
            ws.send(message)
            reply = json.loads(ws.recv(timeout=60))
            if reply.get("reason") != "stale":
                break
            time.sleep(0.5)
        assert reply["type"] == "observation", reply
        out.append(reply)
    return out


def _events(replies: list[dict[str, Any]]) -> list[str]:
    return [r["liveness"]["event"]["kind"] for r in replies if "event" in r.get("liveness", {})]


def test_a_reconnect_to_the_other_serve_continues_the_session(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path_factory.mktemp("two-serve")
    faces = DlibFaceAnalyzer()
    img = photo("obama.jpg")
    frame = framed(img, faces.detect(img)[0])
    face = faces.detect(frame)[0]
    with running_server(data_dir, DUALREC_LIVE_WORKERS="1") as (a, _log), second_server(data_dir) as b:
        with httpx.Client(base_url=a, headers=CSRF, timeout=30.0) as admin:
            r = admin.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            r.raise_for_status()
            system = publish_system(
                admin, a, code="two-serve", name="两实例", business="two_serve", flow=FLOW,
                rule_name="two-serve", key_name="two-serve",
            )  # fmt: skip
        task = create_task(system, "two_serve", "TS-1")
        tok = token(task)
        api_a, api_b = f"{a}/api/v1/session/{tok}", f"{b}/api/v1/session/{tok}"
        with httpx.Client(headers=CSRF, timeout=60.0) as page:
            assert page.get(api_a).status_code == 200
            assert page.post(f"{api_a}/consent", json={"agree": True}).json()["node"]["id"] == "id"
            first, second = page.post(f"{api_a}/liveness").json()["actions"]
            ws_a = api_a.replace("http://", "ws://") + "/live"
            ws_b = api_b.replace("http://", "ws://") + "/live"
            with connect(ws_a, max_size=4 * 1024 * 1024) as ws:  # the first action on A
                on_a = _frames(ws, action_frames(frame, face, [first]), 0.0)
            assert _events(on_a) == ["action_passed"], on_a[-1]
            with connect(ws_b, max_size=4 * 1024 * 1024) as ws:  # the connection came back on B
                on_b = _frames(ws, action_frames(frame, face, [second]), 6.0)
            assert on_b[0]["liveness"]["current_action"] == second, on_b[0]
            assert [r["action"] for r in on_b[0]["liveness"]["results"]] == [first]
            assert _events(on_b) == ["passed"], on_b[-1]
            assert page.get(api_a).json()["identity"]["liveness"]["passed"] is True  # A sees B's proof
            # the ID card on A: A's worker never saw the liveness frames; it takes B's proof
            card = MediaFactory(tmp_path).id_card().read_bytes()
            front = page.post(f"{api_a}/id-card/front", content=card)
            assert front.status_code == 200, front.text
            assert front.json()["passed"] and front.json()["face_distance"] < 0.6, front.json()
            back = page.post(f"{api_b}/id-card/back", content=_card_back(tmp_path / "back.png"))
            assert back.json()["passed"], back.text
            done = page.post(f"{api_b}/nodes/id/outcome", json={"kind": "passed", "t": 14})
            assert done.status_code == 200 and done.json()["node"]["id"] == "end", done.text
