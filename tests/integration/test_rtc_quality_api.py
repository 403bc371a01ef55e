"""The call-quality reports of a remote interview (SPEC §8) through the API: each participant
reports only as itself (agent: console session with interview:conduct in branch scope; customer:
the attempt's link token), the answer scores the report and carries the other party's last score,
bodies are small, strict and bounded, reports are rate limited, nothing of them lands in the log.
No Janus needed (no media; DUALREC_RTC_MANAGED=false)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container
from dualrec.core.tasks import TaskStatus
from dualrec.services.identity.seed import seed_demo
from dualrec.settings import Settings
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login, make_settings
from tests.integration.test_flows_tasks_api import Signed, system
from tests.integration.test_rtc import _setup_flows, _task

__all__ = ["system"]

GOOD = {
    "width": 1280,
    "height": 720,
    "fps": 29.5,
    "video_kbps": 1500,
    "audio_kbps": 32,
    "loss_pct": 0.5,
    "jitter_ms": 8,
    "rtt_ms": 30,
    "freezes": 0,
    "freeze_s": 0,
    "concealed_pct": 0.2,
    "send_width": 1280,
    "send_height": 720,
    "send_fps": 30,
    "limitation": "none",
}
WEAK = {**GOOD, "width": 320, "height": 180, "fps": 8, "loss_pct": 30, "jitter_ms": 400, "rtt_ms": 600}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", rtc_enabled=True, rtc_managed=False)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build_container(settings, migrate=True)
    seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    yield c
    c.close()


@pytest.fixture
def app_client(settings: Settings, container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(settings, container=container)) as client:
        yield client


def _report(client: TestClient, url: str, body: Any, **kw: Any) -> Any:
    return client.post(url, json=body, **kw)


def test_each_party_reports_only_as_itself_and_the_desk_sees_both_scores(
    app_client: TestClient, system: Signed, make_user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = login(TestClient(app_client.app), "admin", ADMIN_PASSWORD)
    _setup_flows(admin)
    task_a, link_a = _task(system, "WM-Q-A")
    task_b, link_b = _task(system, "WM-Q-B")
    make_user("agent_bj", "interviewer", "BJ")
    make_user("agent_sh", "interviewer", "SH")
    make_user("auditor_bj", "auditor", "BJ")
    agent = login(TestClient(app_client.app), "agent_bj", PASSWORD)
    customer = TestClient(app_client.app)  # the link token is its only credential

    # the customer's browser receives a weak picture and sound: scored under the §8 minimum
    r = customer.post(f"/api/v1/rtc/entry/{link_a}/quality", json=WEAK)
    assert r.status_code == 200, r.text
    own = r.json()["own"]
    assert own["role"] == "customer" and own["grade"] == "D" and own["mos"] < 3
    assert own["below"] == ["audio", "video"] and r.json()["peer"] is None
    assert r.json()["min_mos"] == 3.0 and r.json()["min_grade"] == "C"

    # the agent's browser receives a good call; its answer carries the customer's last score
    r = agent.post(f"/api/v1/rtc/tasks/{task_a}/quality", json=GOOD)
    assert r.status_code == 200, r.text
    assert r.json()["own"]["grade"] == "A" and r.json()["own"]["mos"] > 4 and r.json()["own"]["below"] == []
    assert r.json()["peer"]["role"] == "customer" and r.json()["peer"]["below"] == ["audio", "video"]
    latest = agent.get(f"/api/v1/rtc/tasks/{task_a}/quality").json()["parties"]
    assert {p["role"]: p["grade"] for p in latest} == {"agent": "A", "customer": "D"}

    # customer B's link reports into B's call only; A's series is untouched
    assert customer.post(f"/api/v1/rtc/entry/{link_b}/quality", json=GOOD).status_code == 200
    assert agent.get(f"/api/v1/rtc/tasks/{task_b}/quality").json()["parties"][0]["role"] == "customer"
    assert {p["grade"] for p in agent.get(f"/api/v1/rtc/tasks/{task_a}/quality").json()["parties"]} == {
        "A",
        "D",
    }

    # forged links 401; another branch's agent 404; a role without interview:conduct 403
    assert customer.post("/api/v1/rtc/entry/forged-link-token-xxxx/quality", json=GOOD).status_code == 401
    other = login(TestClient(app_client.app), "agent_sh", PASSWORD)
    assert other.post(f"/api/v1/rtc/tasks/{task_a}/quality", json=GOOD).status_code == 404
    assert other.get(f"/api/v1/rtc/tasks/{task_a}/quality").status_code == 404
    auditor = login(TestClient(app_client.app), "auditor_bj", PASSWORD)
    assert auditor.post(f"/api/v1/rtc/tasks/{task_a}/quality", json=GOOD).status_code == 403
    assert (
        TestClient(app_client.app)
        .post(f"/api/v1/rtc/tasks/{task_a}/quality", json=GOOD, headers={"X-Requested-With": "dualrec"})
        .status_code
        == 401
    )

    # more than one report a second from one party: 429, and nothing stored
    first = customer.post(f"/api/v1/rtc/entry/{link_b}/quality", json=WEAK)
    second = customer.post(f"/api/v1/rtc/entry/{link_b}/quality", json=WEAK)
    assert (first.status_code, second.status_code) in ((200, 429), (429, 429)), (first.text, second.text)
    stored = agent.get(f"/api/v1/rtc/tasks/{task_b}/quality").json()["parties"]
    assert [p["grade"] for p in stored] == ["D" if first.status_code == 200 else "A"]

    # nothing of the reports or the link token in the server's log (the test client's own httpx
    # lines are not the server's)
    server = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("dualrec", "uvicorn", "fastapi"))
    )
    assert "/api/v1/rtc/entry/[token:" in server
    assert link_a not in server and link_b not in server
    assert "1280" not in server and "loss_pct" not in server


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({**GOOD, "extra": "x" * 5000}, 413),  # over 4 KB
        ({**GOOD, "note": "hello"}, 422),  # unknown field
        ({**GOOD, "loss_pct": 101}, 422),
        ({**GOOD, "width": -1}, 422),
        ({**GOOD, "fps": "fast"}, 422),
        ({**GOOD, "limitation": "evil"}, 422),
        ({**GOOD, "rtt_ms": 1e308}, 422),
        ([GOOD], 422),
    ],
)
def test_bad_reports_are_refused_and_store_nothing(
    app_client: TestClient, system: Signed, body: Any, status: int
) -> None:
    admin = login(TestClient(app_client.app), "admin", ADMIN_PASSWORD)
    _setup_flows(admin)
    task, link = _task(system, "WM-Q-BAD")
    customer = TestClient(app_client.app)
    r = customer.post(f"/api/v1/rtc/entry/{link}/quality", json=body)
    assert r.status_code == status, r.text
    assert admin.get(f"/api/v1/rtc/tasks/{task}/quality").json()["parties"] == []


def test_malformed_json_and_a_finished_call_are_refused(
    app_client: TestClient, system: Signed, container: Container
) -> None:
    admin = login(TestClient(app_client.app), "admin", ADMIN_PASSWORD)
    _setup_flows(admin)
    task, link = _task(system, "WM-Q-END")
    customer = TestClient(app_client.app)
    r = customer.post(
        f"/api/v1/rtc/entry/{link}/quality",
        content=b'{"width": 12',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    r = customer.post(
        f"/api/v1/rtc/entry/{link}/quality", content=b"", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422, r.text
    with container.uows() as uow:  # the call ended: the task is in QC
        t = uow.tasks.get(task)
        assert t is not None
        container.tasks.session_transition(uow, task, t.attempt_no, TaskStatus.QC)
        uow.commit()
    r = customer.post(f"/api/v1/rtc/entry/{link}/quality", json=GOOD, headers={"Accept-Language": "en"})
    assert r.status_code == 409 and "qc" in r.json()["detail"], r.text
    assert admin.post(f"/api/v1/rtc/tasks/{task}/quality", json=GOOD).status_code == 409
