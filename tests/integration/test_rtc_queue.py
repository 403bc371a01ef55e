"""The interviewer queue through the API (no Janus needed: nobody joins a room here): VIP first,
position and estimated wait for the customer, accept next / a specific one, skill groups, branch
scope (another branch's entries: 404), roles (403), abandonment and timeout (customer told, task
status, audit), the desk's masked data and the node marks (打点)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.core.tasks import TaskStatus
from dualrec.settings import Settings
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login, make_settings
from tests.integration.test_flows_tasks_api import CUSTOMER, Signed, system

__all__ = ["system"]

FLOW: dict[str, Any] = {
    "mode": "human",
    "nodes": [
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险告知",
            "script": "本产品不保本，投资有风险。",
            "required_statements": ["不保本"],
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # the queue works without Janus; Janus is not started (managed off) and no room is created
    return make_settings(tmp_path / "data", rtc_enabled=True, rtc_managed=False)


def _setup(admin: TestClient) -> None:
    r = admin.post(
        "/api/v1/flows",
        json={"code": "wm-remote", "name": "远程", "business_type": "wealth", "definition": FLOW},
    )
    assert r.status_code == 201, r.text
    assert admin.post("/api/v1/flows/wm-remote/publish", json={}).status_code == 201
    rules = [{"name": "人工", "priority": 10, "flow_code": "wm-remote", "mode": "human"}]
    assert admin.put("/api/v1/routing-rules", json={"rules": rules}).status_code == 200


def _task(system: Signed, business_no: str, customer_type: str = "personal") -> tuple[str, str]:
    body = {**CUSTOMER, "business_no": business_no, "customer_type": customer_type, "callback_url": ""}
    r = system.call("POST", "/api/v1/tasks", body)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]


def _age(container: Container, task_id: str, **delta: timedelta) -> None:
    """Moves an entry's clocks back (what waiting that long would do)."""
    with container.uows() as uow:
        task = uow.tasks.get(task_id)
        assert task is not None
        e = uow.rtc.entry(task_id, task.attempt_no)
        assert e is not None
        fields = {k: getattr(e, k).replace(tzinfo=UTC) - d for k, d in delta.items()}
        uow.rtc.update_entry(e.id, **fields)
        uow.commit()


@pytest.fixture
def clients(app_client: TestClient, make_user: Any) -> Iterator[dict[str, TestClient]]:
    make_user("agent_bj", "interviewer", "BJ")
    make_user("agent_bj2", "interviewer", "BJ")
    make_user("agent_sh", "interviewer", "SH")
    make_user("auditor_bj", "auditor", "BJ")
    yield {
        "admin": login(TestClient(app_client.app), "admin", ADMIN_PASSWORD),
        "agent": login(TestClient(app_client.app), "agent_bj", PASSWORD),
        "agent2": login(TestClient(app_client.app), "agent_bj2", PASSWORD),
        "other_branch": login(TestClient(app_client.app), "agent_sh", PASSWORD),
        "auditor": login(TestClient(app_client.app), "auditor_bj", PASSWORD),
        "customer": TestClient(app_client.app),  # the link token is its only credential
    }


def test_vip_first_position_and_wait_accept_next_skills_scope_and_roles(
    clients: dict[str, TestClient], system: Signed, container: Container
) -> None:
    admin, agent, customer = clients["admin"], clients["agent"], clients["customer"]
    _setup(admin)
    task_a, link_a = _task(system, "WM-Q-A")
    task_v, link_v = _task(system, "WM-Q-V", customer_type="vip2")

    # the regular customer comes first: alone in the line, the default handling time as the wait
    a = customer.post(f"/api/v1/rtc/entry/{link_a}/queue").json()
    assert a == {"status": "waiting", "position": 1, "eta_seconds": 300, "agents_online": 0, "reason": ""}
    # the VIP comes later and goes ahead of them
    v = customer.post(f"/api/v1/rtc/entry/{link_v}/queue").json()
    assert (v["status"], v["position"]) == ("waiting", 1)
    a = customer.get(f"/api/v1/rtc/entry/{link_a}/queue").json()
    assert (a["position"], a["eta_seconds"]) == (2, 600)

    # two interviewers open their queue page: online; the wait is shared among them
    listing = agent.get("/api/v1/rtc/queue").json()
    assert clients["agent2"].get("/api/v1/rtc/queue").status_code == 200
    assert [(e["task_id"], e["position"], e["vip_level"]) for e in listing["entries"]] == [
        (task_v, 1, 2),
        (task_a, 2, 0),
    ]
    assert listing["entries"][0]["customer_name"] == "张*" and listing["entries"][0]["source"] == "routing"
    a = customer.get(f"/api/v1/rtc/entry/{link_a}/queue").json()
    assert (a["agents_online"], a["eta_seconds"]) == (2, 300)

    # another branch's interviewer sees none of it and cannot take it (404), a role without
    # interview:conduct is refused (403), an interviewer cannot set skill groups (403)
    assert clients["other_branch"].get("/api/v1/rtc/queue").json()["entries"] == []
    entry_a = listing["entries"][1]["id"]
    assert clients["other_branch"].post(f"/api/v1/rtc/queue/{entry_a}/accept").status_code == 404
    assert clients["other_branch"].post("/api/v1/rtc/queue/accept-next").status_code == 404
    assert clients["other_branch"].get(f"/api/v1/rtc/tasks/{task_a}/desk").status_code == 404
    for method, path in (
        ("GET", "/api/v1/rtc/queue"),
        ("POST", "/api/v1/rtc/queue/accept-next"),
        ("GET", f"/api/v1/rtc/tasks/{task_a}/desk"),
    ):
        denied = clients["auditor"].request(method, path)
        assert denied.status_code == 403 and "interview:conduct" in denied.text, (path, denied.text)
    agent_id = _user_id(admin, "agent_bj")
    assert agent.put(f"/api/v1/rtc/agents/{agent_id}/skills", json={"skill_groups": ["x"]}).status_code == 403

    # skill groups: an interviewer of another group does not get these customers
    r = admin.put(f"/api/v1/rtc/agents/{agent_id}/skills", json={"skill_groups": ["insurance"]})
    assert r.json() == {"user_id": agent_id, "skill_groups": ["insurance"]}
    assert agent.get("/api/v1/rtc/queue").json()["entries"] == []
    assert len(agent.get("/api/v1/rtc/queue", params={"all_groups": True}).json()["entries"]) == 2
    assert agent.post("/api/v1/rtc/queue/accept-next").status_code == 404
    assert agent.post(f"/api/v1/rtc/queue/{entry_a}/accept").status_code == 409
    assert (
        admin.put(f"/api/v1/rtc/agents/{agent_id}/skills", json={"skill_groups": ["wealth"]}).status_code
        == 200
    )

    # accept next: the VIP; the customer's page learns it, the other moves up
    taken = agent.post("/api/v1/rtc/queue/accept-next")
    assert taken.status_code == 200 and taken.json()["task_id"] == task_v, taken.text
    assert customer.get(f"/api/v1/rtc/entry/{link_v}/queue").json()["status"] == "accepted"
    assert customer.get(f"/api/v1/rtc/entry/{link_a}/queue").json()["position"] == 1
    # a second agent cannot take the same customer again
    again = clients["agent2"].post(f"/api/v1/rtc/queue/{taken.json()['id']}/accept")
    assert again.status_code == 409
    audit = admin.get("/api/v1/audit-events", params={"action": "rtc.accepted"}).json()["items"]
    assert [e["target_id"] for e in audit] == [task_v]

    # the desk: masked for the interviewer, clear for a role that may unmask; the flow's script
    desk = agent.get(f"/api/v1/rtc/tasks/{task_v}/desk").json()
    assert desk["task"]["id_number"] == "110105********002X" and desk["task"]["customer_name"] == "张*"
    assert desk["task"]["phone"] == "138****8000" and desk["task"]["vip_level"] == 2
    assert desk["nodes"][0] == {
        "id": "risk",
        "type": "risk_disclosure",
        "title": "风险告知",
        "script": "本产品不保本，投资有风险。",
        "compliance_points": ["不保本"],
        "questions": [],
    }
    assert desk["entry"]["status"] == "accepted" and desk["proofs"] == []
    assert admin.get(f"/api/v1/rtc/tasks/{task_v}/desk").json()["task"]["id_number"] == "11010519491231002X"

    # node marks only during the call, by the agent who took the customer, for nodes of the flow
    mark = {"node_id": "risk", "kind": "start"}
    assert agent.post(f"/api/v1/rtc/tasks/{task_v}/marks", json=mark).status_code == 409  # no call yet
    with container.uows() as uow:  # what joining the room does to the task (no Janus here)
        container.tasks.session_transition(uow, task_v, 1, TaskStatus.IN_PROGRESS)
        uow.commit()
    r = agent.post(f"/api/v1/rtc/tasks/{task_v}/marks", json=mark)
    assert r.status_code == 201 and r.json()["node_id"] == "risk", r.text
    assert (
        agent.post(f"/api/v1/rtc/tasks/{task_v}/marks", json={"node_id": "nope", "kind": "end"}).status_code
        == 422
    )
    assert (
        agent.post(f"/api/v1/rtc/tasks/{task_v}/marks", json={"node_id": "risk", "kind": "x"}).status_code
        == 422
    )
    assert clients["agent2"].post(f"/api/v1/rtc/tasks/{task_v}/marks", json=mark).status_code == 409
    assert clients["other_branch"].post(f"/api/v1/rtc/tasks/{task_v}/marks", json=mark).status_code == 404
    assert [m["kind"] for m in agent.get(f"/api/v1/rtc/tasks/{task_v}/desk").json()["marks"]] == ["start"]

    # the customer may not join the call before an agent took them
    assert customer.post(f"/api/v1/rtc/entry/{link_a}/join").status_code == 409


def _user_id(admin: TestClient, username: str) -> int:
    users = admin.get("/api/v1/users", params={"q": username}).json()["items"]
    return int(next(u["id"] for u in users if u["username"] == username))


def test_a_customer_who_leaves_or_goes_silent_is_abandoned_and_a_long_wait_times_out(
    clients: dict[str, TestClient], system: Signed, container: Container
) -> None:
    admin, customer = clients["admin"], clients["customer"]
    _setup(admin)
    task_a, link_a = _task(system, "WM-Q-L")
    task_b, link_b = _task(system, "WM-Q-S")
    task_c, link_c = _task(system, "WM-Q-T")
    for link in (link_a, link_b, link_c):
        assert customer.post(f"/api/v1/rtc/entry/{link}/queue").json()["status"] == "waiting"

    # A says it leaves; B's page stopped asking a minute ago
    left = customer.post(f"/api/v1/rtc/entry/{link_a}/queue/leave").json()
    assert left["status"] == "abandoned" and "离开" in left["reason"]
    _age(container, task_b, last_seen_at=timedelta(minutes=1))
    assert clients["agent"].get("/api/v1/rtc/queue").json()["entries"][0]["task_id"] == task_c
    assert customer.get(f"/api/v1/rtc/entry/{link_b}/queue").json()["status"] == "abandoned"
    # the link still works: back in the line, at the end
    back = customer.post(f"/api/v1/rtc/entry/{link_a}/queue").json()
    assert (back["status"], back["position"]) == ("waiting", 2)

    # C waited longer than the timeout: told so, the task expired (webhook), audited
    _age(container, task_c, enqueued_at=timedelta(hours=1))
    told = customer.get(f"/api/v1/rtc/entry/{link_c}/queue").json()
    assert told["status"] == "timeout" and "排队超时" in told["reason"]
    task = admin.get(f"/api/v1/tasks/{task_c}").json()
    assert task["status"] == "expired" and "排队超时" in task["attempts"][0]["reason"]
    assert customer.post(f"/api/v1/rtc/entry/{link_c}/queue").json()["status"] == "timeout"
    assert admin.get(f"/api/v1/tasks/{task_a}").json()["status"] == "created"  # leaving changes nothing
    actions = {
        a: [e["target_id"] for e in admin.get("/api/v1/audit-events", params={"action": a}).json()["items"]]
        for a in ("rtc.queue_abandoned", "rtc.queue_timeout")
    }
    assert sorted(actions["rtc.queue_abandoned"]) == sorted([task_a, task_b])
    assert actions["rtc.queue_timeout"] == [task_c]
    # forged links are refused; a self-service task has no queue
    assert customer.get("/api/v1/rtc/entry/forged-link-token-xxxx/queue").status_code == 401


def test_a_waiting_customer_hears_at_once_that_an_interviewer_took_the_call(
    clients: dict[str, TestClient], system: Signed, container: Container
) -> None:
    """The customer's page asks with ``wait``: the server holds the answer while the customer waits
    and answers as soon as the call is taken (no polling delay before the call starts); without a
    change it answers after ``wait`` with the place refreshed. A change made by another process (no
    in-process signal) is seen within about a second."""
    import threading
    import time

    admin, agent, customer = clients["admin"], clients["agent"], clients["customer"]
    _setup(admin)
    _task_a, link_a = _task(system, "WM-LP-A")
    task_b, link_b = _task(system, "WM-LP-B")
    assert customer.post(f"/api/v1/rtc/entry/{link_a}/queue").json()["status"] == "waiting"
    assert customer.post(f"/api/v1/rtc/entry/{link_b}/queue").json()["status"] == "waiting"
    assert customer.get(f"/api/v1/rtc/entry/{link_a}/queue", params={"wait": 11}).status_code == 422

    # nothing happens: held for the whole wait, then the place (a presence too)
    started = time.monotonic()
    quiet = customer.get(f"/api/v1/rtc/entry/{link_a}/queue", params={"wait": 1.5})
    assert quiet.status_code == 200 and quiet.json()["status"] == "waiting", quiet.text
    assert 1.4 <= time.monotonic() - started < 5

    # the interviewer takes A while A's page is waiting for an answer
    answer: dict[str, Any] = {}

    def held() -> None:
        t0 = time.monotonic()
        r = TestClient(customer.app).get(f"/api/v1/rtc/entry/{link_a}/queue", params={"wait": 8})
        answer.update(r.json(), seconds=time.monotonic() - t0, taken_at=time.monotonic())

    waiter = threading.Thread(target=held)
    waiter.start()
    time.sleep(1.2)
    taken = agent.post("/api/v1/rtc/queue/accept-next")
    assert taken.status_code == 200, taken.text
    accepted_at = time.monotonic()
    waiter.join(timeout=10)
    assert answer["status"] == "accepted", answer
    assert answer["taken_at"] - accepted_at < 1.0, answer  # not at the end of the 8 s wait

    # B is taken by another process (a direct database change, no signal here): seen within ~1 s
    def held_b() -> None:
        t0 = time.monotonic()
        r = TestClient(customer.app).get(f"/api/v1/rtc/entry/{link_b}/queue", params={"wait": 8})
        answer.update(r.json(), seconds=time.monotonic() - t0)

    answer.clear()
    waiter = threading.Thread(target=held_b)
    waiter.start()
    time.sleep(1.0)
    with container.uows() as uow:
        task = uow.tasks.get(task_b)
        assert task is not None
        e = uow.rtc.entry(task_b, task.attempt_no)
        assert e is not None
        uow.rtc.update_entry(e.id, status="accepted", accepted_by_name="另一台服务器")
        uow.commit()
    waiter.join(timeout=10)
    assert answer["status"] == "accepted" and answer["seconds"] < 3.5, answer


def test_one_link_cannot_pile_up_held_requests(
    clients: dict[str, TestClient], system: Signed, container: Container
) -> None:
    """At most ChangeSignals.MAX_HELD_PER_CALL requests of one call are held at once; more are
    answered at once (a page opened in a loop cannot tie up the server), and the count goes back."""
    import threading
    import time

    from dualrec.services.rtc.signals import ChangeSignals

    _setup(clients["admin"])
    _task_id, link = _task(system, "WM-LP-PILE")
    customer = clients["customer"]
    assert customer.post(f"/api/v1/rtc/entry/{link}/queue").json()["status"] == "waiting"
    held = ChangeSignals.MAX_HELD_PER_CALL
    took: list[float] = []

    def ask() -> None:
        t0 = time.monotonic()
        r = TestClient(customer.app).get(f"/api/v1/rtc/entry/{link}/queue", params={"wait": 4})
        assert r.status_code == 200
        took.append(time.monotonic() - t0)

    waiters = [threading.Thread(target=ask) for _ in range(held)]
    for w in waiters:
        w.start()
    time.sleep(1.0)  # all of them held now
    started = time.monotonic()
    extra = customer.get(f"/api/v1/rtc/entry/{link}/queue", params={"wait": 4})
    assert extra.status_code == 200 and extra.json()["status"] == "waiting"
    assert time.monotonic() - started < 2.0  # not held
    for w in waiters:
        w.join(timeout=15)
    assert len(took) == held and min(took) >= 3.5, took
    started = time.monotonic()
    customer.get(f"/api/v1/rtc/entry/{link}/queue", params={"wait": 1.5})
    assert time.monotonic() - started >= 1.4  # the slots were given back


def test_an_interviewer_who_pauses_is_not_counted_for_the_wait_until_back_or_taking_a_customer(
    clients: dict[str, TestClient], system: Signed
) -> None:
    """示忙/示闲: an interviewer on a break stays online but the customers' estimated wait no longer
    counts them; taking a customer (or 示闲) ends the break. Only interviewers may pause."""
    admin, agent, agent2, customer = (
        clients["admin"],
        clients["agent"],
        clients["agent2"],
        clients["customer"],
    )
    _setup(admin)
    _task_a, link_a = _task(system, "WM-AWAY-A")
    _task_b, link_b = _task(system, "WM-AWAY-B")
    customer.post(f"/api/v1/rtc/entry/{link_a}/queue")
    customer.post(f"/api/v1/rtc/entry/{link_b}/queue")
    assert agent2.get("/api/v1/rtc/queue").status_code == 200
    mine = agent.get("/api/v1/rtc/queue").json()
    assert (mine["agents_online"], mine["agents_away"], mine["away_since"]) == (2, 0, None)
    b = customer.get(f"/api/v1/rtc/entry/{link_b}/queue").json()
    assert (b["position"], b["agents_online"], b["eta_seconds"]) == (2, 2, 300)

    # agent2 goes on a break: one interviewer left for the line, the second customer waits longer
    paused = agent2.put("/api/v1/rtc/queue/away", json={"away": True})
    assert paused.status_code == 200, paused.text
    since = paused.json()["away_since"]
    assert since and (paused.json()["agents_online"], paused.json()["agents_away"]) == (1, 1)
    b = customer.get(f"/api/v1/rtc/entry/{link_b}/queue").json()
    assert (b["agents_online"], b["eta_seconds"]) == (1, 600)
    # the page polling on does not end the break, nor does saying it again move its start
    assert agent2.get("/api/v1/rtc/queue").json()["away_since"] == since
    assert agent2.put("/api/v1/rtc/queue/away", json={"away": True}).json()["away_since"] == since

    # 示闲: counted again
    back = agent2.put("/api/v1/rtc/queue/away", json={"away": False}).json()
    assert (back["away_since"], back["agents_online"], back["agents_away"]) == (None, 2, 0)
    b = customer.get(f"/api/v1/rtc/entry/{link_b}/queue").json()
    assert b["eta_seconds"] == 300

    # taking a customer while on a break ends it
    agent2.put("/api/v1/rtc/queue/away", json={"away": True})
    assert agent2.post("/api/v1/rtc/queue/accept-next").status_code == 200
    assert agent2.get("/api/v1/rtc/queue").json()["away_since"] is None

    # unknown fields and non-booleans refused; a role without interview:conduct cannot pause
    assert agent.put("/api/v1/rtc/queue/away", json={"away": True, "x": 1}).status_code == 422
    assert agent.put("/api/v1/rtc/queue/away", json={"away": "maybe"}).status_code == 422
    assert clients["auditor"].put("/api/v1/rtc/queue/away", json={"away": True}).status_code == 403
    assert clients["customer"].put("/api/v1/rtc/queue/away", json={"away": True}).status_code == 401
