"""Recordings and QC reports in the browser: upload through the dialog, the real QC engines run on
the server, the report page's timeline seeks the video; API keys; who may see which recording."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.media_factory import OPENING, MediaFactory, available

from .conftest import ADMIN_PASSWORD
from .test_admin_console import USER_PASSWORD, login, sidebar

Shot = Callable[[Page, str], None]
QC_TIMEOUT_MS = 180_000  # the real engines (ASR, faces, OCR) run on a 2-core machine


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 s test pattern with a tone: a sound file, but nobody in the picture."""
    out = tmp_path_factory.mktemp("media") / "e2e-clip.mp4"
    sources = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=6"]
    sources += ["-f", "lavfi", "-i", "sine=frequency=440:duration=6"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest"]
    subprocess.run(
        ["ffmpeg", "-v", "error", *sources, *codecs, str(out)],
        check=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="module")
def broken_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("media") / "broken.mp4"
    out.write_text("这不是视频 not a video\n" * 50, encoding="utf-8")
    return out


def make_user(api: httpx.Client, username: str, role: str, branch_code: str) -> None:
    branch = next(b for b in api.get("/api/v1/branches").json() if b["code"] == branch_code)
    response = api.post(
        "/api/v1/users",
        json={
            "username": username,
            "display_name": username,
            "password": USER_PASSWORD,
            "role": role,
            "branch_id": branch["id"],
        },
    )
    assert response.status_code == 201, response.text


def upload(page: Page, file: Path, running_no: str) -> Locator:
    """Uploads through the dialog and returns the list row, once QC has given it a verdict."""
    page.get_by_role("button", name="上传录像").click()
    dialog = page.get_by_role("dialog", name="上传录像")
    dialog.get_by_label("手动填写客户信息").check()
    dialog.locator("input[name=file]").set_input_files(str(file))
    dialog.get_by_label("业务流水号").fill(running_no)
    dialog.get_by_role("button", name="开始上传").click()
    expect(dialog).to_be_hidden(timeout=60_000)
    row = page.locator(f"tr[data-running-no='{running_no}']")
    expect(row).to_be_visible()
    expect(row.locator("[data-verdict]")).to_be_visible(timeout=QC_TIMEOUT_MS)
    return row


def video_time(page: Page) -> float:
    value = page.locator("video.player").evaluate("v => v.currentTime")
    return float(value)


def set_video_time(page: Page, seconds: float) -> None:
    page.locator("video.player").evaluate(
        "(v, t) => new Promise(ok => {"
        " v.addEventListener('seeked', ok, { once: true }); v.currentTime = t; })",
        seconds,
    )


def test_admin_uploads_a_recording_and_confirms_a_finding_on_the_video(
    page: Page, shot: Shot, clip: Path
) -> None:
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    nav = sidebar(page)
    nav.get_by_role("link", name="录像质检").click()
    expect(page.get_by_role("heading", name="录像质检")).to_be_visible()

    page.get_by_role("button", name="上传录像").click()
    dialog = page.get_by_role("dialog", name="上传录像")
    dialog.get_by_label("手动填写客户信息").check()
    dialog.get_by_label("证件号码").fill("110105194912310021")  # wrong check digit
    expect(dialog).to_contain_text("证件号码格式或校验位看起来不正确")
    dialog.get_by_label("证件号码").fill("11010519491231002X")
    expect(dialog).not_to_contain_text("校验位看起来不正确")
    dialog.get_by_role("button", name="开始上传").click()
    expect(dialog).to_contain_text("请选择录像文件")  # nothing is sent without a file
    dialog.get_by_role("button", name="取消").click()

    row = upload(page, clip, "E2E-REC-001")
    verdict = row.locator("[data-verdict]").get_attribute("data-verdict")
    assert verdict in ("PASS", "REVIEW", "FAIL")
    expect(row).to_contain_text("已完成")
    expect(row).to_contain_text("admin")
    expect(page.get_by_role("status")).to_contain_text("已上传")
    shot(page, "30-recordings-list")

    row.get_by_role("link", name="查看报告").click()
    expect(page).to_have_url(re.compile(r"/recordings/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name=re.compile("质检报告"))).to_contain_text("E2E-REC-001")
    integrity = page.locator("tr.check-row[data-check='file_integrity']")
    expect(integrity).to_contain_text("文件完整性")
    expect(integrity.locator(".check-status")).to_have_text("通过")
    # A check that could not run says why (no flow was supplied with this upload).
    script = page.locator("tr.check-row[data-check='script_coverage']")
    expect(script.locator(".check-status")).to_have_text("未检查")
    expect(script.locator(".check-reason")).not_to_be_empty()
    expect(page.locator(".info-list")).to_contain_text("320 × 240")

    player = page.locator("video.player")
    expect(player).to_have_js_property("readyState", 4, timeout=20_000)
    markers = page.locator(".timeline-marker")
    assert markers.count() > 0, "a picture with nobody in it must give findings on the timeline"
    marker = markers.last
    start = float(marker.get_attribute("data-start") or "nan")
    set_video_time(page, 5.5 if start < 3 else 0.2)
    before = video_time(page)
    marker.click()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('video.player').currentTime - t) < 0.2", arg=start
    )
    assert abs(video_time(page) - start) < 0.2 and abs(before - start) > 1
    shot(page, "31-report-after-seek")

    # The same finding from the checks list (failed checks start expanded) seeks too.
    list_button = page.locator(".findings .time-link[data-start]").first
    list_start = float(list_button.get_attribute("data-start") or "nan")
    set_video_time(page, 5.5 if list_start < 3 else 0.2)
    list_button.click()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('video.player').currentTime - t) < 0.2", arg=list_start
    )

    # An evidence frame opens large; from there the video jumps to the frame's moment.
    thumbs = page.locator(".findings .thumb")
    assert thumbs.count() > 0, "the not-on-camera finding carries an evidence frame"
    thumbs.first.click()
    enlarged = page.get_by_role("dialog")
    expect(enlarged.locator("img.evidence-large")).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.evidence-large')?.naturalWidth > 0")
    frame_time = float(enlarged.locator("img.evidence-large").get_attribute("data-time") or "nan")
    shot(page, "32-evidence-enlarged")
    set_video_time(page, 0.0 if frame_time > 1 else 5.5)
    enlarged.get_by_role("button", name="在录像中查看此刻").click()
    expect(enlarged).to_be_hidden()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('video.player').currentTime - t) < 0.2", arg=frame_time
    )

    with page.expect_download() as download:
        page.get_by_role("link", name="下载专利格式 JSON").click()
    saved = download.value
    assert saved.suggested_filename == "qc-E2E-REC-001-patent.json"
    patent = json.loads(Path(saved.path()).read_text(encoding="utf-8"))
    assert patent["runningNo"] == "E2E-REC-001"
    # The PDF button appears exactly when the server has a PDF for the recording.
    recording_id = page.url.rsplit("/", 1)[-1]
    links = page.request.get(f"/api/v1/recordings/{recording_id}").json()["links"]
    pdf_button = page.get_by_role("link", name="打开 PDF 报告")
    if "pdf" in links:
        assert pdf_button.get_attribute("href") == f"{links['pdf']}?lang=zh-CN"
        pdf = page.request.get(links["pdf"])
        assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    else:
        expect(pdf_button).to_have_count(0)


def test_api_key_secret_is_shown_once_and_the_key_can_be_revoked(
    page: Page, shot: Shot, admin_api: httpx.Client
) -> None:
    beijing = next(b for b in admin_api.get("/api/v1/branches").json() if b["code"] == "BJ")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="接入密钥").click()
    expect(page.get_by_role("heading", name="接入密钥")).to_be_visible()
    page.get_by_role("button", name="新建密钥").click()
    dialog = page.get_by_role("dialog", name="新建密钥")
    dialog.get_by_label("名称").fill("核心业务系统")
    dialog.get_by_label("网点").select_option(value=str(beijing["id"]))
    types = dialog.locator("input[name=business_type]")
    for business in ("fund", "insurance"):
        types.fill(business)
        types.press("Enter")
    expect(dialog.locator(".tag")).to_have_count(2)
    dialog.get_by_role("button", name="保存").click()

    expect(dialog).to_contain_text("密钥只显示这一次")
    secret = dialog.get_by_test_id("secret").inner_text().strip()
    assert len(secret) >= 20
    dialog.get_by_role("button", name="复制").click()
    expect(dialog).to_contain_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shot(page, "33-api-key-secret-once")
    dialog.get_by_role("button", name="我已保存，关闭").click()
    expect(dialog).to_be_hidden()

    row = page.locator("tr[data-name='核心业务系统']")
    expect(row).to_contain_text("北京分行")
    expect(row).to_contain_text("基金")
    expect(row).to_contain_text("有效")
    page.reload()
    expect(row).to_be_visible()
    assert secret not in page.content()
    shot(page, "34-api-keys-list")

    page.once("dialog", lambda confirm: confirm.accept())
    row.get_by_role("button", name="吊销").click()
    expect(page.get_by_role("status")).to_have_text("密钥已吊销")
    expect(row.get_by_role("button", name="吊销")).to_have_count(0)


def test_interviewer_uploads_and_reads_reports_but_another_branch_sees_nothing(
    page: Page, shot: Shot, admin_api: httpx.Client, broken_file: Path
) -> None:
    make_user(admin_api, "e2e_rec_interviewer", "interviewer", "BJ-CY")
    make_user(admin_api, "e2e_rec_auditor_sh", "auditor", "SH")
    page.goto("/login")
    login(page, "e2e_rec_interviewer", USER_PASSWORD)
    nav = sidebar(page)
    expect(nav.get_by_role("link", name="录像质检")).to_be_visible()
    expect(nav).not_to_contain_text("接入密钥")
    nav.get_by_role("link", name="录像质检").click()

    # A server-side refusal (the "ID photo" is not an image) keeps the dialog open with the reason.
    page.get_by_role("button", name="上传录像").click()
    dialog = page.get_by_role("dialog", name="上传录像")
    dialog.get_by_label("手动填写客户信息").check()
    dialog.locator("input[name=file]").set_input_files(str(broken_file))
    dialog.get_by_label("业务流水号").fill("E2E-REC-PHOTO")
    dialog.locator("input[name=id_photo]").set_input_files(
        {"name": "id.jpg", "mimeType": "image/jpeg", "buffer": b"not an image"}
    )
    dialog.get_by_role("button", name="开始上传").click()
    expect(dialog.get_by_role("alert")).to_contain_text("证件照不是可识别的图片")
    expect(dialog.locator("input[name=id_photo] ~ .field-error")).to_have_text("not an image")
    shot(page, "35a-upload-refused")
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("tr[data-running-no='E2E-REC-PHOTO']")).to_have_count(0)

    row = upload(page, broken_file, "E2E-REC-BAD")
    expect(row.locator("[data-verdict]")).to_have_text("不通过")
    row.get_by_role("link", name="查看报告").click()
    expect(page).to_have_url(re.compile(r"/recordings/[0-9a-f-]{36}$"))
    recording_url = page.url
    integrity = page.locator("tr.check-row[data-check='file_integrity']")
    expect(integrity.locator(".check-status")).to_have_text("不通过")
    # Failed checks open by themselves: the reviewer sees what is wrong without a click.
    findings = page.locator("tr.findings-row").first
    expect(findings.locator(".finding-message")).not_to_be_empty()
    expect(page.locator(".report-header")).to_contain_text("不通过")
    expect(page.get_by_role("alert")).to_contain_text("该文件无法解码")  # instead of a dead player
    expect(page.locator("video")).to_have_count(0)
    shot(page, "35-broken-file-report")

    page.goto("/admin/api-keys")
    expect(page).to_have_url(re.compile(r"/403"))

    page.get_by_role("button", name="退出登录").click()
    login(page, "e2e_rec_auditor_sh", USER_PASSWORD)
    sidebar(page).get_by_role("link", name="录像质检").click()
    expect(page.get_by_role("heading", name="录像质检")).to_be_visible()
    expect(page.locator("tr[data-running-no='E2E-REC-BAD']")).to_have_count(0)
    expect(page.locator("tr[data-running-no='E2E-REC-001']")).to_have_count(0)
    page.goto(recording_url)
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("video")).to_have_count(0)
    shot(page, "36-other-branch-cannot-see")


def test_spoken_recording_report_seeks_from_a_finding_and_from_the_transcript(
    page: Page, shot: Shot, admin_api: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Real speech and a real face, the picture frozen 8–12 s: the report shows the frozen span on the
    timeline and the recognised speech; both take the video to their moment."""
    if (why := available()) is not None:
        pytest.skip(why)
    frozen = MediaFactory(tmp_path_factory.mktemp("factory")).recording("frozen")
    with frozen.open("rb") as fh:
        response = admin_api.post(
            "/api/v1/recordings",
            files={"file": ("frozen.mp4", fh, "video/mp4")},
            data={"task": json.dumps({"running_no": "E2E-REC-SPEECH", "mode": "human"})},
            timeout=60.0,
        )
    assert response.status_code == 202, response.text
    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    expect(page.get_by_test_id("user-role")).to_have_text("管理员")
    page.goto(f"/recordings/{response.json()['id']}")
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_be_visible()
    shot(page, "37-report-while-running")
    expect(page.locator("table.checks-table")).to_be_visible(timeout=QC_TIMEOUT_MS)
    expect(page.locator("video.player")).to_have_js_property("readyState", 4, timeout=20_000)

    marker = page.locator(".timeline-marker[data-check='frozen_picture']")
    expect(marker).to_have_count(1)
    start = float(marker.get_attribute("data-start") or "nan")
    assert 7.0 <= start <= 9.0, start  # the picture freezes at 8 s
    marker.click()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('video.player').currentTime - t) < 0.2", arg=start
    )

    lines = page.locator(".transcript-line")
    assert lines.count() > 0, "real Mandarin speech gives a transcript"
    expect(page.locator(".transcript")).to_contain_text("语音识别")
    line = lines.last
    line_time = line.locator(".time").inner_text()
    line.click()
    minutes, seconds = line_time.split(":")
    page.wait_for_function(
        "t => Math.abs(document.querySelector('video.player').currentTime - t) < 0.2",
        arg=int(minutes) * 60 + float(seconds),
    )
    expect(page.locator(".transcript li.speaking")).to_have_count(1)
    shot(page, "38-report-with-speech")

    # In English the page uses the checks' English titles.
    report = page.request.get(f"/api/v1/recordings/{response.json()['id']}/report").json()
    title_en = next(c["title_en"] for c in report["checks"] if c["id"] == "frozen_picture")
    page.get_by_label("语言").select_option("en")
    expect(page.get_by_role("heading", name="Findings timeline")).to_be_visible()
    expect(page.locator("tr.check-row[data-check='frozen_picture']")).to_contain_text(title_en)
    expect(page.locator(".lane-label", has_text=title_en)).to_have_count(1)
    shot(page, "39-report-in-english")


UPLOAD_FLOW = {
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


def _task(admin_api: httpx.Client, business_no: str, branch_code: str) -> dict[str, object]:
    branch = next(b for b in admin_api.get("/api/v1/branches").json() if b["code"] == branch_code)
    body = {
        "customer_id": "E2E-UP-C1",
        "customer_name": "赵柜面",
        "id_number": "11010519491231002X",
        "customer_type": "personal",
        "risk_level": "R2",
        "business_type": "e2e-upload",
        "business_no": business_no,
        "product": "E2E 柜面理财",
        "amount": "5000.00",
        "documents": [],
        "branch_id": branch["id"],
    }
    r = admin_api.post("/api/v1/tasks", json=body)
    assert r.status_code == 201, r.text
    task: dict[str, object] = r.json()
    return task


def test_an_upload_picks_its_task_and_is_checked_against_the_tasks_flow(
    page: Page, shot: Shot, admin_api: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The uploader finds the task by its running number (only tasks of the branches they see, those
    that cannot take a recording shown but not selectable), uploads for it, and the report's script
    check runs against the task's flow; the task moves to QC with the recording."""
    r = admin_api.post(
        "/api/v1/flows",
        json={
            "code": "e2e-upload-flow",
            "name": "柜面理财",
            "business_type": "e2e-upload",
            "definition": UPLOAD_FLOW,
        },
    )
    assert r.status_code == 201, r.text
    assert admin_api.post("/api/v1/flows/e2e-upload-flow/publish", json={}).status_code == 201
    rules = [
        {k: v for k, v in rule.items() if k != "id"} for rule in admin_api.get("/api/v1/routing-rules").json()
    ]
    mine = {
        "name": "E2E 柜面上传",
        "priority": 2,
        "flow_code": "e2e-upload-flow",
        "mode": "human",  # recorded at the counter with a teller
        "business_types": ["e2e-upload"],
    }
    assert admin_api.put("/api/v1/routing-rules", json={"rules": [mine, *rules]}).status_code == 200
    task = _task(admin_api, "E2E-UP-0001", "BJ")
    done_task = _task(admin_api, "E2E-UP-0002", "BJ")
    assert (
        admin_api.post(f"/api/v1/tasks/{done_task['id']}/cancel", json={"reason": "客户取消"}).status_code
        == 200
    )
    _task(admin_api, "E2E-UP-0003", "SH")  # the same customer in another branch: never listed
    make_user(admin_api, "e2e_up_teller", "interviewer", "BJ")
    video = MediaFactory(tmp_path_factory.mktemp("factory")).recording()  # the opening read aloud

    page.goto("/login")
    login(page, "e2e_up_teller", USER_PASSWORD)
    sidebar(page).get_by_role("link", name="录像质检").click()
    page.get_by_role("button", name="上传录像").click()
    dialog = page.get_by_role("dialog", name="上传录像")
    expect(dialog.get_by_label("关联双录任务")).to_be_checked()  # a task by default
    dialog.locator("input[name=file]").set_input_files(str(video))
    dialog.get_by_role("button", name="开始上传").click()
    expect(dialog).to_contain_text("请选择录像所属的任务")  # nothing is sent without a task

    search = dialog.get_by_label("查找任务")
    search.fill("赵柜面")
    dialog.get_by_role("button", name="搜索").click()
    results = dialog.get_by_test_id("task-results")
    expect(results.locator("li")).to_have_count(2)  # E2E-UP-0003 is another branch's
    expect(results).not_to_contain_text("E2E-UP-0003")
    cancelled = results.locator("li", has_text="E2E-UP-0002")
    expect(cancelled).to_contain_text("已取消")
    expect(cancelled.get_by_role("radio")).to_be_disabled()
    search.fill("E2E-UP-0001")
    search.press("Enter")
    expect(results.locator("li")).to_have_count(1)
    results.get_by_role("radio").check()
    expect(dialog.get_by_test_id("task-chosen")).to_contain_text("e2e-upload-flow")
    expect(dialog.get_by_label("业务流水号")).to_have_count(0)  # the task's data applies
    expect(dialog.get_by_label("人工双录")).to_be_checked()  # the mode follows the task's
    shot(page, "40-upload-picks-a-task")
    dialog.get_by_role("button", name="开始上传").click()
    expect(dialog).to_be_hidden(timeout=60_000)

    row = page.locator("tr[data-running-no='E2E-UP-0001']")
    expect(row).to_be_visible()
    current = admin_api.get(f"/api/v1/tasks/{task['id']}").json()
    recording_id = current["attempts"][0]["recording_id"]
    assert recording_id and current["status"] in ("qc", "passed", "review", "failed")
    expect(row.locator("[data-verdict]")).to_be_visible(timeout=QC_TIMEOUT_MS)
    row.get_by_role("link", name="查看报告").click()
    script = page.locator("tr.check-row[data-check='script_coverage']")
    expect(script.locator(".check-status")).to_have_text("通过")  # checked against the task's flow
    answers = page.locator("tr.check-row[data-check='answers']")
    expect(answers.locator(".check-status")).not_to_have_text("未检查")
    shot(page, "41-report-of-a-task-upload")
