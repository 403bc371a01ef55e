"""A server whose QC engines are the deterministic fakes over a synthetic scene (an ID card held up
1–6 s, the customer out of the picture 11–15 s, a scripted transcript), so that a recording's report has
nodes, findings with time ranges, a transcript, ID card and face-comparison evidence within seconds.
The upload itself goes through the real API, job queue, blob store and evidence ledger."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container, job_handlers
from dualrec.bootstrap.jobs import build_job_queue
from dualrec.core.flow import flow_to_dict
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeProbe,
    FakeScene,
    FakeSpeechRecognizer,
    FakeTextRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.pipeline.request import QcEngines
from dualrec.services.identity.seed import seed_demo
from dualrec.settings import Settings
from tests.conftest import ADMIN_PASSWORD, make_settings
from tests.unit.test_checks_defects import CARD, FLOW, TRANSCRIPT, VALID_ID

CUSTOMER_NAME = "张三"
SCENE = FakeScene(duration=20.0, card=[(1.0, 6.0)], no_face=[(11.0, 15.0)])

__all__ = ["CUSTOMER_NAME", "SCENE", "VALID_ID", "fake_server", "upload_done"]


def fake_engines() -> QcEngines:
    return QcEngines(
        probe=FakeProbe(SCENE.media_info()),
        frames=SCENE.frame_source(),
        audio=FakeAudioSource(SCENE.samples()),
        asr=FakeSpeechRecognizer(TRANSCRIPT, track=SCENE.samples()),
        vad=FakeVoiceActivityDetector(),
        faces=FakeFaceAnalyzer(),
        ocr=FakeTextRecognizer({1: CARD}),
    )


@contextmanager
def fake_server(
    data_dir: Path, *, start_jobs: bool = True, **overrides: Any
) -> Iterator[tuple[TestClient, Container]]:
    settings: Settings = make_settings(data_dir, job_workers=1, **overrides)
    container = build_container(settings, migrate=True, with_jobs=False)
    seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    container.engines = fake_engines
    container.jobs = build_job_queue(settings, job_handlers(container), engine=container.engine)
    if not start_jobs:
        container._started = True  # the app's start() leaves the queue stopped: jobs stay queued
    try:
        with TestClient(create_app(settings, container=container)) as client:
            yield client, container
    finally:
        container.close()


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(SCENE.id_photo()).save(buf, format="PNG")  # lossless: the fake face is a colour
    return buf.getvalue()


def upload(client: TestClient, running_no: str, business_type: str = "wealth") -> str:
    task = {
        "running_no": running_no,
        "customer_name": CUSTOMER_NAME,
        "id_number": VALID_ID,
        "business_type": business_type,
    }
    r = client.post(
        "/api/v1/recordings",
        files={
            "file": ("session.mp4", b"\x00\x00\x00\x18ftypmp42 synthetic", "video/mp4"),
            "id_photo": ("id.png", _photo(), "image/png"),
        },
        data={"task": json.dumps(task, ensure_ascii=False), "flow": json.dumps(flow_to_dict(FLOW))},
    )
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def wait_done(client: TestClient, recording_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/v1/recordings/{recording_id}").json()
        if body["status"] in ("done", "failed"):
            assert body["status"] == "done", body
            return body
        time.sleep(0.2)
    raise AssertionError(f"QC did not finish in {timeout} s")


def upload_done(client: TestClient, running_no: str, business_type: str = "wealth") -> str:
    recording_id = upload(client, running_no, business_type)
    wait_done(client, recording_id)
    return recording_id
