"""A remote interview's live analysis after the call: on the recording's timeline, in QC and on the
playback API (no Janus: the events are stored the way the live worker stores them, the interviewer
acknowledges one through the desk's API, and the call's recording is submitted the way the
``rtc.compose`` job submits it — a real clip, the real QC job with the AI engines off).

- QC (the JSON and the PDF report): the unacknowledged sensitive word is a major finding (the
  verdict cannot be PASS) with its time on the recording, its words and the subtitle; the
  acknowledged contradiction is info naming who acknowledged it; the live face alert, which no
  face check of the recording confirms (they did not run here), asks for review.
- ``GET /api/v1/recordings/{id}/live-events``: both parties' subtitles and the alerts with their
  times and acknowledgement; the recording's branch scope (another branch 404), ``qc:read`` (an
  API key without it 403, the business system's key with it 200), no session 401; a recording
  that is no call says ``available: false``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from dualrec.bootstrap.container import Container, build_container, job_handlers
from dualrec.bootstrap.engines import build_qc_engines
from dualrec.bootstrap.jobs import build_job_queue
from dualrec.core.flow import flow_to_dict
from dualrec.services.identity.apikeys import create_api_key
from dualrec.services.identity.seed import seed_demo
from dualrec.services.recordings.service import QcInputs, submit_session_recording
from dualrec.services.rtc.live_events import live_for_recording
from dualrec.services.tasks.service import attempt_flow
from dualrec.settings import Settings
from tests.conftest import ADMIN_PASSWORD, make_clip, make_settings
from tests.integration.test_flows_tasks_api import Signed, _admin, system
from tests.integration.test_rtc_live_api import _call
from tests.integration.test_rtc_queue import clients
from tests.litigation_fixtures import wait_done

__all__ = ["clients", "system"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", rtc_enabled=True, rtc_managed=False, job_workers=1)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build_container(settings, migrate=True)
    seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    engines = build_qc_engines(data_dir=settings.data_dir, asr=False, faces=False, ocr=False)
    c.engines = lambda: engines
    c.jobs = build_job_queue(settings, job_handlers(c), engine=c.engine)
    yield c
    c.close()


def _submit(container: Container, task_id: str, t0: datetime, clip: Path) -> str:
    """What ``CallComposer`` does once the composite exists (t0: the call's first media packet)."""
    with container.uows() as uow:
        task = uow.tasks.get(task_id)
        assert task is not None and task.current_attempt is not None
        version = uow.flows.version(task.flow_id, task.flow_version)
        assert version is not None
        flow = flow_to_dict(attempt_flow(version.definition, task.current_attempt.draws))
    inputs = QcInputs(
        task={"running_no": task.business_no, "mode": "human", "task_id": task_id, "attempt": 1},
        flow=flow,
        markers=None,
        live_call=live_for_recording(container.uows, task_id, 1, t0=t0, duration=6.0),
    )
    with clip.open("rb") as fh:
        rec = submit_session_recording(
            container.uows,
            container.blobs,
            container.queue,
            branch_id=task.branch_id,
            branch_path=task.branch_path,
            data=fh,
            inputs=inputs,
            id_photo_key=None,
            filename="remote-interview.mp4",
            created_by="remote-interview",
        )
    return rec.id


def test_the_calls_live_analysis_is_on_the_recording_in_qc_and_on_the_playback_api(
    clients: dict[str, TestClient], system: Signed, container: Container, tmp_path: Path
) -> None:
    task_id, _link = _call(clients, system, container)
    agent = clients["agent"]
    events = container.live_events
    assert events is not None
    # the recording's first packet came 10 s ago; the worker's audio clocks began later (their
    # own origins: the stored t_start/t_end are not the recording's times)
    t0 = datetime.now(UTC) - timedelta(seconds=10)
    events.record(task_id, 1, "status", code="identity_unverified")
    events.record(
        task_id,
        1,
        "subtitle",
        speaker="agent",
        text="请问您是否知晓产品风险",
        t_start=0.3,
        t_end=1.8,
        spoken_until=t0 + timedelta(seconds=2.4),  # spoken 0.6–2.1 s (600 ms of closing silence)
    )
    events.record(
        task_id,
        1,
        "subtitle",
        speaker="customer",
        text="这个产品保本吗",
        t_start=0.5,
        t_end=1.5,
        spoken_until=t0 + timedelta(seconds=3.6),
    )
    events.record(
        task_id,
        1,
        "alert",
        speaker="customer",
        code="sensitive_word",
        text="这个产品保本吗",
        reason="客户说出敏感词：保本 / the customer said a sensitive word: 保本",
        t_start=0.5,
        t_end=1.5,
        spoken_until=t0 + timedelta(seconds=3.6),
        details={"words": ["保本"]},
    )
    contradiction = events.record(
        task_id,
        1,
        "alert",
        speaker="customer",
        code="contradiction",
        node_id="ask",
        text="不是，我不知道",
        reason="客户回答与“风险确认”的预期答案（是）不符 / contradicts",
        t_start=2.0,
        t_end=3.0,
        spoken_until=t0 + timedelta(seconds=5.1),
    )
    events.record(task_id, 1, "alert", speaker="customer", code="no_face", reason="客户不在画面中")
    r = agent.post(f"/api/v1/rtc/tasks/{task_id}/live/alerts/{contradiction}/ack")
    assert r.status_code == 200, r.text

    rid = _submit(container, task_id, t0, make_clip(tmp_path / "call.mp4", 6))
    done = wait_done(agent, rid, timeout=120)  # asserts it is done
    assert done["verdict"] != "PASS", done

    report = agent.get(f"/api/v1/recordings/{rid}/report", params={"lang": "en"}).json()
    check = next(c for c in report["checks"] if c["id"] == "live_call")
    by_severity: dict[str, list[dict[str, Any]]] = {}
    for f in check["findings"]:
        by_severity.setdefault(f["severity"], []).append(f)
    [unacked] = by_severity["major"]
    assert "not acknowledged" in unacked["message_localized"] and "保本" in unacked["message_localized"]
    assert (unacked["start"], unacked["end"]) == (2.0, 3.0)
    assert unacked["evidence"]["quote"] == "这个产品保本吗"
    [acked] = by_severity["info"]
    assert "acknowledged by" in acked["message_localized"] and acked["node_id"] == "ask"
    assert (acked["start"], acked["end"]) == (3.5, 4.5)
    [face] = by_severity["minor"]  # the recording's face checks did not run: nothing confirms it
    assert "please review" in face["message_localized"]
    assert check["metrics"]["subtitles"] == 2 and check["metrics"]["unacknowledged"] == 1
    pdf = agent.get(f"/api/v1/recordings/{rid}/report.pdf", params={"lang": "en"})
    assert pdf.status_code == 200
    text = " ".join(
        "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert "was not acknowledged by the interviewer" in text, text[-3000:]

    # the playback page's data: both parties' subtitles and the alerts on the recording's timeline
    url = f"/api/v1/recordings/{rid}/live-events"
    r = agent.get(url)
    assert r.status_code == 200, r.text
    live = r.json()
    assert live["available"] and live["duration"] == 6.0
    subs = [(i["speaker"], i["start"], i["end"], i["text"]) for i in live["items"] if i["kind"] == "subtitle"]
    assert subs == [("agent", 0.3, 1.8, "请问您是否知晓产品风险"), ("customer", 2.0, 3.0, "这个产品保本吗")]
    alerts = {i["code"]: i for i in live["items"] if i["kind"] == "alert"}
    assert not alerts["sensitive_word"]["acked"] and alerts["sensitive_word"]["words"] == ["保本"]
    assert alerts["contradiction"]["acked"] and alerts["contradiction"]["acked_by"]
    assert 9.5 < alerts["contradiction"]["acked_t"] < 30  # acknowledged "now": 10 s after the first packet

    # who may read it: the recording's branch scope and qc:read, as its report
    assert clients["other_branch"].get(url).status_code == 404
    assert TestClient(agent.app).get(url).status_code == 401
    assert system.call("GET", url).status_code == 200  # the business system's key holds qc:read
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ")
    assert bj is not None
    upload_only = create_api_key(
        container.uows,
        container.secretbox,
        actor=_admin(container),
        name="只上传",
        branch_id=bj.id,
        business_types=["wealth"],
        permissions=["recordings:upload"],
    )
    assert Signed(TestClient(agent.app), upload_only).call("GET", url).status_code == 403
    assert agent.get("/api/v1/recordings/00000000-0000-0000-0000-000000000000/live-events").status_code == 404


def test_a_recording_that_is_no_call_has_no_live_analysis(
    clients: dict[str, TestClient], container: Container, tmp_path: Path
) -> None:
    admin = clients["admin"]
    with make_clip(tmp_path / "clip.mp4", 3).open("rb") as fh:
        r = admin.post("/api/v1/recordings", files={"file": ("clip.mp4", fh, "video/mp4")})
    assert r.status_code == 202, r.text
    live = admin.get(f"/api/v1/recordings/{r.json()['id']}/live-events").json()
    assert live == {
        "available": False,
        "duration": 0.0,
        "asr_available": True,
        "faces_available": True,
        "identity_reference": False,
        "segments_dropped": 0,
        "truncated": 0,
        "items": [],
    }
