"""A recording uploaded in the console for a task: the task must be visible to the uploader (branch
scope: another branch's task is not found) and waiting for a recording; the recording gets the task's
data and its attempt's flow, so the script and answer checks run (Whisper on real Mandarin speech);
the task moves to QC and then to the QC result, like a self-service session's recording."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.bootstrap.engines import build_qc_engines
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login
from tests.integration.test_flows_tasks_api import CUSTOMER, _publish_flow
from tests.media_factory import OPENING, MediaFactory

pytestmark = pytest.mark.slow

FLOW: dict[str, Any] = {
    "mode": "human",
    "nodes": [
        {
            "id": "open",
            "type": "risk_disclosure",
            "title": "开场",
            "script": OPENING,
            "required_statements": [OPENING],
        },
        {
            "id": "q1",
            "type": "qa",
            "title": "自愿确认",
            "script": "您是否本人自愿购买本产品？",
            "expected_answers": ["是"],
        },
        {"id": "end", "type": "end", "title": "结束"},
    ],
}


@pytest.fixture
def speech_qc(container: Container) -> Container:
    """QC with Whisper (the script and answer checks), without the vision engines."""
    engines = build_qc_engines(data_dir=container.settings.data_dir, asr=True, faces=False, ocr=False)
    container.engines = lambda: engines
    return container


def _as(app_client: TestClient, username: str) -> TestClient:
    client = TestClient(app_client.app)
    return login(client, username, ADMIN_PASSWORD if username == "admin" else PASSWORD)


def _upload(client: TestClient, video: Path, **data: str) -> Any:
    with video.open("rb") as fh:
        return client.post("/api/v1/recordings", files={"file": ("counter.mp4", fh, "video/mp4")}, data=data)


def _count(container: Container) -> int:
    with container.uows() as uow:
        _, total = uow.recordings.search(
            scope_path="/", running_no=None, status=None, verdict=None, offset=0, limit=1
        )
    return total


def test_a_console_upload_for_a_task_gets_its_flow_and_moves_it(
    app_client: TestClient, speech_qc: Container, make_user: Any, tmp_path: Path
) -> None:
    admin = _as(app_client, "admin")
    _publish_flow(admin, flow=FLOW)
    with speech_qc.uows() as uow:
        bj, sh = uow.branches.by_code("BJ"), uow.branches.by_code("SH")
    assert bj and sh
    r = admin.post("/api/v1/tasks", json={**CUSTOMER, "branch_id": bj.id})
    assert r.status_code == 201, r.text
    task_id = r.json()["id"]
    other = admin.post("/api/v1/tasks", json={**CUSTOMER, "business_no": "WM-2026-0002", "branch_id": bj.id})
    assert (
        admin.post(f"/api/v1/tasks/{other.json()['id']}/cancel", json={"reason": "客户取消"}).status_code
        == 200
    )

    video = MediaFactory(tmp_path / "media").recording()  # real Mandarin speech, the opening read
    make_user("teller_bj", "interviewer", "BJ-CY")
    make_user("teller_up", "interviewer", "BJ")
    make_user("teller_sh", "interviewer", "SH")
    make_user("checker", "qc_reviewer", "BJ")
    before = _count(speech_qc)

    # another branch's task, or no such task: not found, and nothing is stored
    sh_teller = _as(app_client, "teller_sh")
    assert _upload(sh_teller, video, task_id=task_id).status_code == 404
    assert _upload(sh_teller, video, task_id="00000000-0000-0000-0000-000000000000").status_code == 404
    # a sub-branch's teller does not see the branch's task either
    assert _upload(_as(app_client, "teller_bj"), video, task_id=task_id).status_code == 404
    # no upload permission at all
    assert _upload(_as(app_client, "checker"), video, task_id=task_id).status_code == 403
    teller = _as(app_client, "teller_up")
    # the task's data and flow apply: the uploader cannot replace them
    r = _upload(
        teller, video, task_id=task_id, task=json.dumps({"customer_name": "李四"}, ensure_ascii=False)
    )
    assert r.status_code == 422 and "customer_name" in r.text
    r = _upload(teller, video, task_id=task_id, flow=json.dumps(FLOW, ensure_ascii=False))
    assert r.status_code == 422
    r = _upload(teller, video, task_id=task_id, branch_id=str(sh.id))
    assert r.status_code == 422
    # a cancelled task takes no recording
    r = _upload(teller, video, task_id=other.json()["id"])
    assert r.status_code == 409 and "cancelled" in r.text
    assert _count(speech_qc) == before

    r = _upload(teller, video, task_id=task_id)
    assert r.status_code == 202, r.text
    rec = r.json()
    assert rec["task_id"] == task_id and rec["running_no"] == CUSTOMER["business_no"]
    assert rec["branch_id"] == bj.id
    task = admin.get(f"/api/v1/tasks/{task_id}").json()
    assert task["status"] == "qc" and task["attempts"][0]["recording_id"] == rec["id"]
    # the attempt has its recording: a second upload is refused (a reset starts a new attempt)
    again = _upload(teller, video, task_id=task_id)
    assert again.status_code == 409 and again.json()["task_status"] == "qc", again.text
    assert _count(speech_qc) == before + 1

    deadline = time.monotonic() + 600
    done: dict[str, Any] = {}
    while time.monotonic() < deadline:
        done = teller.get(f"/api/v1/recordings/{rec['id']}").json()
        if done["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert done.get("status") == "done", done
    report = teller.get(f"/api/v1/recordings/{rec['id']}/report").json()
    checks = {c["id"]: c for c in report["checks"]}
    # the task's flow was used: the script and answer checks ran (not "not_run: no flow")
    assert checks["script_coverage"]["status"] == "passed", checks["script_coverage"]
    assert checks["answers"]["status"] in ("passed", "failed"), checks["answers"]
    assert {n["node_id"] for n in report["nodes"]} >= {"open"}
    with speech_qc.uows() as uow:
        stored = uow.recordings.get(rec["id"])
    assert stored is not None
    assert [n["id"] for n in stored.inputs["flow"]["nodes"]] == ["open", "q1", "end"]
    assert stored.inputs["task"]["id_number"] == CUSTOMER["id_number"]  # from the task, for the ID checks
    # the QC result moved the task
    deadline = time.monotonic() + 60
    status = ""
    while time.monotonic() < deadline and status not in ("passed", "review", "failed"):
        status = admin.get(f"/api/v1/tasks/{task_id}").json()["status"]
        time.sleep(0.3)
    assert status == {"PASS": "passed", "REVIEW": "review", "FAIL": "failed"}[done["verdict"]]


def test_an_upload_without_a_task_may_name_a_published_flow(
    app_client: TestClient, speech_qc: Container, tmp_path: Path
) -> None:
    admin = _as(app_client, "admin")
    _publish_flow(admin, code="counter-flow", flow=FLOW)
    video = MediaFactory(tmp_path / "media").recording()
    customer = json.dumps({"running_no": "RN-77", "customer_name": "张三"}, ensure_ascii=False)
    r = _upload(admin, video, task=customer, flow_code="counter-flow")
    assert r.status_code == 202, r.text
    with speech_qc.uows() as uow:
        stored = uow.recordings.get(r.json()["id"])
    assert stored is not None and [n["id"] for n in stored.inputs["flow"]["nodes"]] == ["open", "q1", "end"]
    assert _upload(admin, video, task=customer, flow_code="no-such-flow").status_code == 422
