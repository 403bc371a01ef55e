"""Question banks through the HTTP API: Excel import/export, draw rules, the sensitive-word review
(override permission, approval), and who may write."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container, build_container
from dualrec.core.identity import CustomRole
from dualrec.core.questions import draw_questions
from dualrec.core.rbac import Permission as P
from dualrec.services.identity.seed import seed_demo
from dualrec.services.question_banks import service as question_banks
from dualrec.services.question_banks.workbooks import export_workbook, import_workbook
from tests.conftest import ADMIN_PASSWORD, login, make_settings
from tests.services import isolated_database_url
from tests.unit.test_excel_io import Q_HEADER, R_HEADER, T_HEADER, _actor, snapshot, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook() -> bytes:
    rows = [Q_HEADER] + [
        [
            "wealth",
            "理财产品销售",
            f"WM-{i:03}",
            f"第 {i} 题：您是否本人自愿购买？",
            "是|否",
            "是:是的,对",
            1 + i % 5,
            "是",
        ]
        for i in range(1, 11)
    ]
    return xlsx(
        {
            "题库": rows,
            "抽题规则": [
                R_HEADER,
                ["wealth", "R4", 3, 1, 5],
                ["wealth", "R5", 3, 3, 5],
                ["wealth", "R1", 1, 1, 2],
            ],
            "话术模板": [T_HEADER, ["wealth", "风险告知", "开场风险提示", "本产品为非保本浮动收益型产品。"]],
        }
    )


def _upload(client: TestClient, data: bytes, **params: Any) -> Any:
    return client.post(
        "/api/v1/question-banks/import", params=params, files={"file": ("题库.xlsx", data, XLSX)}
    )


@pytest.fixture
def admin(app_client: TestClient) -> TestClient:
    return login(app_client, "admin", ADMIN_PASSWORD)


def test_import_list_rules_export(admin: TestClient) -> None:
    r = _upload(admin, _workbook(), dry_run="true")
    assert r.status_code == 200, r.text
    assert r.json()["dry_run"] and r.json()["questions_created"] == 10
    assert admin.get("/api/v1/question-banks").json() == []

    r = _upload(admin, _workbook())
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["banks_created"], body["questions_created"], body["templates_created"]) == (1, 10, 1)

    banks = admin.get("/api/v1/question-banks").json()
    assert [(b["code"], b["name"], b["question_count"], b["enabled_count"]) for b in banks] == [
        ("wealth", "理财产品销售", 10, 10)
    ]
    assert [(x["risk_level"], x["count"]) for x in banks[0]["rules"]] == [("R1", 1), ("R4", 3), ("R5", 3)]
    # R1 wants difficulty 1–2: WM-001 (2), WM-005 (1), WM-006 (2), WM-010 (1) — enough; R5 wants 3–5
    assert banks[0]["shortfalls"] == []

    detail = admin.get("/api/v1/question-banks/wealth").json()
    assert [q["code"] for q in detail["questions"]][:2] == ["WM-001", "WM-002"]
    assert detail["questions"][0]["answers"][0] == {"text": "是", "synonyms": ["是的", "对"]}
    templates = admin.get("/api/v1/script-templates", params={"business_type": "wealth"}).json()
    assert [(t["node_type"], t["title"]) for t in templates] == [("risk_disclosure", "开场风险提示")]

    r = admin.get("/api/v1/question-banks/export", params={"bank": "wealth"})
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert "attachment" in r.headers["content-disposition"]
    again = _upload(admin, r.content).json()
    assert (again["questions_unchanged"], again["questions_updated"], again["banks_updated"]) == (10, 0, 0)

    r = admin.get("/api/v1/question-banks/template.xlsx")
    assert r.status_code == 200
    assert "说明" in openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames


def test_broken_import_is_a_422_with_row_errors_and_changes_nothing(admin: TestClient) -> None:
    _upload(admin, _workbook())
    before = admin.get("/api/v1/question-banks/wealth").json()
    broken = xlsx(
        {
            "题库": [Q_HEADER, ["wealth", "", "WM-001", "改过的题目", "是", "", "hard", ""]],
            "抽题规则": [R_HEADER, ["wealth", "R7", 1, 1, 5]],
        }
    )
    r = _upload(admin, broken)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["error_count"] == 2
    assert [(e["sheet"], e["row"], e["column"], e["header"]) for e in problem["row_errors"]] == [
        ("题库", 2, "G", "难度"),
        ("抽题规则", 2, "B", "风险等级"),
    ]
    assert admin.get("/api/v1/question-banks/wealth").json() == before

    r = _upload(admin, b"id,name\n1,x\n")
    assert r.status_code == 422 and r.json()["file_error"] == "not_xlsx"
    r = admin.post("/api/v1/question-banks/import", content=_workbook(), headers={"content-type": XLSX})
    assert r.status_code == 200 and r.json()["questions_unchanged"] == 10  # the raw body works too
    r = admin.post("/api/v1/question-banks/import", files={"other": ("a.txt", b"x", "text/plain")})
    assert r.status_code == 422


def test_upload_size_limit(admin: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from dualrec.api.routers import question_workbooks as router

    monkeypatch.setattr(router, "MAX_BYTES", 2000)
    r = _upload(admin, _workbook() + bytes(200_000))
    assert r.status_code == 422 and r.json()["file_error"] == "too_large"


def test_bank_and_rule_editing_and_the_draw(admin: TestClient, container: Container) -> None:
    r = admin.post(
        "/api/v1/question-banks",
        json={
            "code": "insure",
            "name": "保险销售",
            "rules": [{"risk_level": "R5", "count": 2, "min_difficulty": 2}],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["shortfalls"] == [{"risk_level": "R5", "needed": 2, "eligible": 0}]
    assert admin.post("/api/v1/question-banks", json={"code": "insure", "name": "x"}).status_code == 409
    r = admin.post("/api/v1/question-banks", json={"code": "x1", "name": "x", "color": "red"})
    assert r.status_code == 422  # unknown fields are refused
    dup = [{"risk_level": "R1", "count": 1}, {"risk_level": "R1", "count": 2}]
    assert admin.patch("/api/v1/question-banks/insure", json={"rules": dup}).status_code == 422

    for i, difficulty in enumerate((1, 2, 3), start=1):
        r = admin.post(
            "/api/v1/question-banks/insure/questions",
            json={
                "code": f"IN-{i}",
                "text": f"您是否知晓犹豫期？（{i}）",
                "answers": [{"text": "知晓", "synonyms": ["知道"]}, {"text": "不知晓"}],
                "difficulty": difficulty,
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["hits"] == [] and r.json()["enabled"]
    bank = admin.get("/api/v1/question-banks/insure").json()
    assert bank["shortfalls"] == [] and bank["question_count"] == 3

    r = admin.patch("/api/v1/question-banks/insure/questions/IN-2", json={"difficulty": 1})
    assert r.status_code == 200 and r.json()["difficulty"] == 1
    bank = admin.get("/api/v1/question-banks/insure").json()
    assert bank["shortfalls"] == [{"risk_level": "R5", "needed": 2, "eligible": 1}]
    r = admin.patch("/api/v1/question-banks/insure", json={"rules": [{"risk_level": "R5", "count": 2}]})
    assert r.status_code == 200 and r.json()["shortfalls"] == []

    with container.uows() as uow:
        questions = question_banks.bank_questions(uow, "insure")
        rules = question_banks.bank_rules(uow, "insure")
    draw, chosen = draw_questions(questions, rules, bank="insure", risk_level="R5", seed="s1")
    assert len(chosen) == 2 and draw.codes == tuple(q.code for q in chosen)
    again, _ = draw_questions(questions, rules, bank="insure", risk_level="R5", seed="s1")
    assert again == draw  # reproducible for audit

    assert admin.delete("/api/v1/question-banks/insure/questions/IN-3").status_code == 204
    assert admin.get("/api/v1/question-banks/insure/questions/IN-3").status_code == 404
    assert admin.delete("/api/v1/question-banks/insure").status_code == 204
    assert admin.get("/api/v1/question-banks/insure").status_code == 404


@pytest.fixture
def editor(app_client: TestClient, container: Container, make_user: Callable[..., str]) -> TestClient:
    """May edit question banks but not override the sensitive-word review."""
    with container.uows() as uow:
        uow.roles.add(
            CustomRole("qb_editor", "题库编辑", "Bank editor", frozenset({P.FLOWS_READ, P.FLOWS_WRITE}))
        )
        uow.commit()
    make_user("editor", "qb_editor")
    client = login(app_client, "editor")
    assert client.post("/api/v1/question-banks", json={"code": "wealth", "name": "理财"}).status_code == 201
    return client


FLAGGED = {
    "code": "WM-900",
    "text": "本产品保证收益，您是否购买？",
    "answers": [{"text": "是"}, {"text": "否"}],
}


def test_a_sensitive_word_holds_the_question_and_only_a_reviewer_releases_it(
    editor: TestClient, app_client: TestClient, make_user: Callable[..., str], container: Container
) -> None:
    r = editor.post("/api/v1/question-banks/wealth/questions", json=FLAGGED)
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["hits"] == [{"field": "text", "word": "保证收益", "index": 3}]
    assert saved["held_for_review"] and not saved["enabled"]

    with container.uows() as uow:  # a held question is never drawn
        pool = question_banks.bank_questions(uow, "wealth")
    assert [q.code for q in pool if q.enabled] == []

    r = editor.patch(
        "/api/v1/question-banks/wealth/questions/WM-900",
        json={"enabled": True, "override": True, "override_reason": "我觉得可以"},
    )
    assert r.status_code == 403 and r.json()["permission"] == "flows:override_review"
    r = editor.post("/api/v1/question-banks/wealth/questions/WM-900/approve", json={"reason": "x"})
    assert r.status_code == 403
    r = editor.patch("/api/v1/question-banks/wealth/questions/WM-900", json={"enabled": True})
    assert r.status_code == 200 and not r.json()["enabled"] and r.json()["held_for_review"]
    r = _upload(
        editor,
        xlsx({"题库": [Q_HEADER, ["wealth", "", "WM-901", "稳赚不赔哦", "是", "", 1, ""]]}),
        override="true",
        override_reason="x",
    )
    assert r.status_code == 403
    assert editor.get("/api/v1/question-banks/wealth/questions/WM-901").status_code == 404

    app_client.post("/api/v1/auth/logout")
    make_user("co", "compliance")
    login(app_client, "co")
    r = app_client.post(
        "/api/v1/question-banks/wealth/questions/WM-900/approve", json={"reason": "合规部已复核"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] and not r.json()["held_for_review"]
    assert (
        app_client.post(
            "/api/v1/question-banks/wealth/questions/WM-900/approve", json={"reason": "again"}
        ).status_code
        == 409
    )

    app_client.post("/api/v1/auth/logout")
    login(app_client, "editor")
    r = app_client.patch("/api/v1/question-banks/wealth/questions/WM-900", json={"difficulty": 2})
    assert r.json()["enabled"]  # the approved text keeps its approval
    r = app_client.patch(
        "/api/v1/question-banks/wealth/questions/WM-900", json={"text": "本产品稳赚，您是否购买？"}
    )
    assert not r.json()["enabled"] and r.json()["held_for_review"]  # a new text is reviewed again

    app_client.post("/api/v1/auth/logout")
    login(app_client, "admin", ADMIN_PASSWORD)
    events = app_client.get("/api/v1/audit-events", params={"action": "flow.review_overridden"}).json()[
        "items"
    ]
    assert [(e["actor"], e["details"]["reason"], e["details"]["question"]) for e in events] == [
        ("co", "合规部已复核", "WM-900")
    ]
    denied = app_client.get("/api/v1/audit-events", params={"action": "auth.permission_denied"}).json()[
        "items"
    ]
    assert any(
        e["actor"] == "editor" and e["details"]["permission"] == "flows:override_review" for e in denied
    )


def test_admin_override_on_save(admin: TestClient) -> None:
    admin.post("/api/v1/question-banks", json={"code": "wealth", "name": "理财"})
    r = admin.post("/api/v1/question-banks/wealth/questions", json={**FLAGGED, "override": True})
    assert r.status_code == 422  # an override needs a reason
    r = admin.post(
        "/api/v1/question-banks/wealth/questions",
        json={**FLAGGED, "override": True, "override_reason": "引用监管原文，属于风险提示"},
    )
    assert r.status_code == 201 and r.json()["enabled"] and r.json()["hits"]
    events = admin.get("/api/v1/audit-events", params={"action": "flow.review_overridden"}).json()["items"]
    assert events[0]["details"]["reason"] == "引用监管原文，属于风险提示"


def test_templates_report_hits_and_keep_keys_unique(admin: TestClient) -> None:
    body = {
        "business_type": "wealth",
        "node_type": "risk_disclosure",
        "title": "风险告知",
        "text": "本产品稳赚。",
    }
    r = admin.post("/api/v1/script-templates", json=body)
    assert r.status_code == 201 and r.json()["hits"] == [{"field": "text", "word": "稳赚", "index": 3}]
    tid = r.json()["id"]
    assert admin.post("/api/v1/script-templates", json=body).status_code == 409
    assert admin.post("/api/v1/script-templates", json={**body, "node_type": "nope"}).status_code == 422
    r = admin.patch(f"/api/v1/script-templates/{tid}", json={"text": "本产品不承诺收益，投资须谨慎。"})
    assert r.status_code == 200 and r.json()["hits"] == []
    assert admin.get(f"/api/v1/script-templates/{tid}").json()["text"].startswith("本产品不承诺")
    assert admin.delete(f"/api/v1/script-templates/{tid}").status_code == 204
    assert admin.get(f"/api/v1/script-templates/{tid}").status_code == 404


@pytest.mark.parametrize("role", ["interviewer", "auditor", "compliance"])
def test_roles_without_flows_write_cannot_change_banks(
    role: str, app_client: TestClient, make_user: Callable[..., str]
) -> None:
    make_user("u", role)
    client = login(app_client, "u")
    attempts = [
        client.post("/api/v1/question-banks", json={"code": "wealth", "name": "理财"}),
        _upload(client, _workbook()),
        client.post(
            "/api/v1/script-templates",
            json={"business_type": "w", "node_type": "qa", "title": "t", "text": "x"},
        ),
        client.delete("/api/v1/question-banks/wealth"),
    ]
    assert [r.status_code for r in attempts] == [403] * 4
    reads = client.get("/api/v1/question-banks").status_code
    assert reads == (200 if role != "auditor" else 403)  # auditors have no flows:read


def test_unauthenticated_import_is_refused(app_client: TestClient) -> None:
    r = _upload(app_client, _workbook())
    assert r.status_code == 401


# -------------------------------------------------------------------------------- the databases


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    with isolated_database_url(request.param, str(tmp_path)) as url:
        c = build_container(make_settings(tmp_path / "data", database_url=url), migrate=True)
        seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        try:
            yield c
        finally:
            c.close()


def test_import_export_round_trip_on_each_database(backend: Container) -> None:
    first = import_workbook(backend.uows, actor=_actor(), data=_workbook())
    assert first.questions_created == 10
    before = snapshot(backend)
    again = import_workbook(backend.uows, actor=_actor(), data=export_workbook(backend.uows))
    assert again.questions_unchanged == 10 and again.templates_unchanged == 1 and again.banks_updated == 0
    assert snapshot(backend) == before
    with backend.uows() as uow:
        (bank,) = uow.questions.banks()
    assert (bank.question_count, bank.enabled_count) == (10, 10)
    question_banks.delete_bank(backend.uows, actor=_actor(), code="wealth")
    with backend.uows() as uow:
        assert uow.questions.banks() == [] and uow.questions.questions("wealth") == []
