"""Flows through the API (draft → review → publish → versions) and the business-system task API
(HMAC-signed, idempotent create, routing to the published version, masking, entry links)."""

from __future__ import annotations

import copy
import json
import secrets
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.core.auth_rules import sign_request
from dualrec.core.identity import ApiKey
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.identity.apikeys import create_api_key
from tests.conftest import ADMIN_PASSWORD, login

FLOW: dict[str, Any] = {
    "mode": "self_service",
    "nodes": [
        {"id": "id", "type": "identity", "title": "身份核实"},
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险告知",
            "script": "本产品为非保本浮动收益型产品。",
        },
        {
            "id": "q1",
            "type": "qa",
            "title": "自愿确认",
            "script": "您是否本人自愿购买本产品？",
            "expected_answers": ["是", "否"],
            "branches": {"是": "end", "否": "@handover"},
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}

CUSTOMER = {
    "customer_id": "C0001",
    "customer_name": "张三",
    "id_number": "11010519491231002X",
    "phone": "13800138000",
    "customer_type": "personal",
    "risk_level": "R3",
    "business_type": "wealth",
    "business_no": "WM-2026-0001",
    "contract_no": "HT-0001",
    "product": "稳健理财 1 号",
    "amount": "100000.00",
    "documents": [],
}


class Signed:
    """A business system calling the API with its key (every request signed with a fresh nonce)."""

    def __init__(self, client: TestClient, key: ApiKey) -> None:
        self.client, self.key = client, key

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        raw = b"" if body is None else json.dumps(body).encode()
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        h = {
            "X-Dualrec-Key": self.key.key_id,
            "X-Dualrec-Timestamp": ts,
            "X-Dualrec-Nonce": nonce,
            "X-Dualrec-Signature": sign_request(self.key.secret, method, path, "", ts, nonce, raw),
            "Content-Type": "application/json",
            **(headers or {}),
        }
        return self.client.request(method, path, content=raw, headers=h)


def _admin(container: Container) -> Actor:
    from dualrec.core.identity import Principal
    from dualrec.core.rbac import role_permissions

    with container.uows() as uow:
        hq = uow.branches.by_code("HQ")
    assert hq
    p = Principal("user", 1, "admin", "admin", hq.id, hq.path, role_permissions("admin"))
    return Actor(principal=p, meta=SYSTEM.meta)


@pytest.fixture
def admin(app_client: TestClient) -> TestClient:
    return login(app_client, "admin", ADMIN_PASSWORD)


@pytest.fixture
def system(app_client: TestClient, container: Container) -> Signed:
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ")
    assert bj
    key = create_api_key(
        container.uows,
        container.secretbox,
        actor=_admin(container),
        name="理财核心系统",
        branch_id=bj.id,
        business_types=["wealth"],
    )
    return Signed(TestClient(app_client.app), key)


def _publish_flow(
    admin: TestClient, code: str = "wm-sale", flow: dict[str, Any] | None = None
) -> dict[str, Any]:
    r = admin.post(
        "/api/v1/flows",
        json={"code": code, "name": "理财销售", "business_type": "wealth", "definition": flow or FLOW},
    )
    assert r.status_code == 201, r.text
    r = admin.post(f"/api/v1/flows/{code}/publish", json={})
    assert r.status_code == 201, r.text
    rules = [{"name": "理财默认", "priority": 100, "flow_code": code, "business_types": ["wealth"]}]
    assert admin.put("/api/v1/routing-rules", json={"rules": rules}).status_code == 200
    body: dict[str, Any] = r.json()
    return body


def test_draft_review_and_publish(admin: TestClient) -> None:
    bad = copy.deepcopy(FLOW)
    bad["nodes"][1]["script"] = "本产品保本保息，稳赚不赔。"
    bad["nodes"][2]["branches"] = {"是": "nowhere"}
    r = admin.post("/api/v1/flows", json={"code": "wm", "name": "理财", "definition": bad})
    assert r.status_code == 201
    view = r.json()
    assert {h["word"] for h in view["hits"]} == {"保本保息", "稳赚不赔"}
    assert any(p["where"] == "q1" and "nowhere" in p["message"] for p in view["problems"])
    # structural problems block publishing
    r = admin.post("/api/v1/flows/wm/publish", json={})
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "q1"
    bad["nodes"][2]["branches"] = {"是": "end", "否": "@handover"}
    r = admin.put("/api/v1/flows/wm", json={"name": "理财", "definition": bad})
    assert r.status_code == 200 and r.json()["problems"] == []
    # sensitive words block publishing without an override reason
    r = admin.post("/api/v1/flows/wm/publish", json={})
    assert r.status_code == 409 and {h["word"] for h in r.json()["hits"]} == {"保本保息", "稳赚不赔"}
    # a stale review (someone saved meanwhile) is refused
    r = admin.post("/api/v1/flows/wm/publish", json={"override_reason": "x", "expected_sha256": "0" * 64})
    assert r.status_code == 409
    sha = admin.get("/api/v1/flows/wm").json()["draft_sha256"]
    r = admin.post(
        "/api/v1/flows/wm/publish",
        json={"override_reason": "引用监管原文，经合规确认", "expected_sha256": sha},
    )
    assert r.status_code == 201
    v1 = r.json()
    assert v1["version"] == 1 and v1["override_reason"] and len(v1["review_hits"]) == 2
    # nothing changed → nothing to publish
    assert admin.post("/api/v1/flows/wm/publish", json={}).status_code == 409
    # change a text → the draft shows the diff; v2 records it
    fixed = copy.deepcopy(bad)
    fixed["nodes"][1]["script"] = "本产品不保本，理财非存款，投资须谨慎。"
    view = admin.put("/api/v1/flows/wm", json={"name": "理财", "definition": fixed}).json()
    assert view["unpublished_changes"] and view["hits"] == []
    assert [(c["kind"], c["node_id"], c["field"]) for c in view["changes"]] == [("changed", "risk", "script")]
    v2 = admin.post("/api/v1/flows/wm/publish", json={}).json()
    assert v2["version"] == 2 and v2["changes"][0]["after"] == fixed["nodes"][1]["script"]
    versions = admin.get("/api/v1/flows/wm/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert (
        admin.get("/api/v1/flows/wm/versions/1")
        .json()["definition"]["nodes"][1]["script"]
        .startswith("本产品保本")
    )
    audit = admin.get("/api/v1/audit-events", params={"action": "flow.review_overridden"}).json()["items"]
    assert audit and audit[0]["details"]["reason"] == "引用监管原文，经合规确认"


def test_override_needs_the_permission(app_client: TestClient, make_user: Any, admin: TestClient) -> None:
    r = admin.post(
        "/api/v1/roles",
        json={
            "id": "flow_editor",
            "name_zh": "流程编辑",
            "name_en": "Flow editor",
            "permissions": ["flows:read", "flows:write", "flows:publish"],
        },
    )
    assert r.status_code == 201, r.text
    flow = copy.deepcopy(FLOW)
    flow["nodes"][1]["script"] = "保证收益。"
    assert (
        admin.post("/api/v1/flows", json={"code": "x1", "name": "x", "definition": flow}).status_code == 201
    )
    make_user("editor1", "flow_editor")
    editor = login(TestClient(app_client.app), "editor1")
    r = editor.post(
        "/api/v1/flows/x1/publish", json={"override_reason": "我说可以"}, headers={"Accept-Language": "en"}
    )
    assert r.status_code == 403 and "override_review" in r.json()["detail"]
    denied = admin.get("/api/v1/audit-events", params={"action": "flow.review_overridden"}).json()["items"]
    assert denied and denied[0]["outcome"] == "denied"


def test_business_system_creates_tasks(admin: TestClient, system: Signed) -> None:
    _publish_flow(admin)
    headers = {"Idempotency-Key": "order-42"}
    r = system.call("POST", "/api/v1/tasks", CUSTOMER, headers)
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["status"] == "created" and task["flow_code"] == "wm-sale" and task["flow_version"] == 1
    assert task["mode"] == "self_service" and task["attempt"] == 1
    assert task["entry_url"].startswith("http://") and "/h5/" in task["entry_url"]
    assert task["id_number"] == CUSTOMER["id_number"]  # the business system sent it; it sees it
    # the same request again (network retry) → the same task, not a second one
    again = system.call("POST", "/api/v1/tasks", CUSTOMER, headers)
    assert again.status_code == 200 and again.json()["id"] == task["id"] and again.json()["replayed"]
    assert again.json()["entry_url"] == task["entry_url"]
    # the same key with a different body is a conflict
    other = {**CUSTOMER, "amount": "1.00"}
    assert system.call("POST", "/api/v1/tasks", other, headers).status_code == 409
    # the key may only create its business types
    r = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "business_type": "insurance"})
    assert r.status_code == 422 and "business_type" in r.json()["fields"]
    # precise validation errors
    r = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "id_number": "110105194912310021"})
    assert r.status_code == 422 and "id_number" in r.json()["fields"]
    r = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "risk_level": "R9"})
    assert r.status_code == 422
    r = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "favourite_colour": "red"})
    assert r.status_code == 422
    # status
    r = system.call("GET", f"/api/v1/tasks/{task['id']}")
    assert r.status_code == 200 and r.json()["attempts"][0]["status"] == "created"
    # console users see personal data masked unless they may unmask
    seen = admin.get(f"/api/v1/tasks/{task['id']}").json()
    assert seen["id_number"] == CUSTOMER["id_number"]  # admin holds sensitive:unmask
    listed = admin.get("/api/v1/tasks", params={"business_no": "WM-2026-0001"}).json()
    assert listed["total"] == 1
    # ... except where a page asks for masked data whoever looks (the hand-over queue, a shared screen)
    masked = admin.get(f"/api/v1/tasks/{task['id']}", params={"masked": True}).json()
    assert masked["id_number"] == "110105********002X" and masked["phone"] == "138****8000"
    listed = admin.get("/api/v1/tasks", params={"business_no": "WM-2026-0001", "masked": True}).json()
    assert listed["items"][0]["id_number"] == "110105********002X"


def test_masking_for_roles_without_unmask(
    app_client: TestClient, admin: TestClient, system: Signed, make_user: Any
) -> None:
    _publish_flow(admin)
    task = system.call("POST", "/api/v1/tasks", CUSTOMER).json()
    make_user("iv1", "interviewer", "BJ")
    interviewer = login(TestClient(app_client.app), "iv1")
    seen = interviewer.get(f"/api/v1/tasks/{task['id']}").json()
    assert seen["id_number"] == "110105********002X" and seen["phone"] == "138****8000"


def test_running_task_keeps_its_version_and_entry_link(
    admin: TestClient, system: Signed, app_client: TestClient
) -> None:
    _publish_flow(admin)
    first = system.call("POST", "/api/v1/tasks", CUSTOMER).json()
    changed = copy.deepcopy(FLOW)
    changed["nodes"][1]["script"] = "第二版风险告知：本产品不保本。"
    admin.put(
        "/api/v1/flows/wm-sale", json={"name": "理财销售", "business_type": "wealth", "definition": changed}
    )
    assert admin.post("/api/v1/flows/wm-sale/publish", json={}).json()["version"] == 2
    second = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "business_no": "WM-2"}).json()
    assert (first["flow_version"], second["flow_version"]) == (1, 2)
    anonymous = TestClient(app_client.app)
    token = first["entry_url"].rsplit("/", 1)[1]
    entry = anonymous.get(f"/api/v1/entry/{token}")
    assert entry.status_code == 200
    body = entry.json()
    assert body["customer_name"] == "张*" and body["flow"]["nodes"][1]["script"] == FLOW["nodes"][1]["script"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert anonymous.get(f"/api/v1/entry/{forged}").status_code == 401


def test_no_route_or_unpublished_flow_is_a_clear_error(admin: TestClient, system: Signed) -> None:
    r = system.call("POST", "/api/v1/tasks", CUSTOMER)
    assert r.status_code == 422 and "规则" in r.json()["detail"]
    admin.post("/api/v1/flows", json={"code": "draft-only", "name": "x", "definition": FLOW})
    rules = [{"flow_code": "draft-only"}]
    assert admin.put("/api/v1/routing-rules", json={"rules": rules}).status_code == 200
    r = system.call("POST", "/api/v1/tasks", CUSTOMER, headers={"Accept-Language": "en"})
    assert r.status_code == 422 and "draft-only" in r.json()["detail"]
    assert admin.put("/api/v1/routing-rules", json={"rules": [{"flow_code": "nope"}]}).status_code == 422


def test_demo_content_is_valid_and_draws_by_risk_level(
    admin: TestClient, system: Signed, container: Container, app_client: TestClient
) -> None:
    from dualrec.core.flow_engine import Answer, Passed, advance, start
    from dualrec.core.questions import Draw, verify_draw
    from dualrec.services.flows.demo_content import seed_demo_content
    from dualrec.services.question_banks import service as question_banks
    from dualrec.services.tasks.service import attempt_flow

    assert seed_demo_content(container.uows) > 0
    assert seed_demo_content(container.uows) == 0  # idempotent
    for code in ("wm-sale", "ins-sale"):
        view = admin.get(f"/api/v1/flows/{code}").json()
        assert view["latest_version"] == 1 and view["problems"] == [] and view["hits"] == []
        assert not view["unpublished_changes"]
    counts = {}
    for risk in ("R1", "R3", "R4"):
        r = system.call(
            "POST", "/api/v1/tasks", {**CUSTOMER, "risk_level": risk, "business_no": f"WM-{risk}"}
        )
        assert r.status_code == 201, r.text
        task = r.json()
        assert task["flow_code"] == "wm-sale" and task["mode"] == "self_service"
        drawn = task["attempts"][0]["questions"]
        counts[risk] = len(drawn[0]["codes"])
        # the draw replays from its seed against the bank (what an auditor does)
        with container.uows() as uow:
            detail = container.tasks.get(actor=_admin(container), task_id=task["id"]).attempts[0].draws[0]
            draw = Draw(
                detail["bank"],
                detail["risk_level"],
                detail["seed"],
                detail["pool_digest"],
                tuple(detail["codes"]),
            )
            assert (
                verify_draw(
                    draw,
                    question_banks.bank_questions(uow, "wealth"),
                    question_banks.bank_rules(uow, "wealth"),
                )
                == []
            )
        # the customer's flow has one node per drawn question, and walking it with good answers completes
        token = task["entry_url"].rsplit("/", 1)[1]
        flow_json = TestClient(app_client.app).get(f"/api/v1/entry/{token}").json()["flow"]
        flow = attempt_flow(flow_json, [])
        assert [n.id for n in flow.nodes if n.id.startswith("fraud#")] == [
            f"fraud#{i + 1}" for i in range(counts[risk])
        ]
        state = start(flow)
        while not state.finished:
            node = flow.node(state.node_id or "")
            assert node is not None
            if node.needs_answer:
                state = advance(
                    flow, state, Answer(node.expected_answers[0].text if node.expected_answers else "是")
                )
            else:
                state = advance(flow, state, Passed())
        assert state.status == "completed", state.steps
    assert counts == {"R1": 1, "R3": 2, "R4": 3}
    # R5 wealth customers and elderly customers are routed to a human interview
    r = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "risk_level": "R5", "business_no": "WM-R5"})
    assert r.json()["mode"] == "human"
    r = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "customer_type": "elderly", "business_no": "WM-E"})
    assert r.json()["mode"] == "human"


def test_reset_and_cancel_keep_history_and_notify(
    admin: TestClient, system: Signed, app_client: TestClient
) -> None:
    _publish_flow(admin)
    body = {**CUSTOMER, "callback_url": "http://127.0.0.1:9/hook"}
    task = system.call("POST", "/api/v1/tasks", body).json()
    old_token = task["entry_url"].rsplit("/", 1)[1]
    anonymous = TestClient(app_client.app)
    assert anonymous.get(f"/api/v1/entry/{old_token}").status_code == 200
    # 双录重置: a reason is required; the new attempt gets a new link, the old link stops working
    assert system.call("POST", f"/api/v1/tasks/{task['id']}/reset", {"reason": ""}).status_code == 422
    r = system.call("POST", f"/api/v1/tasks/{task['id']}/reset", {"reason": "客户信息变更，合同重签"})
    assert r.status_code == 200, r.text
    reset = r.json()
    assert reset["attempt"] == 2 and reset["status"] == "created"
    assert [(a["number"], a["status"]) for a in reset["attempts"]] == [(1, "superseded"), (2, "created")]
    assert reset["attempts"][0]["reason"] == "客户信息变更，合同重签"
    assert anonymous.get(f"/api/v1/entry/{old_token}").status_code == 401
    new_token = reset["entry_url"].rsplit("/", 1)[1]
    assert anonymous.get(f"/api/v1/entry/{new_token}").json()["attempt"] == 2
    # a re-issued link replaces the previous one of the same attempt
    time.sleep(1.1)  # the expiry (whole seconds) is part of the token
    relinked = system.call("POST", f"/api/v1/tasks/{task['id']}/link").json()
    assert relinked["entry_url"] != reset["entry_url"]
    assert anonymous.get(f"/api/v1/entry/{new_token}").status_code == 401
    # cancel: the link is dead, a second cancel or a reset is refused
    r = system.call("POST", f"/api/v1/tasks/{task['id']}/cancel", {"reason": "客户放弃购买"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert anonymous.get(f"/api/v1/entry/{relinked['entry_url'].rsplit('/', 1)[1]}").status_code == 409
    assert system.call("POST", f"/api/v1/tasks/{task['id']}/cancel", {}).status_code == 409
    assert system.call("POST", f"/api/v1/tasks/{task['id']}/reset", {"reason": "x"}).status_code == 409
    # every status change queued a signed notification for the business system
    deliveries = admin.get("/api/v1/webhook-deliveries", params={"task_id": task["id"]}).json()["items"]
    details = [admin.get(f"/api/v1/webhook-deliveries/{d['id']}").json() for d in deliveries]
    assert sorted((d["event"], d["payload"]["data"]["status"]) for d in details) == [
        ("task.status_changed", "cancelled"),
        ("task.status_changed", "created"),
    ], details
    assert all(d["url"] == body["callback_url"] for d in details)
    assert admin.get("/api/v1/audit-events", params={"action": "task.reset"}).json()["items"]


def test_a_business_system_lists_only_its_own_tasks(
    admin: TestClient, system: Signed, container: Container, app_client: TestClient
) -> None:
    _publish_flow(admin)
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ")
    assert bj
    other_key = create_api_key(
        container.uows,
        container.secretbox,
        actor=_admin(container),
        name="另一个核心系统",
        branch_id=bj.id,
        business_types=["wealth"],
    )
    other = Signed(TestClient(app_client.app), other_key)
    mine = system.call("POST", "/api/v1/tasks", CUSTOMER).json()
    theirs = other.call("POST", "/api/v1/tasks", {**CUSTOMER, "business_no": "WM-OTHER"}).json()
    listed = system.call("GET", "/api/v1/tasks").json()
    # the count and the page hold only the caller's tasks (not a page filtered afterwards)
    assert listed["total"] == 1 and [t["id"] for t in listed["items"]] == [mine["id"]]
    assert system.call("GET", f"/api/v1/tasks/{theirs['id']}").status_code == 404
    assert admin.get("/api/v1/tasks").json()["total"] == 2
