"""The archive in the browser: search finds an uploaded recording (masked), its catalogue entry, a
deletion request that walks the approval chain — step 1 by a department head, step 2 refused to the
wrong role, then approved by compliance, step 3 by an administrator — after which the recording's
media is gone (404) and the catalogue shows 已删除 with the ledger tombstone."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from .conftest import ADMIN_PASSWORD
from .test_admin_console import USER_PASSWORD, login
from .test_recordings import make_user

Shot = Callable[[Page, str], None]
QC_TIMEOUT_S = 240  # the real engines run on a 2-core machine


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of test pattern and tone (nobody in the picture: QC finishes quickly)."""
    out = tmp_path_factory.mktemp("archive-media") / "archive.mp4"
    sources = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=4"]
    sources += ["-f", "lavfi", "-i", "sine=frequency=440:duration=4"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest"]
    subprocess.run(["ffmpeg", "-v", "error", *sources, *codecs, str(out)], check=True, timeout=120)
    return out


def _upload(api: httpx.Client, path: Path, running_no: str) -> str:
    task = {"running_no": running_no, "customer_name": "赵档案", "id_number": "11010519491231002X"}
    with path.open("rb") as fh:
        r = api.post(
            "/api/v1/recordings",
            files={"file": ("e2e.mp4", fh, "video/mp4")},
            data={"task": json.dumps(task, ensure_ascii=False)},
            timeout=60,
        )
    assert r.status_code == 202, r.text
    rid: str = r.json()["id"]
    deadline = time.monotonic() + QC_TIMEOUT_S
    while api.get(f"/api/v1/recordings/{rid}").json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "QC did not finish"
        time.sleep(1)
    return rid


def _as(page: Page, username: str, password: str = USER_PASSWORD) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    login(page, username, password)
    expect(page.get_by_test_id("user-name")).to_be_visible()


def _approve_first(page: Page, comment: str) -> None:
    page.goto("/archive/approvals")
    card = page.locator("article.request-card").first
    expect(card).to_be_visible()
    card.get_by_label("审批意见").fill(comment)
    card.get_by_test_id("approve").click()
    expect(page.get_by_text("已提交审批")).to_be_visible()


def test_deletion_walks_the_approval_chain_in_the_ui(
    page: Page, admin_api: httpx.Client, clip: Path, shot: Shot
) -> None:
    tag = uuid.uuid4().hex[:6]
    users = {"head_a": f"arch_a_{tag}", "head_b": f"arch_b_{tag}", "comp": f"arch_c_{tag}"}
    make_user(admin_api, users["head_a"], "branch_supervisor", "HQ")
    make_user(admin_api, users["head_b"], "branch_supervisor", "HQ")
    make_user(admin_api, users["comp"], "compliance", "HQ")
    running_no = f"E2E-ARCH-{tag}"
    rid = _upload(admin_api, clip, running_no)
    assert admin_api.get(f"/api/v1/recordings/{rid}/media").status_code in (200, 206)

    # a department head finds it (masked: no sensitive:unmask) and requests its deletion
    _as(page, users["head_a"])
    page.goto("/archive")
    page.locator("[data-testid=archive-filters] input[name=business_no]").fill(running_no)
    page.get_by_role("button", name="搜索").click()
    row = page.locator(f"tr[data-recording-id='{rid}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("赵*案")
    expect(row).not_to_contain_text("11010519491231002X")
    shot(page, "archive-01-search")
    row.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/archive/{rid}$"))
    expect(page.get_by_test_id("entry-status")).to_have_text("在档")
    expect(page.get_by_test_id("retention")).to_contain_text("D30")
    page.get_by_test_id("request-deletion").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("删除原因").fill("E2E 测试数据，申请删除")
    dialog.get_by_role("button", name="确定").click()
    expect(page.get_by_text("已提交删除申请")).to_be_visible()
    card = page.locator("article.request-card")
    expect(card).to_have_attribute("data-status", "pending")
    expect(card.locator("li[data-step='1']")).to_have_class(re.compile("current"))
    expect(card.get_by_test_id("approve")).to_have_count(0)  # the requester cannot approve
    shot(page, "archive-02-requested")
    request_id = card.get_attribute("data-request-id")

    # step 1: another department head
    _as(page, users["head_b"])
    _approve_first(page, "部门同意")
    # step 2 is compliance's: the department head sees nothing more to decide, an administrator is
    # refused by the server
    page.goto("/archive/approvals")
    expect(page.get_by_test_id("approvals-empty")).to_be_visible()
    refused = admin_api.post(
        f"/api/v1/archive/deletion-requests/{request_id}/decision", json={"decision": "approve"}
    )
    assert refused.status_code == 403 and "角色" in refused.json()["detail"]
    assert admin_api.get(f"/api/v1/recordings/{rid}/media").status_code in (200, 206)  # still there

    _as(page, users["comp"])
    _approve_first(page, "合规同意")
    shot(page, "archive-03-compliance")

    # step 3: the system administrator; the files go
    _as(page, "admin", ADMIN_PASSWORD)
    _approve_first(page, "同意删除")
    assert admin_api.get(f"/api/v1/recordings/{rid}/media").status_code == 404
    page.goto(f"/archive/{rid}")
    expect(page.get_by_test_id("entry-status")).to_have_text("已删除")
    expect(page.get_by_test_id("tombstone")).to_contain_text("存证墓碑序号")
    expect(page.locator("article.request-card")).to_have_attribute("data-status", "completed")
    shot(page, "archive-04-deleted")
    entry = admin_api.get(f"/api/v1/archive/entries/{rid}").json()
    assert entry["status"] == "deleted" and entry["deletion"]["tombstone_seq"] > 0
