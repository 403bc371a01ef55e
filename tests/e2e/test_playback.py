"""The playback page in the browser, on a generated recording QC'd by the real engines (real speech, a
real face that leaves the picture 8–12 s, an ID photo to compare with): open it from the recordings
list → the flow's node and the findings are on the timeline → clicking a finding seeks the video to
its start → playback speed → the face frames compared with the ID photo → download the signed
litigation report, which pyHanko validates against the certificate the server publishes → the
download is in the auditors' litigation log."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from dualrec.services.pdf.pades import validate_signed_pdf
from tests import media_factory as mf

from .conftest import ADMIN_PASSWORD
from .test_admin_console import login, sidebar
from .test_recordings import QC_TIMEOUT_MS, set_video_time, video_time

Shot = Callable[[Page, str], None]
FLOW = {
    "id": "e2e-lit",
    "nodes": [
        {"id": "open", "type": "risk_disclosure", "title": "开场", "required_statements": [mf.OPENING]}
    ],
}


def test_playback_seeks_to_a_finding_and_the_litigation_report_is_signed(
    page: Page, shot: Shot, admin_api: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if (why := mf.available()) is not None:
        pytest.skip(why)
    factory = mf.MediaFactory(tmp_path_factory.mktemp("factory"))
    recording = factory.recording("no_face")
    task = {
        "running_no": "E2E-LIT-001",
        "customer_name": mf.CARD_NAME,
        "id_number": mf.CARD_ID,
        "business_type": "wealth",
    }
    with recording.open("rb") as fh, (mf.DATA / "faces" / "obama1.jpg").open("rb") as photo:
        response = admin_api.post(
            "/api/v1/recordings",
            files={"file": ("no_face.mp4", fh, "video/mp4"), "id_photo": ("id.jpg", photo, "image/jpeg")},
            data={"task": json.dumps(task, ensure_ascii=False), "flow": json.dumps(FLOW, ensure_ascii=False)},
            timeout=60.0,
        )
    assert response.status_code == 202, response.text

    page.goto("/login")
    login(page, "admin", ADMIN_PASSWORD)
    sidebar(page).get_by_role("link", name="录像质检").click()
    row = page.locator("tr[data-running-no='E2E-LIT-001']")
    expect(row.locator("[data-verdict]")).to_be_visible(timeout=QC_TIMEOUT_MS)
    # the compliance officer's path: archive search → the catalogue entry → playback
    sidebar(page).get_by_role("link", name="档案检索").click()
    filters = page.get_by_test_id("archive-filters")
    filters.locator("input[name=customer_name]").fill(mf.CARD_NAME)
    filters.locator("input[name=business_type]").fill("wealth")
    filters.get_by_role("button", name="搜索").click()
    found = page.get_by_test_id("archive-results").locator("tbody tr")
    expect(found).to_have_count(1, timeout=30_000)
    expect(found.first).to_contain_text("E2E-LIT-001")
    found.first.get_by_role("link").first.click()
    page.get_by_role("link", name="回放与质检报告").click()
    expect(page).to_have_url(re.compile(r"/recordings/[0-9a-f-]{36}$"))
    player = page.locator("video.player")
    expect(player).to_have_js_property("readyState", 4, timeout=20_000)

    # the flow's node (inferred from the transcript) and the findings are on the timeline
    expect(page.locator(".timeline-node.inferred")).to_have_count(1)
    marker = page.locator(".timeline-marker[data-check='face_presence']")
    expect(marker).to_have_count(1)
    start = float(marker.get_attribute("data-start") or "nan")
    assert 7.0 <= start <= 9.0, start  # the customer leaves the picture at 8 s
    set_video_time(page, 0.2)
    marker.click()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('video.player').currentTime - t) <= 1.0", arg=start
    )
    assert abs(video_time(page) - start) <= 1.0

    page.get_by_role("button", name="1.5×").click()
    expect(player).to_have_js_property("playbackRate", 1.5)
    faces = page.locator(".face-sample")
    assert faces.count() > 0, "the face frames compared with the ID photo are shown"
    expect(faces.first.locator(".badge")).to_have_text(re.compile("一致|不一致"))
    shot(page, "50-playback-page")

    with page.expect_download() as download:
        page.get_by_role("link", name="下载诉讼报告（已签名 PDF）").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert download.value.suggested_filename == "litigation-E2E-LIT-001.pdf"
    certificate = page.request.get("/api/v1/litigation/certificate.pem").text()
    check = validate_signed_pdf(pdf, [certificate])
    assert check.ok and check.whole_file, check

    sidebar(page).get_by_role("link", name="审计导出").click()
    expect(page.get_by_role("heading", name="审计导出")).to_be_visible()
    expect(page.locator("tr[data-action='evidence.litigation_report']").first).to_contain_text("admin")
    shot(page, "51-audit-exports")
