"""Every console page speaks one language and shows no raw codes (issue #19).

The routes come from frontend/src/router.ts itself, so a page added later is walked too. Each page
is opened as the administrator and as a branch interviewer, in Chinese: the visible text must hold
no enumerated code the console has a name for (frontend/src/labels.ts: business and customer types,
statuses, audit actions, permissions, check ids, …) and no "中文 / English" pair. Every page is
photographed in both languages (test-artifacts/e2e/walk-*.png). The task page links to its
recording, QC report and signed documents, the recording page back to its task; the playback speed
survives a reload; the administrator is warned about a public URL customers cannot reach."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.h5_support import (
    chromium_with_camera,
    create_task,
    customer_frame,
    entry,
    microphone,
    phone,
    publish_system,
    server_database,
    write_y4m,
)
from tests.e2e.test_admin_console import USER_PASSWORD, login

Shot = Callable[[Page, str], None]
FRONTEND = Path(__file__).resolve().parents[2] / "frontend" / "src"
QC_TIMEOUT_S = 240  # the real engines on a shared 2-core machine
BRANCH_USER = "e2e_walk_branch"

# the enumerations whose raw values must never reach a page (labels.ts ENUMS.<kind>); node types are
# left out: node ids such as "identity" or "end" are the flow's own identifiers, shown on purpose
CODE_KINDS = (
    "businessTypes",
    "customerTypes",
    "taskStatuses",
    "modes",
    "verdicts",
    "checks",
    "actors",
    "auditActions",
    "permissions",
    "webhookEvents",
)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def raw_codes() -> set[str]:
    text = (FRONTEND / "labels.ts").read_text(encoding="utf-8")
    codes: set[str] = set()
    for kind in CODE_KINDS:
        match = re.search(rf"\n  {kind}: \[(.*?)\]", text, re.S)
        assert match, kind
        codes |= set(re.findall(r'"([^"]+)"', match.group(1)))
    return codes


SEPARATOR = re.compile(r"(?: / |(?<=[\u3000-\u303f\uff00-\uffef])/ )")


def bilingual_lines(text: str) -> list[str]:
    """Lines that show one message in both languages: Chinese, " / " (or "/ " after full-width
    punctuation, as the server writes it), then only non-Chinese text with Latin letters — the rule
    of frontend/src/bilingual.ts, applied to every separator of the line."""
    found = []
    for line in text.splitlines():
        for match in SEPARATOR.finditer(line):
            left, right = line[: match.start()], line[match.end() :]
            whole = CJK.search(left) and not CJK.search(right) and re.search(r"[A-Za-z]{2,}", right)
            # a pair nested in a longer text: Chinese (or its punctuation) right before, English after
            nested = re.search(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]\s*$", left) and re.match(
                r"[A-Za-z][a-z]{2,}", right
            )
            if whole or nested:
                found.append(line.strip())
                break
    return found


def codes_shown(text: str, codes: set[str]) -> set[str]:
    tokens = set(re.findall(r"[A-Za-z][A-Za-z0-9_.:-]*[A-Za-z0-9_]|[A-Za-z]", text))
    return tokens & codes


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    permission: str | None


def console_routes() -> list[Route]:
    """The console's routes as router.ts declares them: children of the shell, public pages and the
    catch-all left out."""
    text = (FRONTEND / "router.ts").read_text(encoding="utf-8")
    routes = []
    for chunk in re.split(r"\n\s*\{\s*\n", text):
        path = re.search(r'path:\s*"([^"]*)"', chunk)
        name = re.search(r'name:\s*"([^"]+)"', chunk)
        if not (path and name):
            continue
        meta = re.search(r"meta:\s*\{([^}]*)\}", chunk)
        if meta and "public: true" in meta.group(1):
            continue
        if "pathMatch" in path.group(1):
            continue
        permission = re.search(r'permission:\s*"([^"]+)"', meta.group(1)) if meta else None
        routes.append(
            Route(name.group(1), "/" + path.group(1).lstrip("/"), permission and permission.group(1))
        )
    return routes


@pytest.fixture(scope="module")
def world(
    admin_api: httpx.Client,
    server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """A Beijing task with its recording QC'd and a signed document on its attempt, a branch
    interviewer in Beijing, and ids for the pages that show one thing."""
    branches = {b["code"]: b for b in admin_api.get("/api/v1/branches").json()}
    created = admin_api.post(
        "/api/v1/users",
        json={
            "username": BRANCH_USER,
            "display_name": "孙支行",
            "password": USER_PASSWORD,
            "role": "interviewer",
            "branch_id": branches["BJ"]["id"],
        },
    )
    assert created.status_code in (201, 409), created.text
    task = admin_api.post(
        "/api/v1/tasks",
        json={
            "customer_name": "周走查",
            "id_number": "11010519491231002X",
            "customer_id": "C-WALK-1",
            "business_no": f"WALK-{uuid.uuid4().hex[:6]}",
            "business_type": "wealth",
            "customer_type": "elderly",
            "risk_level": "R3",
            "product": "稳健理财 1 号",
            "amount": "50000",
            "branch_id": branches["BJ"]["id"],
        },
    )
    assert task.status_code == 201, task.text
    task_id = task.json()["id"]

    clip = tmp_path_factory.mktemp("walk") / "walk.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=4"),
            *(
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=4",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
            ),
            *("-c:a", "aac", "-shortest", str(clip)),
        ],
        check=True,
        timeout=120,
    )
    with clip.open("rb") as fh:
        upload = admin_api.post(
            "/api/v1/recordings",
            files={"file": ("walk.mp4", fh, "video/mp4")},
            data={"task_id": task_id, "task": json.dumps({"mode": "human"})},
            timeout=60.0,
        )
    assert upload.status_code == 202, upload.text
    recording_id = upload.json()["id"]
    deadline = time.monotonic() + QC_TIMEOUT_S
    status = ""
    while time.monotonic() < deadline and status not in ("passed", "review", "failed"):
        status = admin_api.get(f"/api/v1/tasks/{task_id}").json()["status"]
        time.sleep(1.5)
    assert status in ("passed", "review", "failed"), status

    # A signed document as a completed self-service session leaves it on the attempt (test_self_service
    # drives that whole session; here it is written the way services/tasks/qc_result.py writes it).
    with sqlite3.connect(server_database(tmp_path_factory)) as db:
        (raw,) = db.execute(
            "SELECT result FROM task_attempts WHERE task_id = ? AND number = 1", (task_id,)
        ).fetchone()
        result = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        result["signed_documents"] = [
            {"name": "产品说明书（已签署）.pdf", "sha256": "ab" * 32, "blob_key": "x"}
        ]
        db.execute(
            "UPDATE task_attempts SET result = ? WHERE task_id = ? AND number = 1",
            (json.dumps(result, ensure_ascii=False), task_id),
        )

    items = admin_api.get("/api/v1/review/items", params={"view": "all"})
    review_id = (
        items.json()["items"][0]["id"] if items.status_code == 200 and items.json().get("items") else None
    )
    return {
        "task": task_id,
        "recording": recording_id,
        "review": review_id,
        "base": server_url,
    }


def sign_in(page: Page, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    page.goto("/login")
    login(page, username, password)
    expect(page.get_by_test_id("user-name")).to_be_visible()


def fill(route: Route, world: dict[str, Any]) -> str:
    """The route's path with its parameters set to things that exist (a made-up id otherwise: the
    page then says it found nothing, in the same one language)."""
    by_name = {
        "recording": world["recording"],
        "archive-entry": world["recording"],
        "task": world["task"],
        "rtc-desk": world["task"],
        "flow-editor": "wm-sale",
        "review-item": world["review"],
    }

    def value(match: re.Match[str]) -> str:
        return str(by_name.get(route.name) or uuid.UUID(int=1))

    return re.sub(r":(\w+)(\([^)]*\))?\*?", value, route.path)


def settle(page: Page) -> None:
    # a page that polls never idles; what it shows by then is what is checked
    with contextlib.suppress(PlaywrightError):
        page.wait_for_load_state("networkidle", timeout=6_000)
    expect(page.locator("main.content")).to_be_visible()
    expect(page.get_by_text("加载中…")).to_have_count(0, timeout=8_000)


def set_language(page: Page, locale: str) -> None:
    # the user's own setting on the server wins over this browser's choice (other tests may have
    # switched it through the language menu): set both, as the menu does
    page.evaluate("l => localStorage.setItem('dualrec.locale', l)", locale)
    r = page.request.put(
        "/api/v1/auth/me/language", data={"language": locale}, headers={"X-Requested-With": "dualrec"}
    )
    assert r.ok, r.text()


def walk(page: Page, shot: Shot, world: dict[str, Any], role: str, both_languages: bool) -> list[str]:
    codes = raw_codes()
    granted = set(page.request.get("/api/v1/auth/me").json()["permissions"])
    set_language(page, "zh-CN")
    problems: list[str] = []
    for route in console_routes():
        if route.permission and route.permission not in granted:
            continue  # the router sends them to 403, walked once under its own name
        url = fill(route, world)
        page.goto(url)
        settle(page)
        text = page.locator("body").inner_text()
        for code in sorted(codes_shown(text, codes)):
            problems.append(f"{role} {url}: raw code {code!r}")
        for line in bilingual_lines(text):
            problems.append(f"{role} {url}: two languages: {line[:120]!r}")
        shot(page, f"walk-{role}-{route.name}-zh")
        if both_languages:
            set_language(page, "en")
            try:
                page.reload()
                settle(page)
                for line in bilingual_lines(page.locator("body").inner_text()):
                    problems.append(f"{role} {url} (en): two languages: {line[:120]!r}")
                shot(page, f"walk-{role}-{route.name}-en")
            finally:  # the user's setting is shared by the other browser tests of this server
                set_language(page, "zh-CN")
    return problems


def test_routes_are_read_from_the_router() -> None:
    names = {r.name for r in console_routes()}
    assert {"home", "tasks", "task", "recording", "audit", "flow-editor", "forbidden"} <= names
    assert not names & {"login", "h5", "not-found"}


@pytest.mark.timeout(600)
def test_every_page_speaks_one_language_and_shows_no_codes(
    chromium: Browser, world: dict[str, Any], shot: Shot
) -> None:
    problems: list[str] = []
    for role, username, password in (
        ("admin", "admin", ADMIN_PASSWORD),
        ("branch", BRANCH_USER, USER_PASSWORD),
    ):
        context = chromium.new_context(
            base_url=world["base"], locale="zh-CN", viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        try:
            sign_in(page, username, password)
            problems += walk(page, shot, world, role, both_languages=role == "admin")
        finally:
            context.close()
        assert not errors, f"{role}: errors in the page: {errors}"
    assert not problems, "\n".join(problems)


def test_the_task_page_links_its_recording_report_and_signed_documents(
    page: Page, world: dict[str, Any], shot: Shot
) -> None:
    sign_in(page)
    page.goto(f"/tasks/{world['task']}")
    links = page.locator("td.attempt-links[data-attempt='1']")
    expect(links.locator("[data-link=report]")).to_have_attribute(
        "href", f"/api/v1/recordings/{world['recording']}/report.pdf?lang=zh-CN"
    )
    expect(links.locator("[data-link=signed]")).to_contain_text("产品说明书（已签署）.pdf")
    package = links.locator("[data-link=signed-package]")
    expect(package).to_have_attribute("href", f"/api/v1/recordings/{world['recording']}/evidence-package.zip")
    assert page.request.get(package.get_attribute("href") or "").ok
    # each signed document opens from its own link (tests/integration/test_rtc_desk.py reads a real
    # one); this fixture's entry is a placeholder with no stored bytes, which the server says plainly
    doc = links.locator("[data-link=signed-document]").first
    href = doc.get_attribute("href") or ""
    assert href == f"/api/v1/tasks/{world['task']}/attempts/1/signed-documents/0"
    missing = page.request.get(href)
    assert missing.status == 409 and missing.json()["message_key"] == "tasks.signed_document_missing"
    pdf = page.request.get(f"/api/v1/recordings/{world['recording']}/report.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    expect(page.locator(".task-facts")).to_contain_text("老年客户")  # the customer type by name
    expect(page.locator(".task-facts")).to_contain_text("理财")
    shot(page, "walk-task-links")

    links.locator("[data-link=recording]").click()
    expect(page).to_have_url(re.compile(f"/recordings/{world['recording']}$"))
    back = page.locator("[data-link=task]")
    expect(back).to_be_visible()
    back.click()
    expect(page).to_have_url(re.compile(f"/tasks/{world['task']}$"))


def test_the_status_filter_offers_handed_over(
    page: Page, world: dict[str, Any], admin_api: httpx.Client, server_url: str
) -> None:
    # A customer who asks for a person: their task is handed over and must be found by the filter.
    made = admin_api.post(
        "/api/v1/tasks",
        json={
            "customer_name": "吴转人工",
            "id_number": "11010519491231002X",
            "customer_id": "C-WALK-2",
            "business_no": f"WALK-HO-{uuid.uuid4().hex[:6]}",
            "business_type": "wealth",
            "customer_type": "personal",
            "risk_level": "R2",
            "product": "稳健理财 1 号",
            "amount": "10000",
        },
    )
    assert made.status_code == 201, made.text
    token = made.json()["entry_url"].rsplit("/h5/", 1)[1]
    with httpx.Client(base_url=server_url, timeout=30) as customer:
        customer.get(f"/api/v1/session/{token}").raise_for_status()
        customer.post(f"/api/v1/session/{token}/consent", json={"agree": True}).raise_for_status()
        helped = customer.post(f"/api/v1/session/{token}/help", json={})
        assert helped.status_code == 200 and helped.json()["status"] == "handover", helped.text
    sign_in(page)
    page.goto("/tasks")
    status = page.locator("select[name=status]")
    expect(status.locator("option[value=handover]")).to_have_text("已转人工")
    with page.expect_response(lambda r: "/api/v1/tasks?" in r.url and "status=handover" in r.url) as asked:
        status.select_option(label="已转人工")
        page.get_by_role("button", name="搜索").click()
    assert asked.value.ok
    # The table re-renders after the answer arrives: wait for it rather than read the old rows.
    expect(page.locator("tbody .status").filter(has_not_text="已转人工")).to_have_count(0)
    expect(page.locator(f"tr[data-task-id='{made.json()['id']}'] .status")).to_have_text("已转人工")
    status.select_option(label="全部")
    page.get_by_role("button", name="搜索").click()
    cell = page.locator(f"tr[data-task-id='{world['task']}'] .status")
    expect(cell).to_be_visible()
    box = cell.bounding_box()
    assert box is not None and box["width"] > box["height"], box  # one line, not a vertical column


def test_playback_speed_survives_a_reload(page: Page, world: dict[str, Any]) -> None:
    sign_in(page)
    page.goto(f"/recordings/{world['recording']}")
    player = page.locator("video.player")
    expect(player).to_have_js_property("readyState", 4, timeout=20_000)
    page.locator(".speed-button[data-rate='1.5']").click()
    expect(player).to_have_js_property("playbackRate", 1.5)
    page.reload()
    expect(page.locator(".speed-button[data-rate='1.5']")).to_have_attribute("aria-pressed", "true")
    expect(player).to_have_js_property("readyState", 4, timeout=20_000)
    expect(player).to_have_js_property("playbackRate", 1.5)
    page.locator(".speed-button[data-rate='1']").click()  # leave the default for other tests


def test_admins_are_warned_when_links_use_another_address(
    page: Page, world: dict[str, Any], shot: Shot
) -> None:
    """The e2e server keeps the default DUALREC_PUBLIC_URL (http://127.0.0.1:8000) but listens on
    another port: the links it makes would not open. Admins see a banner; everyone who gets a link
    sees which address it is built on."""
    sign_in(page)
    banner = page.get_by_test_id("public-url-banner")
    expect(banner).to_contain_text("http://127.0.0.1:8000")
    expect(banner).to_contain_text(world["base"])
    page.goto("/tasks")
    page.get_by_role("button", name="新建任务").click()
    dialog = page.get_by_role("dialog", name="新建任务")
    for field, value in (
        ("客户姓名", "吴链接"),
        ("身份证号", "11010519491231002X"),
        ("客户号", "C-WALK-LINK"),
        ("业务编号", f"WALK-LINK-{uuid.uuid4().hex[:6]}"),
        ("产品名称", "稳健理财 1 号"),
        ("金额", "10000"),
    ):
        dialog.get_by_label(field, exact=True).fill(value)
    dialog.get_by_role("button", name="创建并生成链接").click()
    expect(dialog.get_by_test_id("entry-link")).to_have_text(re.compile("^http://127.0.0.1:8000/h5/"))
    note = dialog.get_by_test_id("public-url-note")
    expect(note).to_contain_text("链接地址基于 http://127.0.0.1:8000")
    expect(note).to_have_attribute("data-mismatch", "true")
    shot(page, "walk-public-url-warning")
    dialog.get_by_role("button", name="关闭").first.click()
    page.get_by_role("button", name="退出登录").click()

    sign_in(page, BRANCH_USER, USER_PASSWORD)  # no settings:read: no banner
    expect(page.get_by_test_id("public-url-banner")).to_have_count(0)


def test_the_flow_editor_calls_only_bank_questions_anti_fraud(page: Page) -> None:
    sign_in(page)
    page.goto("/flows/wm-sale")
    expect(page.locator('.node-list li[data-node="consent"]')).not_to_contain_text("反欺诈提问")
    expect(page.locator('.node-list li[data-node="consent"]')).to_contain_text("问答确认")
    expect(page.locator('.node-list li[data-node="fraud"]')).to_contain_text("反欺诈提问")


SIGN_FLOW: dict[str, Any] = {
    "mode": "self_service",
    "nodes": [
        {"id": "sign", "type": "signing", "title": "电子签名", "script": "请在屏幕上签署您的姓名。"},
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成，感谢您的配合。"},
    ],
}


@pytest.fixture(scope="module")
def camera(chromium: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    out = tmp_path_factory.mktemp("walk-camera")
    cam = write_y4m([customer_frame()] * 10, out / "still.y4m", fps=10)
    with chromium_with_camera(chromium, cam, microphone(out)) as browser:
        yield browser


@pytest.mark.timeout(300)
def test_the_signature_error_goes_once_the_customer_signs(
    camera: Browser, admin_api: httpx.Client, server_url: str, shot: Shot
) -> None:
    system = publish_system(
        admin_api,
        server_url,
        code="e2e-walk-sign",
        name="E2E 签名",
        business="e2e_walk_sign",
        flow=SIGN_FLOW,
        rule_name="E2E 签名",
        key_name="E2E 签名系统",
    )
    task = create_task(system, "e2e_walk_sign", "WALK-SIGN-1")
    page = phone(camera, server_url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(entry(task))
    page.locator("[data-test=agree]").click()
    pad = page.locator("[data-test=sign-pad]")
    expect(pad).to_be_visible(timeout=60_000)

    page.locator("[data-test=sign-confirm]").click()  # nothing drawn
    error = page.locator("[data-type=signing] [role=alert]")
    expect(error).to_be_visible()
    message = error.inner_text()
    assert CJK.search(message) and not bilingual_lines(message), message  # Chinese only
    shot(page, "walk-signature-empty")

    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    for i in range(1, 25):
        page.mouse.move(box["x"] + 30 + i * 10, box["y"] + box["height"] * (0.6 - 0.3 * ((i % 6) / 6)))
    page.mouse.up()
    expect(error).to_have_count(0)
    page.locator("[data-test=sign-confirm]").click()
    expect(page.locator("[data-node=end]")).to_be_visible(timeout=30_000)
    assert not errors, errors
