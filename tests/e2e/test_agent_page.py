"""A branch web page in Chromium drives the local QC agent as branch software does: WebSocket to
start the QC and get the push, the report rendered from ``check_data``, the operator's confirmation
and the upload state over HTTP (with CORS preflight) until the package is on the central server.
The same page served from an origin that is not configured cannot connect."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.agent_support import AgentProcess, agent_env, central_server, free_port, short_recording

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>网点双录</title></head>
<body>
<p>本地质检：<span id="status">连接中</span></p>
<p>结论：<span id="verdict"></span></p>
<table id="report"><tbody></tbody></table>
<button id="confirm" disabled>确认并上传</button>
<p>上传：<span id="upload">未确认</span></p>
<script>
const q = new URLSearchParams(location.search);
const agent = q.get("agent"), rn = q.get("rn");
const $ = (id) => document.getElementById(id);
const ws = new WebSocket(`ws://${agent}/`);
ws.onopen = () => ws.send(JSON.stringify({interfaceID: "100001", runningNo: rn, filePath: q.get("file")}));
ws.onclose = (e) => { if ($("status").textContent === "连接中") $("status").textContent = "连接被拒绝"; };
ws.onmessage = (event) => {
  const m = JSON.parse(event.data);
  if (m.interfaceID === "100001") $("status").textContent = m.result === "success" ? "质检中" : m.msg;
  if (m.interfaceID === "100005") {
    $("verdict").textContent = m.info.verdict;
    ws.send(JSON.stringify({interfaceID: "100003", runningNo: rn}));
  }
  if (m.interfaceID === "100003" && m.result === "success") {
    for (const item of m.info.check_data.check_list) {
      const row = $("report").tBodies[0].insertRow();
      row.insertCell().textContent = item.check_items;
      row.insertCell().textContent = item.result;
    }
    $("status").textContent = "质检完成";
    $("confirm").disabled = false;
  }
};
async function poll() {
  const r = await fetch(`http://${agent}/?interfaceID=100004&runningNo=${rn}`);
  const state = (await r.json()).info.upload.state;
  $("upload").textContent = state;
  if (state !== "uploaded") setTimeout(poll, 300);
}
$("confirm").onclick = async () => {
  const r = await fetch(`http://${agent}/`, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({interfaceID: "100002", runningNo: rn, operator: "E1024"}),
  });
  if ((await r.json()).result === "success") poll();
};
</script></body></html>
"""


class _Static(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def page_servers() -> Iterator[tuple[str, str]]:
    """Two static servers of the branch page: the allowed origin and another one."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Static) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield tuple(f"http://127.0.0.1:{s.server_address[1]}" for s in servers)  # type: ignore[misc]
    for s in servers:
        s.shutdown()
        s.server_close()


def _open(browser: Browser, origin: str, query: dict[str, str]) -> Page:
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{origin}/branch.html?{urlencode(query)}")
    return page


def test_a_branch_page_runs_qc_confirms_and_sees_the_upload(
    chromium: Browser, page_servers: tuple[str, str], tmp_path: Path
) -> None:
    allowed, other = page_servers
    clip = short_recording(tmp_path / "recordings", "a.mp4", seconds=1.0)
    with central_server(tmp_path / "server", serve=True) as central:
        task_id = central.add_task("WEB-0001")
        env = agent_env(
            tmp_path / "agent",
            tmp_path / "recordings",
            DUALREC_AGENT_ALLOWED_ORIGINS=allowed,
            DUALREC_AGENT_SERVER_URL=central.url,
            DUALREC_AGENT_API_KEY=central.key.key_id,
            DUALREC_AGENT_API_SECRET=central.key.secret,
        )
        agent = AgentProcess(env, free_port(), tmp_path / "agent.log")
        agent.start()
        try:
            query = {"agent": f"127.0.0.1:{agent.port}", "rn": "WEB-0001", "file": str(clip)}
            page = _open(chromium, allowed, query)
            expect(page.locator("#status")).to_have_text("质检完成", timeout=180_000)
            expect(page.locator("#verdict")).to_have_text("REVIEW")  # no flow / ID photo given
            rows = page.locator("#report tr")
            expect(rows.filter(has_text="文件完整性")).to_contain_text("通过")
            assert rows.count() >= 10
            page.get_by_role("button", name="确认并上传").click()
            expect(page.locator("#upload")).to_have_text("uploaded", timeout=60_000)
            page.context.close()

            refused = _open(chromium, other, {**query, "rn": "WEB-0002"})
            expect(refused.locator("#status")).to_have_text("连接被拒绝")
            refused.context.close()
            never = agent.call({"interfaceID": "100003", "runningNo": "WEB-0002"})
            assert never["result"] == "fail" and "no QC task" in never["msg"]
        finally:
            agent.stop()
        with central.container.uows() as uow:
            recordings, total = uow.recordings.search(
                scope_path="/", running_no="WEB-0001", status=None, verdict=None, offset=0, limit=5
            )
            task = uow.tasks.get(task_id)
        assert total == 1 and task is not None and task.current_attempt is not None
        assert task.current_attempt.recording_id == recordings[0].id
