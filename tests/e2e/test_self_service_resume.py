"""Reconnection of the customer's self-service session in Chromium (fake camera and microphone).

A tab closed in the middle of the flow and reopened within the window resumes at the same node as a
new segment of the same recording, and nothing the first tab had uploaded is lost: the assembled
recording is as long as what both tabs recorded. Reopened after the window (16 minutes simulated by
moving the session's last sign of life back in the server's database), the session has expired.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from dualrec.media.probe import PyAVProbe
from tests.e2e.h5_support import (
    NETWORK_PROBE,
    SHORT_FLOW,
    chromium_with_camera,
    create_task,
    customer_frame,
    entry,
    microphone,
    move_last_seen_back,
    phone,
    probe_log,
    publish_system,
    server_database,
    token,
    write_y4m,
)

BUSINESS = "e2e-h5-resume"
CODE = "e2e-h5-resume-flow"
FLOW = SHORT_FLOW  # risk disclosure → a question (否 → hand-over) → end
CSRF = {"X-Requested-With": "dualrec"}
FIRST_TAB_CHUNKS = 5  # 2 s each (recorder.TIMESLICE_MS)
TIMESLICE_S = 2.0


@pytest.fixture(scope="module")
def camera(chromium: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    out = tmp_path_factory.mktemp("h5-resume")
    cam = write_y4m([customer_frame()] * 10, out / "steady.y4m", fps=10)
    with chromium_with_camera(chromium, cam, microphone(out)) as browser:
        yield browser


@pytest.fixture(scope="module")
def system(admin_api: httpx.Client, server_url: str) -> dict[str, Any]:
    return publish_system(
        admin_api,
        server_url,
        code=CODE,
        name="E2E 断线重连",
        business=BUSINESS,
        flow=FLOW,
        rule_name="E2E 断线重连",
        key_name="E2E 断线重连系统",
    )


def _chunk_puts(log: dict[str, list[dict[str, Any]]], segment: int) -> dict[int, dict[str, Any]]:
    """seq → the acknowledged upload of that chunk of ``segment``, from the page's fetch log."""
    out = {}
    for f in log["fetches"]:
        parts = f["url"].split("/chunks/")
        if f["method"] == "PUT" and f["status"] == 200 and len(parts) == 2:
            seg, seq = (int(x) for x in parts[1].split("/")[:2])
            if seg == segment:
                out[seq] = f
    return out


def _sent(log: dict[str, list[dict[str, Any]]], suffix: str, method: str = "POST") -> dict[str, Any]:
    rows = [f for f in log["fetches"] if f["method"] == method and f["url"].endswith(suffix)]
    assert rows, f"no {method} …{suffix} in {log['fetches']}"
    return rows[0]


def _session(base: str, tok: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/session/{tok}", headers=CSRF, timeout=10.0)
    assert r.status_code == 200, r.text
    state: dict[str, Any] = r.json()
    return state


def _open(page: Page, task: dict[str, Any]) -> None:
    page.add_init_script(NETWORK_PROBE)
    page.goto(entry(task))


def _segment_durations(db: Path, task_id: str) -> dict[str, float]:
    """What the assembler measured of each segment (the session's ``identity.durations``)."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT identity FROM live_sessions WHERE task_id = ?", (task_id,)).fetchone()
    return dict(json.loads(row[0]).get("durations") or {}) if row else {}


def test_a_tab_closed_mid_flow_resumes_at_the_same_node_without_losing_chunks(
    camera: Browser,
    system: dict[str, Any],
    admin_api: httpx.Client,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = system["base"]
    task = create_task(system, BUSINESS, "H5-RESUME-1")
    tok = token(task)
    first = phone(camera, base)
    _open(first, task)
    first.locator("[data-test=agree]").click()
    first.locator("[data-node=risk] [data-test=continue]").click(timeout=60_000)
    expect(first.locator("[data-node=q1] [data-answer=是]")).to_be_enabled(timeout=60_000)
    # recorded a while at the question, then the tab is closed right after a chunk was acknowledged
    first.wait_for_function(
        f"""() => window.__h5.fetches.filter(f => f.method === "PUT" && f.status === 200
                && f.url.includes("/chunks/0/")).length >= {FIRST_TAB_CHUNKS}""",
        timeout=60_000,
    )
    log1 = probe_log(first)
    first.close()
    acked = _chunk_puts(log1, 0)
    assert len(acked) >= FIRST_TAB_CHUNKS

    second = first.context.new_page()
    _open(second, task)
    expect(second.locator("[data-test=resumed]")).to_be_visible()
    expect(second.locator("[data-node=q1]")).to_be_visible()  # the same node
    state = _session(base, tok)
    assert state["segment"] == 1 and state["node"]["id"] == "q1", state
    kept = sorted(state["received"]["0"])
    assert set(acked) <= set(kept), (sorted(acked), kept)
    assert kept == list(range(len(kept))), kept  # no hole in the first segment

    second.locator("[data-node=q1] [data-answer=是]").click(timeout=60_000)
    second.locator("[data-node=end] [data-test=continue]").click(timeout=60_000)
    ended = second.locator("[data-test=ended]")
    expect(ended).to_have_attribute("data-status", "completed", timeout=60_000)
    log2 = probe_log(second)
    second.context.close()

    # time recorded: tab 1 from its recorder's start (just before the consent request) to the last
    # chunk it had (a chunk per 2 s, sent when it was cut); tab 2 from the reconnection to finish
    start1 = _sent(log1, "/consent")["sent"]
    last = max(acked)
    tab1 = (acked[last]["sent"] - start1) / 1000 + TIMESLICE_S * (len(kept) - 1 - last)
    tab2 = (_sent(log2, "/finish")["sent"] - _sent(log2, "/connect")["done"]) / 1000

    deadline = time.monotonic() + 180
    rec_id = None
    while rec_id is None and time.monotonic() < deadline:
        rec_id = admin_api.get(f"/api/v1/tasks/{task['id']}").json()["attempts"][0]["recording_id"]
        if rec_id is None:
            time.sleep(1)
    assert rec_id, "the recording was not assembled within 180 s"
    media = admin_api.get(f"/api/v1/recordings/{rec_id}/media", timeout=60.0)
    assert media.status_code == 200
    video = tmp_path / "session.mp4"
    video.write_bytes(media.content)
    duration = PyAVProbe().probe(video).duration or 0.0
    print(
        f"recorded: tab 1 {tab1:.2f} s + tab 2 {tab2:.2f} s = {tab1 + tab2:.2f} s; assembled {duration:.2f} s"
    )
    segments = _segment_durations(server_database(tmp_path_factory), task["id"])
    assert abs(duration - (tab1 + tab2)) <= 2.0, (duration, tab1, tab2, segments)


def test_a_tab_reopened_after_the_window_finds_the_session_expired(
    camera: Browser,
    system: dict[str, Any],
    admin_api: httpx.Client,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    task = create_task(system, BUSINESS, "H5-RESUME-2")
    first = phone(camera, system["base"])
    _open(first, task)
    first.locator("[data-test=agree]").click()
    expect(first.locator("[data-node=risk]")).to_be_visible()
    first.wait_for_function(
        """() => window.__h5.fetches.some(f => f.method === "PUT" && f.status === 200)""", timeout=30_000
    )
    first.close()
    time.sleep(1.5)  # a request the closed tab had under way is over
    move_last_seen_back(server_database(tmp_path_factory), task["id"], timedelta(minutes=16))

    second = first.context.new_page()
    _open(second, task)
    ended = second.locator("[data-test=ended]")
    expect(ended).to_have_attribute("data-status", "expired")
    expect(ended).to_contain_text("会话已超时")
    assert admin_api.get(f"/api/v1/tasks/{task['id']}").json()["status"] == "expired"
    assert _session(system["base"], token(task))["status"] == "expired"
    second.context.close()
