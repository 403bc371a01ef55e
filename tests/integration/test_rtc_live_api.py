"""The live subtitles/alerts channel of a remote interview through the API (no Janus: the events are
written the way the call's live worker writes them, ``LiveEventService.record``): only the
interviewer who took the customer reads them and acknowledges alerts; another interviewer of the
same branch (403), another branch (404), a role without ``interview:conduct`` (403), the customer's
link (no console session: 401) read nothing. The long poll returns as soon as an event is stored.
What the worker sees of the call (its context) follows the interviewer's marks and the call's end."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.core.tasks import TaskStatus
from dualrec.services.rtc.live_rules import running_node
from dualrec.settings import Settings
from tests.conftest import make_settings
from tests.integration.test_flows_tasks_api import CUSTOMER, Signed, system
from tests.integration.test_rtc_queue import clients

__all__ = ["clients", "system"]

FLOW: dict[str, Any] = {
    "mode": "human",
    "nodes": [
        {"id": "risk", "type": "risk_disclosure", "title": "风险告知", "script": "本产品不保本。"},
        {
            "id": "ask",
            "type": "qa",
            "title": "风险确认",
            "script": "您是否知晓产品风险？",
            "expected_answers": [{"text": "是"}],
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", rtc_enabled=True, rtc_managed=False)


def _call(clients: dict[str, TestClient], system: Signed, container: Container) -> tuple[str, str]:
    admin = clients["admin"]
    r = admin.post(
        "/api/v1/flows",
        json={"code": "wm-live", "name": "远程", "business_type": "wealth", "definition": FLOW},
    )
    assert r.status_code == 201, r.text
    assert admin.post("/api/v1/flows/wm-live/publish", json={}).status_code == 201
    rules = [{"name": "人工", "priority": 10, "flow_code": "wm-live", "mode": "human"}]
    assert admin.put("/api/v1/routing-rules", json={"rules": rules}).status_code == 200
    body = {**CUSTOMER, "business_no": "WM-LIVE-1", "callback_url": ""}
    r = system.call("POST", "/api/v1/tasks", body)
    assert r.status_code == 201, r.text
    task_id, link = r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]
    assert clients["customer"].post(f"/api/v1/rtc/entry/{link}/queue").status_code == 200
    taken = clients["agent"].post("/api/v1/rtc/queue/accept-next")
    assert taken.status_code == 200 and taken.json()["task_id"] == task_id, taken.text
    with container.uows() as uow:  # what joining the room does to the task (no Janus here)
        container.tasks.session_transition(uow, task_id, 1, TaskStatus.IN_PROGRESS)
        uow.commit()
    return task_id, link


def test_only_the_interviewer_of_the_call_reads_and_acknowledges_its_live_events(
    clients: dict[str, TestClient], system: Signed, container: Container
) -> None:
    task_id, link = _call(clients, system, container)
    agent = clients["agent"]
    events = container.live_events
    assert events is not None
    url = f"/api/v1/rtc/tasks/{task_id}/live"

    # nothing yet: an empty answer (the long poll gives up after `wait`)
    started = time.monotonic()
    r = agent.get(url, params={"wait": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {"task_id": task_id, "attempt": 1, "enabled": False, "events": []}
    assert time.monotonic() - started >= 0.9

    # the long poll returns as soon as the worker stores a subtitle
    spoken = datetime.now(UTC)

    def later() -> None:
        time.sleep(0.8)
        events.record(
            task_id,
            1,
            "subtitle",
            speaker="customer",
            text="不是，我不知道",
            t_start=1.0,
            t_end=2.4,
            spoken_until=spoken,
        )

    threading.Thread(target=later).start()
    started = time.monotonic()
    r = agent.get(url, params={"wait": 10})
    waited = time.monotonic() - started
    assert 0.7 <= waited < 5, waited
    [sub] = r.json()["events"]
    assert (sub["kind"], sub["speaker"], sub["text"]) == ("subtitle", "customer", "不是，我不知道")
    assert datetime.fromisoformat(sub["spoken_until"]) == spoken

    alert_id = events.record(
        task_id,
        1,
        "alert",
        speaker="customer",
        code="contradiction",
        node_id="ask",
        text="不是，我不知道",
        reason="客户回答与“风险确认”的预期答案（是）不符 / the customer's answer contradicts",
    )
    r = agent.get(url, params={"after": sub["id"]})
    [alert] = r.json()["events"]
    assert (alert["id"], alert["code"], alert["acked_at"]) == (alert_id, "contradiction", None)

    # nobody else reads the channel or acknowledges its alerts
    ack = f"{url}/alerts/{alert_id}/ack"
    for who, status in (("agent2", 403), ("other_branch", 404), ("auditor", 403), ("customer", 401)):
        assert clients[who].get(url).status_code == status, who
        assert clients[who].post(ack).status_code == status, who
    # the customer's link token opens no such route
    assert clients["customer"].get(f"/api/v1/rtc/entry/{link}/live").status_code in (404, 405)
    assert clients["customer"].get(url, headers={"Authorization": f"Bearer {link}"}).status_code == 401

    # the interviewer acknowledges the alert (a subtitle or another task's event is no alert: 404)
    r = agent.post(ack)
    assert r.status_code == 200, r.text
    assert r.json()["acked_by"] and r.json()["acked_at"]
    assert agent.post(f"{url}/alerts/{sub['id']}/ack").status_code == 404
    assert agent.post(f"{url}/alerts/999999/ack").status_code == 404
    assert agent.get(url).json()["events"][1]["acked_at"] is not None  # kept with the call


def test_the_workers_view_of_the_call_follows_the_marks_and_the_end_of_the_call(
    clients: dict[str, TestClient], system: Signed, container: Container
) -> None:
    task_id, _link = _call(clients, system, container)
    events = container.live_events
    assert events is not None
    assert (task_id, 1) in events.active_calls()
    ctx = events.context(task_id, 1)
    assert ctx.active and ctx.flow is not None and "保本" in ctx.sensitive_words
    assert ctx.reference_key is None  # a human-routed task: no face verified before the call
    assert running_node(ctx.flow, ctx.marks) is None
    r = clients["agent"].post(f"/api/v1/rtc/tasks/{task_id}/marks", json={"node_id": "ask", "kind": "start"})
    assert r.status_code == 201, r.text
    ctx = events.context(task_id, 1)
    node = running_node(ctx.flow, ctx.marks) if ctx.flow else None
    assert node is not None and node.id == "ask"
    with container.uows() as uow:  # what the hang-up does to the queue entry (no Janus here)
        task = uow.tasks.get(task_id)
        assert task is not None
        container.rtc.queue.on_hang_up(uow, task)  # type: ignore[union-attr]
        uow.commit()
    assert (task_id, 1) not in events.active_calls()
    assert not events.context(task_id, 1).active
