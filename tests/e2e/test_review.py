"""QC operations in the browser (issue 18): a reviewer sets up a daily sampling rule and runs it; it
picks two recordings QC'd by the real engines (a black picture and a customer leaving the picture,
both with an unread risk statement). On the first — the recording of a business system's task — the
reviewer overrules one finding (o), confirms the other (c), adds a missed one and decides re-record:
the task gets a new attempt and the business system a signed ``task.review_decided`` webhook. The
second is failed, upheld by a second reviewer (终审); the branch appeals with an attachment and a
third reviewer accepts the appeal. The statistics page shows the precision those decisions give
(checked against a hand count), with its chart; a reviewer of another branch sees none of it."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from dualrec.core.webhooks import verify_webhook
from tests import media_factory as mf

from .h5_support import SHORT_FLOW, create_task, publish_system, server_database
from .test_admin_console import login, sidebar
from .test_recordings import QC_TIMEOUT_MS

Shot = Callable[[Page, str], None]
BUSINESS = "e2e_review"
PASSWORD = "E2e-Review-pass-1"
FLOW = {  # the opening is read; the risk statement is not: script_coverage raises a finding
    "id": "e2e-review",
    "nodes": [
        {"id": "open", "type": "risk_disclosure", "title": "开场", "required_statements": [mf.OPENING]},
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险揭示",
            "required_statements": ["本产品不保证本金安全，投资需谨慎"],
        },
    ],
}


class Receiver(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Receiver.received.append({"headers": dict(self.headers), "raw": raw, "body": json.loads(raw)})
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()
    server.server_close()


def user_page(chromium: Browser, server_url: str, username: str, errors: list[str]) -> Page:
    """A new browser context logged in as ``username``; page errors go to ``errors``."""
    context = chromium.new_context(
        base_url=server_url, locale="zh-CN", viewport={"width": 1400, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", on_console)
    page.goto("/login")
    login(page, username, PASSWORD)
    expect(sidebar(page)).to_be_visible()
    return page


def upload(admin_api: httpx.Client, path: Path, running_no: str, branch_id: int) -> str:
    with path.open("rb") as fh:
        r = admin_api.post(
            "/api/v1/recordings",
            files={"file": (path.name, fh, "video/mp4")},
            data={
                "task": json.dumps({"running_no": running_no, "business_type": BUSINESS}),
                "flow": json.dumps(FLOW, ensure_ascii=False),
                "branch_id": str(branch_id),
            },
            timeout=60.0,
        )
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def wait_qc(admin_api: httpx.Client, recording_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + QC_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        rec: dict[str, Any] = admin_api.get(f"/api/v1/recordings/{recording_id}").json()
        if rec["status"] in ("done", "failed"):
            assert rec["status"] == "done", rec
            return rec
        time.sleep(1.0)
    raise AssertionError(f"QC of {recording_id} did not finish")


def link_to_task(tmp_path_factory: pytest.TempPathFactory, task_id: str, recording_id: str) -> None:
    """What a completed self-service session records: the recording of the task's first attempt."""
    import sqlite3

    conn = sqlite3.connect(server_database(tmp_path_factory), timeout=30)
    try:
        with conn:
            n = conn.execute(
                "UPDATE task_attempts SET recording_id = ? WHERE task_id = ? AND number = 1",
                (recording_id, task_id),
            ).rowcount
            assert n == 1
    finally:
        conn.close()


def open_item(page: Page, recording_id: str, view: str) -> None:
    sidebar(page).get_by_role("link", name="复核队列").click()
    page.locator(f"button[data-view='{view}']").click()
    page.locator(f"tr[data-recording='{recording_id}']").get_by_role("link", name="打开").click()
    expect(page.get_by_role("heading", name=re.compile("复核工作台"))).to_be_visible()


def test_sampling_review_rerecord_final_appeal_and_statistics(
    page: Page,
    chromium: Browser,
    server_url: str,
    shot: Shot,
    admin_api: httpx.Client,
    receiver: str,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> None:
    if (why := mf.available()) is not None:
        pytest.skip(why)
    branches = {b["code"]: b["id"] for b in admin_api.get("/api/v1/branches").json()}
    for name, role, branch in (
        ("e2e_rev", "qc_reviewer", "HQ"),
        ("e2e_rev_sh", "qc_reviewer", "SH"),
        ("e2e_lead", "compliance", "HQ"),
        ("e2e_lead2", "compliance", "HQ"),
        ("e2e_sup", "branch_supervisor", "BJ"),
    ):
        r = admin_api.post(
            "/api/v1/users",
            json={
                "username": name,
                "display_name": name,
                "password": PASSWORD,
                "role": role,
                "branch_id": branches[branch],
            },
        )
        assert r.status_code == 201, r.text

    # a business system's task, and two recordings QC'd by the real engines
    system = publish_system(
        admin_api,
        server_url,
        code="e2e-review-flow",
        name="复核演示",
        business=BUSINESS,
        flow=SHORT_FLOW,
        rule_name="复核演示路由",
        key_name="复核演示系统",
    )
    task = create_task(system, BUSINESS, "E2E-REVIEW-1", callback=receiver)
    factory = mf.MediaFactory(tmp_path_factory.mktemp("review-media"))
    rec_a = upload(admin_api, factory.recording("black"), "E2E-REV-A", branches["HQ"])
    rec_b = upload(admin_api, factory.recording("no_face"), "E2E-REV-B", branches["BJ"])
    for rid in (rec_a, rec_b):
        assert wait_qc(admin_api, rid)["verdict"] in ("FAIL", "REVIEW")
    link_to_task(tmp_path_factory, task["id"], rec_a)

    # the reviewer sets up the daily rule (100 % of FAIL and REVIEW of this business) and runs it now
    page.goto("/login")
    login(page, "e2e_rev", PASSWORD)
    sidebar(page).get_by_role("link", name="抽检管理").click()
    page.get_by_test_id("new-rule").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=rule_name]").fill("每日抽检 · 复核演示")
    dialog.locator("input[name=business_types]").fill(BUSINESS)
    dialog.locator("input[name=rate_pass]").fill("0")
    dialog.get_by_label(re.compile("e2e_rev \\(e2e_rev\\)")).check()
    shot(page, "60-review-rule")
    dialog.get_by_role("button", name="保存").click()
    rule_row = page.locator("tr[data-rule]").filter(has_text="每日抽检 · 复核演示")
    rule_row.get_by_role("button", name="立即运行").click()
    expect(page.get_by_test_id("sampling-flash")).to_contain_text("2 条被抽中，2 条新进入复核队列")
    page.locator("tr[data-sample]").first.get_by_role("button", name="复现核对").click()
    expect(page.get_by_test_id("reproduction")).to_have_text("按种子重新抽取，结果一致")

    # A: overrule one finding (o), confirm the other (c), add a missed one, decide re-record
    open_item(page, rec_a, "mine")
    page.get_by_test_id("claim").click()
    expect(page.get_by_test_id("review-status")).to_have_text("复核中")
    findings = page.locator("li[data-finding]")
    expect(findings).to_have_count(2)
    keys = [findings.nth(i).get_attribute("data-finding") or "" for i in range(2)]
    first, second = findings.nth(0), findings.nth(1)
    expect(first).to_have_class(re.compile("selected"))
    page.keyboard.press("o")
    reason = page.locator("textarea[name=overrule_reason]")
    expect(reason).to_be_focused()
    reason.fill("复核画面：该时段为正常转场，不属于黑屏遮挡")
    reason.press("Enter")
    expect(first).to_have_attribute("data-decision", "overrule")
    expect(second).to_have_class(re.compile("selected"))
    page.keyboard.press("k")
    expect(first).to_have_class(re.compile("selected"))
    page.keyboard.press("j")
    expect(second).to_have_class(re.compile("selected"))
    page.keyboard.press("c")
    expect(second).to_have_attribute("data-decision", "confirm")
    added = page.locator(".added-form")
    added.locator("select[name=added_check]").select_option("face_presence")
    added.locator("input[name=added_start]").fill("2")
    added.locator("input[name=added_end]").fill("4.5")
    added.locator("textarea[name=added_note]").fill("客户视线离开镜头，机器未识别")
    added.get_by_role("button", name="添加").click()
    expect(page.locator("li[data-added]")).to_have_count(1)
    panel = page.locator(".decision-panel")
    panel.locator("input[name=decision][value=rerecord]").check()
    panel.locator("textarea[name=decision_reason]").fill("风险揭示未宣读，需客户重新双录")
    shot(page, "61-review-workbench")
    panel.get_by_role("button", name="提交结论").click()
    expect(page.locator(".alert.success")).to_contain_text("已要求补录，任务已开始第 2 次录制")
    expect(page.get_by_test_id("review-outcome")).to_have_text("补录")

    fresh = admin_api.get(f"/api/v1/tasks/{task['id']}").json()
    assert fresh["attempt"] == 2 and fresh["status"] == "created"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        r["body"]["event"] == "task.review_decided" for r in Receiver.received
    ):
        time.sleep(0.5)
    decided = [r for r in Receiver.received if r["body"]["event"] == "task.review_decided"]
    assert len(decided) == 1, [r["body"]["event"] for r in Receiver.received]
    hook = decided[0]
    verify_webhook(
        system["key"]["secret"],
        timestamp_header=hook["headers"].get("X-Dualrec-Timestamp"),
        signature_header=hook["headers"].get("X-Dualrec-Signature"),
        body=hook["raw"],
        now=time.time(),
    )
    data = hook["body"]["data"]
    assert data["decision"] == "rerecord" and data["new_attempt"] == 2 and data["attempt"] == 1
    assert data["reason"] == "风险揭示未宣读，需客户重新双录" and data["entry_url"].startswith("http")

    # B: confirm both findings (c, c), decide fail → waits for the final decision
    open_item(page, rec_b, "mine")
    page.get_by_test_id("claim").click()
    expect(page.get_by_test_id("review-status")).to_have_text("复核中")  # claimed: the keys act now
    findings_b = page.locator("li[data-finding]")
    expect(findings_b).to_have_count(2)
    keys_b = [findings_b.nth(i).get_attribute("data-finding") or "" for i in range(2)]
    page.keyboard.press("c")
    expect(findings_b.nth(0)).to_have_attribute("data-decision", "confirm")
    page.keyboard.press("c")
    expect(findings_b.nth(1)).to_have_attribute("data-decision", "confirm")
    panel = page.locator(".decision-panel")
    panel.locator("input[name=decision][value=fail]").check()
    panel.locator("textarea[name=decision_reason]").fill("客户离开画面且风险揭示未宣读")
    panel.get_by_role("button", name="提交结论").click()
    expect(page.get_by_test_id("review-status")).to_have_text("待终审")

    errors: list[str] = []
    # 终审 by a second reviewer
    lead = user_page(chromium, server_url, "e2e_lead", errors)
    open_item(lead, rec_b, "final")
    final = lead.locator(".final-panel")
    final.locator("textarea[name=final_reason]").fill("同意初审：客户中途离开")
    final.get_by_role("button", name="终审").click()
    expect(lead.get_by_test_id("final-decision")).to_contain_text("终审：不通过 · e2e_lead")
    expect(lead.get_by_test_id("review-outcome")).to_have_text("不通过")

    # the branch appeals on the recording page, with an attachment
    proof = tmp_path / "签字确认.png"
    Image.new("RGB", (64, 48), (40, 90, 160)).save(proof)
    sup = user_page(chromium, server_url, "e2e_sup", errors)
    sup.goto(f"/recordings/{rec_b}")
    box = sup.get_by_test_id("recording-review")
    expect(box.get_by_test_id("recording-review-outcome")).to_have_text("不通过")
    box.get_by_test_id("appeal-open").click()
    form = sup.get_by_role("dialog")
    form.locator("textarea[name=appeal_reason]").fill("客户离开画面为签署纸质文件，附签字确认照片")
    form.locator("input[name=appeal_files]").set_input_files(str(proof))
    form.get_by_role("button", name="提交申诉").click()
    expect(box.locator(".alert.success")).to_have_text("申诉已提交，等待终审人员裁决")
    expect(box.locator("[data-appeal][data-status=open]")).to_have_count(1)
    shot(sup, "62-review-appeal")

    # a third reviewer accepts it; the recording now passes
    lead2 = user_page(chromium, server_url, "e2e_lead2", errors)
    sidebar(lead2).get_by_role("link", name="申诉管理").click()
    lead2.locator("tr[data-appeal]").filter(has_text="签署纸质文件").get_by_role("link", name="查看").click()
    card = lead2.locator("[data-appeal]")
    expect(card.get_by_test_id("appeal-attachment")).to_have_text("签字确认.png")
    card.locator("input[value=pass]").check()
    card.locator("textarea[name=appeal_decision_reason]").fill("签字照片可证明客户离开为签署文件")
    card.get_by_role("button", name="裁决申诉").click()
    expect(lead2.get_by_test_id("appeal-result")).to_contain_text("裁决：通过 · e2e_lead2")
    expect(lead2.get_by_test_id("review-outcome")).to_have_text("通过")

    # statistics: precision per check from the decisions above, counted by hand
    raised: dict[str, list[int]] = {}
    for key, confirmed in ((keys[0], 0), (keys[1], 1), (keys_b[0], 1), (keys_b[1], 1)):
        raised.setdefault(key.split(":")[0], []).append(confirmed)
    sidebar(page).get_by_role("link", name="质检准确率").click()
    for check, votes in raised.items():
        cell = page.locator(f"table.stats-table tr[data-key='{check}'] td[data-col=precision]")
        expect(cell).to_have_text(f"{100 * sum(votes) / len(votes):.1f}%")
    expect(page.locator("table.stats-table tr[data-key=total] td[data-col=precision]")).to_have_text("75.0%")
    expect(page.locator("table.stats-table tr[data-key=face_presence] td[data-col=missed]")).to_have_text("1")
    expect(page.locator("[data-testid=accuracy-chart][data-ready=true] canvas")).to_be_visible()
    shot(page, "63-review-stats")

    # a reviewer of another branch sees none of these recordings
    other = user_page(chromium, server_url, "e2e_rev_sh", errors)
    sidebar(other).get_by_role("link", name="复核队列").click()
    other.locator("button[data-view='all']").click()
    expect(other.locator(f"tr[data-recording='{rec_a}'], tr[data-recording='{rec_b}']")).to_have_count(0)
    item_b = admin_api.get(f"/api/v1/review/recordings/{rec_b}").json()
    other.goto(f"/review/items/{item_b['id']}")
    expect(other.locator(".alert.error")).to_contain_text("复核记录不存在")
    for p in (lead, sup, lead2, other):
        p.context.close()
    assert not errors, errors


def test_a_high_risk_rule_flags_a_recording_and_the_qc_manager_sees_the_notice(
    page: Page,
    chromium: Browser,
    server_url: str,
    shot: Shot,
    admin_api: httpx.Client,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The QC manager writes a high-risk rule in the console; a recording QC'd afterwards by the real
    engines matches it (a black picture); the QC job's follow-up flags it and the manager's bell
    shows the notice, which opens the recording with the flag and the rule's reasons. The manager
    of another branch gets no notice."""
    if (why := mf.available()) is not None:
        pytest.skip(why)
    branches = {b["code"]: b["id"] for b in admin_api.get("/api/v1/branches").json()}
    for name, branch in (("e2e_qcm", "HQ"), ("e2e_qcm_sh", "SH")):
        r = admin_api.post(
            "/api/v1/users",
            json={
                "username": name,
                "display_name": name,
                "password": PASSWORD,
                "role": "qc_manager",
                "branch_id": branches[branch],
            },
        )
        assert r.status_code == 201, r.text

    page.goto("/login")
    login(page, "e2e_qcm", PASSWORD)
    sidebar(page).get_by_role("link", name="高风险规则").click()
    page.get_by_test_id("new-high-risk-rule").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=name]").fill("黑屏即高风险")
    dialog.locator("input[name=checks_any]").fill("black_screen")
    dialog.locator("input[name=notify_roles]").fill("qc_manager")
    shot(page, "64-high-risk-rule")
    dialog.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("high-risk-flash")).to_have_text("规则已保存")
    expect(page.locator("tr[data-rule]").filter(has_text="黑屏即高风险")).to_contain_text("black_screen")

    factory = mf.MediaFactory(tmp_path_factory.mktemp("high-risk-media"))
    rec = upload(admin_api, factory.recording("black"), "E2E-HIGH-RISK", branches["BJ"])
    wait_qc(admin_api, rec)

    page.reload()
    expect(page.get_by_test_id("notice-count")).to_have_text("1", timeout=30_000)
    page.get_by_test_id("notice-bell").click()
    panel = page.get_by_test_id("notice-panel")
    expect(panel).to_contain_text("黑屏即高风险")
    shot(page, "65-high-risk-notice")
    panel.get_by_role("button", name=re.compile("高风险录像")).click()
    expect(page).to_have_url(re.compile(f"/recordings/{rec}$"))
    flag = page.get_by_test_id("high-risk-flag")
    expect(flag).to_contain_text("该录像被标记为高风险")
    expect(flag).to_contain_text("黑屏即高风险")
    expect(flag).to_contain_text("black_screen")
    expect(page.get_by_test_id("notice-count")).to_have_count(0)  # read by opening it

    errors: list[str] = []
    other = user_page(chromium, server_url, "e2e_qcm_sh", errors)
    expect(other.get_by_test_id("notice-bell")).to_be_visible()
    expect(other.get_by_test_id("notice-count")).to_have_count(0)
    other.get_by_test_id("notice-bell").click()
    expect(other.get_by_test_id("notice-panel")).to_contain_text("没有通知")
    other.context.close()
    assert not errors, errors
