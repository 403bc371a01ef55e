"""The shared desk of a remote interview through the API (no Janus needed: the channel is dualrec's
own): the interviewer who took the customer shows a document page and marks it, the customer's link
sees the same state; another attempt's link, another interviewer, another branch and a customer
posting the interviewer's events are refused; too many or malformed marks are refused; the
customer sees only the page being shown; the signature is accepted only when asked for and is
stored as a signed PDF; no link token reaches a log line."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dualrec.bootstrap.container import Container
from dualrec.core.tasks import TaskStatus
from dualrec.services.rtc import desk_share
from dualrec.services.tasks.documents import DocumentRef, read_document
from dualrec.settings import Settings
from tests.conftest import PASSWORD, login, make_settings
from tests.document_factory import make_pdf, signature_png
from tests.integration.test_flows_tasks_api import CUSTOMER, Signed, admin, system
from tests.integration.test_rtc_queue import _setup

__all__ = ["admin", "system"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", rtc_enabled=True, rtc_managed=False)


@pytest.fixture
def clients(app_client: TestClient, make_user: Any) -> Iterator[dict[str, TestClient]]:
    make_user("desk_bj", "interviewer", "BJ")
    make_user("desk_bj2", "interviewer", "BJ")
    make_user("desk_sh", "interviewer", "SH")
    yield {
        "agent": login(TestClient(app_client.app), "desk_bj", PASSWORD),
        "agent2": login(TestClient(app_client.app), "desk_bj2", PASSWORD),
        "other_branch": login(TestClient(app_client.app), "desk_sh", PASSWORD),
        "customer": TestClient(app_client.app),
    }


def _task(system: Signed, business_no: str, pages: int = 2) -> tuple[str, str]:
    doc = {
        "name": "产品说明书.pdf",
        "action": "sign",
        "content_base64": base64.b64encode(make_pdf(pages)).decode(),
    }
    body = {**CUSTOMER, "business_no": business_no, "callback_url": "", "documents": [doc]}
    r = system.call("POST", "/api/v1/tasks", body)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]


def _in_call(clients: dict[str, TestClient], link: str) -> None:
    assert clients["customer"].post(f"/api/v1/rtc/entry/{link}/queue").status_code == 200
    taken = clients["agent"].post("/api/v1/rtc/queue/accept-next")
    assert taken.status_code == 200, taken.text


def test_the_shared_page_and_its_marks_reach_only_the_parties_of_the_call(
    clients: dict[str, TestClient],
    system: Signed,
    admin: TestClient,
    container: Container,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _setup(admin)
    agent, customer = clients["agent"], clients["customer"]
    task_id, link = _task(system, "WM-DESK-1")
    other_id, other_link = _task(system, "WM-DESK-2")
    desk = f"/api/v1/rtc/tasks/{task_id}/desk"

    # before the interviewer took the customer there is no call to share anything in
    assert (
        agent.post(f"{desk}/events", json={"kind": "doc.show", "document": 0, "page": 0}).status_code == 409
    )
    assert customer.get(f"/api/v1/rtc/entry/{link}/desk/state").status_code == 409
    _in_call(clients, link)

    # the agent sees every page of the task's documents; shows page 2 and marks it
    img = agent.get(f"/api/v1/rtc/tasks/{task_id}/documents/0/pages/1.jpg")
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    assert Image.open(BytesIO(img.content)).width == 960
    r = agent.post(f"{desk}/events", json={"kind": "doc.show", "document": 0, "page": 1})
    assert r.status_code == 200, r.text
    marks = [
        {"kind": "highlight", "x": 0.1, "y": 0.2, "w": 0.5, "h": 0.04},
        {"kind": "underline", "x": 0.1, "y": 0.3, "w": 0.6, "h": 0.02},
    ]
    r = agent.post(f"{desk}/events", json={"kind": "doc.marks", "document": 0, "page": 1, "marks": marks})
    assert r.status_code == 200, r.text

    # the customer's link sees the same page, its marks, and may load that page (and only that one)
    seen = customer.get(f"/api/v1/rtc/entry/{link}/desk/state").json()
    assert (seen["document"], seen["page"], seen["pages"], seen["name"]) == (0, 1, 2, "产品说明书.pdf")
    assert [m["kind"] for m in seen["marks"]] == ["highlight", "underline"] and seen["marks"][0]["w"] == 0.5
    assert customer.get(f"/api/v1/rtc/entry/{link}/documents/0/pages/1.jpg").status_code == 200
    assert customer.get(f"/api/v1/rtc/entry/{link}/documents/0/pages/0.jpg").status_code == 403
    # …and confirms its page shows it (the customer's only event)
    ok = customer.post(
        f"/api/v1/rtc/entry/{link}/desk/events", json={"kind": "seen", "document": 0, "page": 1}
    )
    assert ok.status_code == 200 and ok.json()["seen"]["page"] == 1
    assert agent.get(f"{desk}/state").json()["seen"]["page"] == 1

    # the customer cannot drive the desk: every interviewer event is refused (403), nothing stored
    for body in (
        {"kind": "doc.show", "document": 0, "page": 0},
        {"kind": "doc.marks", "document": 0, "page": 1, "marks": []},
        {"kind": "screen", "on": True},
        {"kind": "sign.request", "document": 0},
    ):
        r = customer.post(f"/api/v1/rtc/entry/{link}/desk/events", json=body)
        assert r.status_code == 403, (body, r.text)
    assert customer.get(f"/api/v1/rtc/entry/{link}/desk/state").json()["seq"] == ok.json()["seq"]

    # another attempt's link sees nothing of this call (its own has none), a forged link is 401;
    # another interviewer of the branch is not in this call (409), another branch's is 404
    assert customer.get(f"/api/v1/rtc/entry/{other_link}/desk/state").status_code == 409
    assert customer.get(f"/api/v1/rtc/entry/{other_link}/documents/0/pages/1.jpg").status_code == 409
    assert customer.get(f"/api/v1/rtc/entry/{link[:-4]}AAAA/desk/state").status_code == 401
    assert clients["agent2"].get(f"{desk}/state").status_code == 409
    assert clients["agent2"].post(f"{desk}/events", json={"kind": "doc.close"}).status_code == 409
    assert clients["other_branch"].get(f"{desk}/state").status_code == 404
    assert (
        clients["other_branch"].get(f"/api/v1/rtc/tasks/{task_id}/documents/0/pages/0.jpg").status_code == 404
    )
    assert agent.get(f"/api/v1/rtc/tasks/{other_id}/desk/state").status_code == 409

    # bad input: too many marks, a mark off the page, an unknown kind, a page that does not exist,
    # marks for a page not shown — refused with a clear error, the state unchanged
    before = agent.get(f"{desk}/state").json()
    too_many = [{"kind": "highlight", "x": 0.0, "y": 0.0, "w": 0.1, "h": 0.01}] * (desk_share.MAX_MARKS + 1)
    r = agent.post(f"{desk}/events", json={"kind": "doc.marks", "document": 0, "page": 1, "marks": too_many})
    assert r.status_code == 422 and "50" in r.json()["detail"]
    off_page = [{"kind": "highlight", "x": 0.8, "y": 0.1, "w": 0.5, "h": 0.1}]
    assert (
        agent.post(
            f"{desk}/events", json={"kind": "doc.marks", "document": 0, "page": 1, "marks": off_page}
        ).status_code
        == 422
    )
    assert agent.post(f"{desk}/events", json={"kind": "marks.delete"}).status_code == 422
    assert (
        agent.post(f"{desk}/events", json={"kind": "doc.show", "document": 0, "page": 2}).status_code == 404
    )
    assert (
        agent.post(
            f"{desk}/events", json={"kind": "doc.marks", "document": 0, "page": 0, "marks": []}
        ).status_code
        == 409
    )
    assert (
        agent.post(f"{desk}/events", json={"kind": "doc.show", "document": 0, "page": 0, "x": 1}).status_code
        == 422
    )
    assert agent.get(f"{desk}/state").json() == before

    # the events are kept for the call's evidence (party, kind, time)
    with container.uows() as uow:
        task = uow.tasks.get(task_id)
        assert task is not None
        kinds = [(e.party, e.kind) for e in uow.rtc.desk_events(task_id, task.attempt_no)]
    assert kinds == [("agent", "doc.show"), ("agent", "doc.marks"), ("customer", "seen")]

    # no customer link token in any of the server's log lines (the test client's own httpx lines
    # are the caller's, not the server's)
    server_lines = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert any("/desk/state" in line for line in server_lines)
    assert not [line for line in server_lines if link in line or other_link in line]


def test_a_flood_of_events_is_throttled(
    clients: dict[str, TestClient], system: Signed, admin: TestClient, container: Container
) -> None:
    _setup(admin)
    task_id, link = _task(system, "WM-DESK-3")
    _in_call(clients, link)
    clock = {"now": 1000.0}
    assert container.rtc is not None and container.rtc.desk is not None
    container.rtc.desk._rate.clock = lambda: clock["now"]

    def burst(n: int) -> list[int]:
        url = f"/api/v1/rtc/tasks/{task_id}/desk/events"
        return [
            clients["agent"].post(url, json={"kind": "screen", "on": i % 2 == 0}).status_code
            for i in range(n)
        ]

    burst_size = int(desk_share.RATE_BURST)
    codes = burst(burst_size + 3)
    assert codes == [200] * burst_size + [429] * 3
    clock["now"] += 1.0  # a second later: RATE_PER_SECOND more
    assert burst(int(desk_share.RATE_PER_SECOND) + 1) == [200] * int(desk_share.RATE_PER_SECOND) + [429]


def test_the_customer_signs_only_what_was_asked_and_the_signed_pdf_is_stored(
    clients: dict[str, TestClient], system: Signed, admin: TestClient, container: Container
) -> None:
    _setup(admin)
    agent, customer = clients["agent"], clients["customer"]
    task_id, link = _task(system, "WM-DESK-4", pages=1)
    _in_call(clients, link)
    sign = f"/api/v1/rtc/entry/{link}/desk/signature"
    png = signature_png()

    # nothing asked yet: refused
    assert customer.post(sign, params={"document": 0}, content=png).status_code == 409
    r = agent.post(f"/api/v1/rtc/tasks/{task_id}/desk/events", json={"kind": "sign.request", "document": 0})
    assert r.status_code == 200 and r.json()["sign_request"] == 0
    # the page of the document to sign is the customer's to read
    assert customer.get(f"/api/v1/rtc/entry/{link}/documents/0/pages/0.jpg").status_code == 200
    # an empty signature is refused, the request stays open
    blank = signature_png(points=[])
    assert customer.post(sign, params={"document": 0}, content=blank).status_code == 422
    too_big = b"\x89PNG" + b"\0" * (2 * 1024 * 1024 + 10)
    assert customer.post(sign, params={"document": 0}, content=too_big).status_code in (413, 422)
    done = customer.post(sign, params={"document": 0}, content=png)
    assert done.status_code == 200, done.text
    state = done.json()
    assert state["sign_request"] is None and len(state["signed"]) == 1
    assert state["signed"][0]["name"].endswith(".pdf") and "blob_key" not in state["signed"][0]
    # the desk sees it arrive; a second signature is refused (nothing asked any more)
    assert agent.get(f"/api/v1/rtc/tasks/{task_id}/desk/state").json()["signed"] == state["signed"]
    assert customer.post(sign, params={"document": 0}, content=png).status_code == 409

    # stored as self-service stores it: a new PDF blob with the signature stamped in
    with container.uows() as uow:
        task = uow.tasks.get(task_id)
        assert task is not None
        signed = desk_share.signed_documents(uow.rtc.desk_events(task_id, task.attempt_no))
    assert len(signed) == 1
    original = DocumentRef.from_dict(task.documents[0])
    with container.blobs.open(signed[0]["blob_key"]) as fh:
        data = fh.read()
    assert data[:5] == b"%PDF-" and signed[0]["sha256"] == state["signed"][0]["sha256"]
    assert signed[0]["sha256"] != original.sha256
    assert len(data) > len(read_document(container.blobs, original))  # the signature image is in it


def test_the_task_page_opens_each_signed_document_as_stored(
    clients: dict[str, TestClient], system: Signed, admin: TestClient, container: Container
) -> None:
    _setup(admin)
    task_id, link = _task(system, "WM-DESK-5", pages=1)
    _in_call(clients, link)
    r = clients["agent"].post(
        f"/api/v1/rtc/tasks/{task_id}/desk/events", json={"kind": "sign.request", "document": 0}
    )
    assert r.status_code == 200, r.text
    done = clients["customer"].post(
        f"/api/v1/rtc/entry/{link}/desk/signature", params={"document": 0}, content=signature_png()
    )
    assert done.status_code == 200, done.text
    with container.uows() as uow:
        task = uow.tasks.get(task_id)
        assert task is not None
        signed = desk_share.signed_documents(uow.rtc.desk_events(task_id, task.attempt_no))
        result = {"signed_documents": [{k: d[k] for k in ("name", "sha256", "blob_key")} for d in signed]}
        container.tasks.session_transition(uow, task_id, task.attempt_no, TaskStatus.QC)
        container.tasks.session_transition(uow, task_id, task.attempt_no, TaskStatus.PASSED, result=result)
        uow.commit()
    url = f"/api/v1/tasks/{task_id}/attempts/{task.attempt_no}/signed-documents/0"
    with container.blobs.open(signed[0]["blob_key"]) as fh:
        stored = fh.read()

    got = admin.get(url)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf" and got.content == stored
    assert "inline" in got.headers["content-disposition"]
    # the link's own task only, in the reader's branch
    assert clients["other_branch"].get(url).status_code == 404
    assert TestClient(admin.app).get(url).status_code == 401
    assert admin.get(url.replace("/signed-documents/0", "/signed-documents/1")).status_code == 404
    assert admin.get(url.replace(f"/attempts/{task.attempt_no}/", "/attempts/9/")).status_code == 404
    # a stored document that no longer matches the SHA-256 recorded for the attempt is refused
    other = container.blobs.put(BytesIO(b"%PDF-1.4 not the signed one"), content_type="application/pdf")
    with container.uows() as uow:
        container.tasks.session_transition(
            uow,
            task_id,
            task.attempt_no,
            TaskStatus.PASSED,
            result={"signed_documents": [{**result["signed_documents"][0], "blob_key": other.key}]},
        )
        uow.commit()
    tampered = admin.get(url, headers={"Accept-Language": "en"})
    assert tampered.status_code == 409 and "SHA-256" in tampered.json()["detail"]


def test_the_customers_held_request_brings_the_agents_change_at_once(
    clients: dict[str, TestClient], system: Signed, admin: TestClient
) -> None:
    """Both pages ask with the seq they show and ``wait``: the answer comes as soon as the desk
    changes (not at the end of the wait, not on the next poll); without a change, after ``wait`` with
    the same seq; a page that is behind (an older seq) is answered at once."""
    import threading
    import time

    _setup(admin)
    agent, customer = clients["agent"], clients["customer"]
    task_id, link = _task(system, "WM-DESK-HOLD")
    _in_call(clients, link)
    desk = f"/api/v1/rtc/tasks/{task_id}/desk"
    state = f"/api/v1/rtc/entry/{link}/desk/state"
    seq = customer.get(state).json()["seq"]
    assert customer.get(state, params={"after": seq, "wait": 11}).status_code == 422

    started = time.monotonic()
    same = customer.get(state, params={"after": seq, "wait": 1.2})
    assert same.status_code == 200 and same.json()["seq"] == seq
    assert 1.1 <= time.monotonic() - started < 5
    # the page is behind (it shows an older seq): answered at once
    started = time.monotonic()
    assert (
        agent.post(f"{desk}/events", json={"kind": "doc.show", "document": 0, "page": 0}).status_code == 200
    )
    behind = customer.get(state, params={"after": seq, "wait": 8})
    assert behind.json()["seq"] > seq and time.monotonic() - started < 2
    seq = behind.json()["seq"]

    answer: dict[str, Any] = {}

    def held() -> None:
        r = TestClient(customer.app).get(state, params={"after": seq, "wait": 8})
        answer.update(r.json(), at=time.monotonic())

    waiter = threading.Thread(target=held)
    waiter.start()
    time.sleep(1.2)
    turned = agent.post(f"{desk}/events", json={"kind": "doc.show", "document": 0, "page": 1})
    assert turned.status_code == 200, turned.text
    posted = time.monotonic()
    waiter.join(timeout=10)
    assert answer["page"] == 1 and answer["seq"] == turned.json()["seq"], answer
    assert answer["at"] - posted < 1.0, answer  # at once, not at the end of the 8 s

    # the agent's side holds the same way
    mine: dict[str, Any] = {}

    def agent_held() -> None:
        r = agent.get(f"{desk}/state", params={"after": answer["seq"], "wait": 8})
        mine.update(r.json(), at=time.monotonic())

    waiter = threading.Thread(target=agent_held)
    waiter.start()
    time.sleep(1.2)
    assert (
        customer.post(
            f"/api/v1/rtc/entry/{link}/desk/events", json={"kind": "seen", "document": 0, "page": 1}
        ).status_code
        == 200
    )
    seen_at = time.monotonic()
    waiter.join(timeout=10)
    assert mine["seen"]["page"] == 1 and mine["at"] - seen_at < 1.0, mine
