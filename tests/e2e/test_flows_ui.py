"""Flows in the browser: an admin builds a small flow with a branch, publishes it, and tasks created
through the signed business API use that version (and keep it when a newer one is published)."""

from __future__ import annotations

import io
import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import openpyxl
from playwright.sync_api import Page, expect

from dualrec.core.auth_rules import sign_request

from .conftest import ADMIN_PASSWORD
from .test_admin_console import login, sidebar

Shot = Callable[[Page, str], None]
CODE = "e2e-branch"
BUSINESS = "e2e_fund"


class Signed:
    """A business system calling the API with its HMAC key."""

    def __init__(self, base_url: str, key_id: str, secret: str) -> None:
        self.base_url, self.key_id, self.secret = base_url, key_id, secret

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        raw = b"" if body is None else json.dumps(body).encode()
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        headers = {
            "X-Dualrec-Key": self.key_id,
            "X-Dualrec-Timestamp": ts,
            "X-Dualrec-Nonce": nonce,
            "X-Dualrec-Signature": sign_request(self.secret, method, path, "", ts, nonce, raw),
            "Content-Type": "application/json",
            "Idempotency-Key": secrets.token_hex(8),
        }
        return httpx.request(method, self.base_url + path, content=raw, headers=headers, timeout=10.0)


def new_task(system: Signed, business_no: str) -> dict[str, Any]:
    body = {
        "customer_id": "E2E-C1",
        "customer_name": "王测试",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "customer_type": "personal",
        "risk_level": "R2",
        "business_type": BUSINESS,
        "business_no": business_no,
        "contract_no": f"HT-{business_no}",
        "product": "E2E 稳健理财",
        "amount": "10000.00",
    }
    response = system.call("POST", "/api/v1/tasks", body)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def select_node(page: Page, node_id: str) -> None:
    page.locator(f'.node-list li[data-node="{node_id}"] .node-pick').click()


def save_and_publish(page: Page, shot: Shot, version: int, name: str) -> None:
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("status")).to_have_text("草稿已保存")
    page.get_by_role("button", name="发布…").click()
    dialog = page.get_by_role("dialog", name=re.compile("发布流程"))
    expect(dialog).to_contain_text(f"v{version}")
    shot(page, name)
    dialog.get_by_role("button", name="确认发布").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text(f"已发布版本 v{version}")


def test_admin_builds_branching_flow_and_tasks_keep_their_version(
    page: Page, shot: Shot, admin_api: httpx.Client, server_url: str
) -> None:
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="流程配置").click()
    page.get_by_role("button", name="新建流程").click()
    dialog = page.get_by_role("dialog", name="新建流程")
    dialog.get_by_label("流程编码").fill(CODE)
    dialog.get_by_label("流程名称").fill("E2E 分支流程")
    dialog.get_by_label("业务类型").fill(BUSINESS)
    dialog.get_by_role("button", name="新建", exact=True).click()
    expect(page).to_have_url(re.compile(f"/flows/{CODE}$"))

    # identity node (created with the flow): give it its texts
    select_node(page, "identity_1")
    form = page.get_by_role("form", name="节点设置")
    form.get_by_label("标题").fill("身份核实")
    form.get_by_label("播报文本").fill("请您出示身份证件，并确认本人办理。")
    form.get_by_label("必读声明（每行一条）").fill("我是本人")

    # a qa node between identity and end: 是 → the end node, 否 → hand over to a human
    page.get_by_label("要添加的节点类型").select_option("qa")
    page.get_by_role("button", name="添加节点").click()
    expect(form).to_contain_text("问答确认")  # a question node without a bank is no anti-fraud question
    form.get_by_label("标题").fill("自愿确认")
    form.get_by_label("播报文本").fill("请问您是本人自愿购买本产品吗？")
    expect(form.get_by_label("答案 1", exact=True)).to_have_value("是")
    expect(form.get_by_label("答案 2", exact=True)).to_have_value("否")
    form.get_by_label("答案 1 的同义词").fill("是的，对")
    form.get_by_role("button", name="添加分支").click()
    form.get_by_label("分支 1 的去向").select_option("end_1")
    form.get_by_role("button", name="添加分支").click()
    form.get_by_label("分支 2 的回答").select_option("否")
    form.get_by_label("分支 2 的去向").select_option(label="转人工")

    graph = page.get_by_role("img", name="流程图")
    expect(graph.locator('[data-node="qa_1"]')).to_be_visible()
    expect(graph.locator(".edge.branch .edge-label")).to_have_text(["是", "否"])
    expect(graph.locator(".pill")).to_contain_text(["转人工"])
    expect(page.get_by_test_id("dirty")).to_be_visible()
    shot(page, "40-flow-editor-branch")

    save_and_publish(page, shot, 1, "41-flow-publish-dialog")
    expect(page.get_by_test_id("dirty")).to_be_hidden()

    # the stored draft is what the form showed
    flow = admin_api.get(f"/api/v1/flows/{CODE}").json()
    assert flow["latest_version"] == 1 and flow["problems"] == []
    qa = next(n for n in flow["draft"]["nodes"] if n["id"] == "qa_1")
    assert [(b["answer"], b["next"]) for b in qa["branches"]] == [("是", "end_1"), ("否", "@handover")]
    assert qa["expected_answers"][0] == {"text": "是", "synonyms": ["是的", "对"]}
    assert [n["id"] for n in flow["draft"]["nodes"]] == ["identity_1", "qa_1", "end_1"]

    # route the business type to this flow in the rules table (a new row moved to the top)
    sidebar(page).get_by_role("link", name="规则与敏感词").click()
    table = page.get_by_role("table", name="规则表")
    expect(page.get_by_role("button", name="添加规则")).to_be_enabled()
    before = len(admin_api.get("/api/v1/routing-rules").json())
    if before:
        expect(table.get_by_label(f"规则 {before} 名称")).to_be_visible()  # the table has loaded
    page.get_by_role("button", name="添加规则").click()
    n = before + 1
    table.get_by_label(f"规则 {n} 名称").fill("E2E 规则")
    table.get_by_label(f"规则 {n} 业务类型").fill(BUSINESS)
    table.get_by_label(f"规则 {n} 流程").select_option(CODE)
    for k in range(n, 1, -1):
        table.get_by_role("button", name=f"上移规则 {k}", exact=True).click()
    expect(table.get_by_label("规则 1 名称")).to_have_value("E2E 规则")
    page.get_by_role("button", name="保存规则表").click()
    expect(page.get_by_role("status")).to_have_text("规则表已保存")
    shot(page, "44-rules-table")
    rules = admin_api.get("/api/v1/routing-rules").json()
    assert rules[0]["flow_code"] == CODE and rules[0]["business_types"] == [BUSINESS]
    assert len(rules) == before + 1

    # a business system creates a task: it runs version 1
    branches = admin_api.get("/api/v1/branches").json()
    key = admin_api.post(
        "/api/v1/api-keys",
        json={"name": "E2E 核心系统", "branch_id": branches[0]["id"], "business_types": [BUSINESS]},
    )
    assert key.status_code == 201, key.text
    system = Signed(server_url, key.json()["key_id"], key.json()["secret"])
    first = new_task(system, "E2E-0001")
    assert (first["flow_code"], first["flow_version"]) == (CODE, 1)

    # change a text in the UI and publish version 2
    page.goto(f"/flows/{CODE}")
    select_node(page, "qa_1")
    form = page.get_by_role("form", name="节点设置")
    form.get_by_label("播报文本").fill("请问您是否本人自愿购买该产品？")
    save_and_publish(page, shot, 2, "42-flow-publish-v2-diff")

    page.get_by_role("button", name="版本记录").click()
    versions = page.get_by_role("dialog", name=re.compile("版本记录"))
    expect(versions.locator("summary")).to_have_count(2)
    expect(versions.locator("details").first).to_contain_text("请问您是否本人自愿购买该产品？")
    shot(page, "43-flow-versions")
    versions.get_by_role("button", name="关闭").last.click()

    still = admin_api.get(f"/api/v1/tasks/{first['id']}").json()
    assert still["flow_version"] == 1
    second = new_task(system, "E2E-0002")
    assert (second["flow_code"], second["flow_version"]) == (CODE, 2)


def test_tasks_banks_and_webhook_pages(
    page: Page, shot: Shot, admin_api: httpx.Client, server_url: str
) -> None:
    """The task list and detail (reset with a reason, a new link shown once), banks and deliveries."""
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="双录任务").click()
    page.get_by_label("业务编号").fill("E2E-0001")
    page.get_by_role("button", name="搜索").click()
    rows = page.locator("table.data-table tbody tr[data-task-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("王测试")
    listed = admin_api.get("/api/v1/tasks", params={"business_no": "E2E-0001"}).json()["items"][0]
    expect(rows.first).to_contain_text(listed["id_number"])  # shown as the API returns it (masked or not)
    shot(page, "45-tasks-list")
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("table", name="双录记录")).to_contain_text("v1")
    page.get_by_role("button", name="双录重置").click()
    dialog = page.get_by_role("dialog", name="双录重置")
    dialog.get_by_role("button", name="确定").click()
    expect(dialog.locator(".field-error")).to_have_text("必填")
    dialog.get_by_label("原因").fill("客户网络中断，重新录制")
    dialog.get_by_role("button", name="确定").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("entry-link")).to_contain_text("http")
    expect(page.get_by_role("table", name="双录记录").locator("tbody tr")).to_have_count(2)
    shot(page, "46-task-detail-reset")

    sidebar(page).get_by_role("link", name="题库管理").click()
    expect(page.get_by_role("heading", name="题库管理")).to_be_visible()
    page.get_by_role("button", name="导入 Excel").click()
    dialog = page.get_by_role("dialog", name="导入 Excel")
    dialog.locator("input[type=file]").set_input_files(
        files=[{"name": "broken.xlsx", "mimeType": "application/octet-stream", "buffer": b"not a workbook"}]
    )
    dialog.get_by_role("button", name="检查").click()
    expect(dialog.get_by_test_id("import-error")).to_be_visible()
    expect(dialog.get_by_role("button", name="确认导入")).to_be_disabled()

    # an exported workbook with one broken cell: the row error is listed, nothing imported
    exported = admin_api.get("/api/v1/question-banks/export")
    assert exported.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    sheet = book["题库"]
    header = [str(c.value or "") for c in sheet[1]]
    column = next(i for i, h in enumerate(header) if "难度" in h) + 1
    sheet.cell(row=2, column=column, value="很难")
    broken = io.BytesIO()
    book.save(broken)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    dialog.locator("input[type=file]").set_input_files(
        files=[{"name": "banks.xlsx", "mimeType": xlsx, "buffer": broken.getvalue()}]
    )
    dialog.get_by_role("button", name="检查").click()
    errors = dialog.get_by_role("table", name="错误列表")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors.locator("tbody tr").first).to_contain_text("题库")
    expect(errors.locator("tbody tr td").nth(1)).to_have_text("2")
    expect(dialog.get_by_role("button", name="确认导入")).to_be_disabled()
    shot(page, "47-bank-import-rejected")

    # the unchanged export passes the check and imports nothing new
    dialog.locator("input[type=file]").set_input_files(
        files=[{"name": "banks.xlsx", "mimeType": xlsx, "buffer": exported.content}]
    )
    dialog.get_by_role("button", name="检查").click()
    expect(dialog.get_by_test_id("dry-run-result")).to_contain_text("新增 0 题")
    dialog.get_by_role("button", name="确认导入").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text("导入完成：新增 0 题，修改 0 题")

    sidebar(page).get_by_role("link", name="回调记录").click()
    expect(page.get_by_role("table", name="回调投递")).to_be_visible()
    shot(page, "48-webhook-deliveries")


def test_sensitive_word_is_highlighted_and_publishing_needs_a_reason(
    page: Page, shot: Shot, admin_api: httpx.Client
) -> None:
    definition = {
        "mode": "self_service",
        "nodes": [
            {"id": "risk", "type": "risk_disclosure", "script": "本产品风险等级为 R2。"},
            {"id": "end", "type": "end"},
        ],
    }
    created = admin_api.post(
        "/api/v1/flows",
        json={
            "code": "e2e-words",
            "name": "E2E 敏感词",
            "business_type": "e2e_words",
            "definition": definition,
        },
    )
    assert created.status_code == 201, created.text
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="流程配置").click()
    page.locator('tr[data-code="e2e-words"]').get_by_role("link", name="编辑").click()
    select_node(page, "risk")
    form = page.get_by_role("form", name="节点设置")
    form.get_by_label("播报文本").fill("本产品保本保息，收益稳定。")
    # a value the server rejects: the error appears at the node and the form keeps what was typed
    form.get_by_label("重试次数").fill("9")
    page.get_by_role("button", name="保存草稿").click()
    expect(form.get_by_test_id("node-problems")).to_contain_text("retries")
    expect(page.locator('.node-list li[data-node="risk"]')).to_contain_text("1 个问题")
    expect(form.get_by_label("播报文本")).to_have_value("本产品保本保息，收益稳定。")
    form.get_by_label("重试次数").fill("2")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("status")).to_have_text("草稿已保存")
    expect(form.get_by_test_id("hit-text").locator("mark").first).to_have_text(re.compile("保本"))
    expect(page.locator('.node-list li[data-node="risk"]')).to_contain_text("敏感词")
    shot(page, "49-flow-sensitive-hit")

    page.get_by_role("button", name="发布…").click()
    dialog = page.get_by_role("dialog", name=re.compile("发布流程"))
    expect(dialog.locator("mark").first).to_be_visible()
    dialog.get_by_role("button", name="确认发布").click()
    expect(dialog).to_contain_text("请填写豁免理由")
    dialog.get_by_label("豁免理由").fill("合规部已审阅，此处为产品名称")
    shot(page, "50-flow-publish-override")
    dialog.get_by_role("button", name="确认发布").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text("已发布版本 v1")
    version = admin_api.get("/api/v1/flows/e2e-words/versions/1").json()
    assert version["override_reason"] == "合规部已审阅，此处为产品名称"
    assert {h["word"] for h in version["review_hits"]} & {"保本", "保本保息"}
