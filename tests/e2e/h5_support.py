"""Shared pieces of the self-service (H5) browser tests: the fake camera file, Chromium with a fake
camera and microphone, a flow published and routed for a business type with a business system's API
key, signed task creation, a phone-sized page, and probes that log in the page what the tests time.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from dualrec.core.auth_rules import sign_request
from dualrec.media.ports import Image
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.live_frames import DATA, framed, photo
from tests.media_factory import CARD_ID, CARD_NAME

# a short flow for tests whose point is not the identity step
SHORT_FLOW: dict[str, Any] = {
    "mode": "self_service",
    "nodes": [
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险告知",
            "script": "本产品不保本，投资需谨慎。",
        },
        {
            "id": "q1",
            "type": "qa",
            "title": "自愿确认",
            "script": "您是否本人自愿购买？",
            "expected_answers": ["是", "否"],
            "branches": {"否": "@handover"},
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成，感谢您的配合。"},
    ],
}


def write_y4m(frames: Iterable[Image], path: Path, fps: int = 10) -> Path:
    """640×480 RGB frames as a y4m file: Chromium plays it (looped) as the camera."""
    command = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "640x480"]
    command += ["-r", str(fps), "-i", "-", "-pix_fmt", "yuv420p", str(path)]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for f in frames:
        proc.stdin.write(np.ascontiguousarray(f).tobytes())
    proc.stdin.close()
    assert proc.wait(timeout=120) == 0
    return path


def customer_frame() -> Image:
    """A 640×480 camera picture of the customer (obama.jpg), the face a third of its height."""
    from dualrec.media.models.dlib_faces import DlibFaceAnalyzer

    img = photo("obama.jpg")
    return framed(img, DlibFaceAnalyzer().detect(img)[0])


def empty_room(frame: Image) -> Image:
    """``frame`` with the person painted out: what the camera sees once the customer walked away."""
    import cv2

    from dualrec.media.models.dlib_faces import DlibFaceAnalyzer

    x0, y0, x1, y1 = DlibFaceAnalyzer().detect(frame)[0].box
    w, cx, cy = x1 - x0, (x0 + x1) // 2, (y0 + y1) // 2
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.ellipse(mask, (cx, cy - w // 8), (int(w * 0.75), int(w * 0.95)), 0, 0, 360, 255, -1)
    cv2.rectangle(mask, (cx - int(w * 1.5), cy + w // 2), (cx + int(w * 1.5), frame.shape[0]), 255, -1)
    return np.asarray(cv2.inpaint(frame, mask, 9, cv2.INPAINT_TELEA), dtype=np.uint8)


def two_people() -> Image:
    """two_people.jpg (640×376) padded to a 640×480 camera picture: two faces side by side."""
    import cv2

    img = photo("two_people.jpg")
    top = (480 - img.shape[0]) // 2
    out = cv2.copyMakeBorder(img, top, 480 - img.shape[0] - top, 0, 0, cv2.BORDER_REPLICATE)
    return np.asarray(out, dtype=np.uint8)


def microphone(out: Path) -> Path:
    """The fake microphone: real Mandarin speech (asr_example.wav)."""
    mic = out / "mic.wav"
    shutil.copy(DATA / "speech" / "asr_example.wav", mic)
    return mic


@contextmanager
def chromium_with_camera(chromium: Browser, cam: Path, mic: Path) -> Iterator[Browser]:
    """Chromium whose camera plays ``cam`` (y4m) and whose microphone plays ``mic`` (wav).

    Launched through the Playwright of conftest's ``chromium`` (one sync Playwright per process)."""
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={cam}",
        f"--use-file-for-fake-audio-capture={mic}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    browser = chromium.browser_type.launch(executable_path=str(CHROMIUM), args=args)
    try:
        yield browser
    finally:
        browser.close()


def signed(base: str, key: dict[str, Any], method: str, path: str, body: Any) -> httpx.Response:
    """A request of the business system, signed with its API key (HMAC)."""
    raw = json.dumps(body).encode()
    ts, nonce = str(int(time.time())), secrets.token_hex(8)
    headers = {
        "X-Dualrec-Key": key["key_id"],
        "X-Dualrec-Timestamp": ts,
        "X-Dualrec-Nonce": nonce,
        "X-Dualrec-Signature": sign_request(key["secret"], method, path, "", ts, nonce, raw),
        "Content-Type": "application/json",
    }
    return httpx.request(method, base + path, content=raw, headers=headers, timeout=30.0)


def publish_system(
    admin_api: httpx.Client,
    server_url: str,
    *,
    code: str,
    name: str,
    business: str,
    flow: dict[str, Any],
    rule_name: str,
    key_name: str,
) -> dict[str, Any]:
    """The flow published and routed for ``business``, and a business system's API key for it."""
    r = admin_api.post(
        "/api/v1/flows",
        json={"code": code, "name": name, "business_type": business, "definition": flow},
    )
    assert r.status_code == 201, r.text
    assert admin_api.post(f"/api/v1/flows/{code}/publish", json={}).status_code == 201
    rules = admin_api.get("/api/v1/routing-rules").json()
    mine = {"name": rule_name, "priority": 1, "flow_code": code, "business_types": [business]}
    keep = [{k: v for k, v in rule.items() if k != "id"} for rule in rules]
    assert admin_api.put("/api/v1/routing-rules", json={"rules": [mine, *keep]}).status_code == 200
    branches = admin_api.get("/api/v1/branches").json()
    key = admin_api.post(
        "/api/v1/api-keys",
        json={"name": key_name, "branch_id": branches[0]["id"], "business_types": [business]},
    )
    assert key.status_code == 201, key.text
    return {"base": server_url, "key": key.json(), "business": business}


def create_task(
    system: dict[str, Any],
    business: str,
    business_no: str,
    callback: str = "",
    documents: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A task created by the business system through the signed API."""
    body: dict[str, Any] = {
        "customer_id": "H5-C1",
        "customer_name": CARD_NAME,
        "id_number": CARD_ID,
        "customer_type": "personal",
        "risk_level": "R2",
        "business_type": business,
        "business_no": business_no,
        "product": "E2E 稳健理财",
        "amount": "10000.00",
        "documents": documents or [],
    }
    if callback:
        body["callback_url"] = callback
    r = signed(system["base"], system["key"], "POST", "/api/v1/tasks", body)
    assert r.status_code == 201, r.text
    task: dict[str, Any] = r.json()
    return task


def phone(browser: Browser, base_url: str) -> Page:
    """A page in a new phone-sized (360×640, touch) context in Chinese."""
    context = browser.new_context(
        base_url=base_url,
        locale="zh-CN",
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(30_000)
    return context.new_page()


def entry(task: dict[str, Any]) -> str:
    """The path of the customer's link (/h5/<token>)."""
    return "/h5/" + str(task["entry_url"]).rsplit("/h5/", 1)[1]


def token(task: dict[str, Any]) -> str:
    return str(task["entry_url"]).rsplit("/h5/", 1)[1]


# ---- in-page probes: wall-clock times (Date.now(), ms) of what the tests measure ---------------

NETWORK_PROBE = """
(() => {
  const log = (window.__h5 = window.__h5 || { fetches: [], observations: [], alerts: [], marks: [] });
  const fetch0 = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input.url;
    const row = { url, method: (init && init.method) || "GET", sent: Date.now(), done: null, status: null };
    log.fetches.push(row);
    const response = await fetch0(input, init);
    row.done = Date.now();
    row.status = response.status;
    return response;
  };
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("message", (e) => {
        try {
          const m = JSON.parse(String(e.data));
          if (m.type === "observation") {
            log.observations.push({ at: Date.now(), t: m.t, faces: m.face_count, alerts: m.alerts });
          }
        } catch (_) {}
      });
    }
  };
  let shown = null;
  const watch = () => {
    const el = document.querySelector("[data-test=monitor-alert]");
    const text = el ? el.textContent.trim() : null;
    if (text !== shown) {
      shown = text;
      log.alerts.push({ at: Date.now(), text });
    }
  };
  new MutationObserver(watch).observe(document, { childList: true, subtree: true, characterData: true });
})();
"""

# The camera files of the monitor tests carry a colour mark in the top-left corner (green: the face
# is in the picture, red: it is not): the page's preview is sampled every 20 ms and the changes are
# logged, which times the face leaving the picture as the page shows it.
MARK_PROBE = """
(() => {
  const log = (window.__h5 = window.__h5 || { fetches: [], observations: [], alerts: [], marks: [] });
  const canvas = document.createElement("canvas");
  canvas.width = 1;
  canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let state = null;
  setInterval(() => {
    const v = document.querySelector("video[data-test=preview]");
    if (!v || !v.videoWidth) return;
    ctx.drawImage(v, 4, 4, 8, 8, 0, 0, 1, 1);
    const [r, g] = ctx.getImageData(0, 0, 1, 1).data;
    const now = g > r + 80 ? "face" : r > g + 80 ? "empty" : state;
    if (now !== state) {
      state = now;
      log.marks.push({ at: Date.now(), state });
    }
  }, 20);
})();
"""


def probe_log(page: Page) -> dict[str, list[dict[str, Any]]]:
    log: dict[str, list[dict[str, Any]]] = page.evaluate("() => window.__h5")
    return log


def mark(frame: Image, colour: tuple[int, int, int]) -> Image:
    """``frame`` with a 16×16 colour mark in the top-left corner (see ``MARK_PROBE``)."""
    out = np.array(frame, copy=True)
    out[0:16, 0:16] = colour
    return out


# ---- the server's database ----------------------------------------------------------------------


def server_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite file of the e2e server (conftest's ``server_url`` keeps its data in e2e-data*)."""
    found = sorted({p.resolve() for p in tmp_path_factory.getbasetemp().glob("e2e-data*/dualrec.sqlite3")})
    assert len(found) == 1, found
    return found[0]


def move_last_seen_back(db: Path, task_id: str, by: timedelta) -> None:
    """Pretend the customer left ``by`` ago: the session's last sign of life moved back."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        with conn:  # one transaction, committed
            row = conn.execute(
                "SELECT id, last_seen_at FROM live_sessions WHERE task_id = ?", (task_id,)
            ).fetchone()
            assert row is not None, f"no live session for task {task_id}"
            then = datetime.fromisoformat(str(row[1])) - by
            conn.execute(
                "UPDATE live_sessions SET last_seen_at = ? WHERE id = ?",
                (then.strftime("%Y-%m-%d %H:%M:%S.%f"), row[0]),
            )
    finally:
        conn.close()
