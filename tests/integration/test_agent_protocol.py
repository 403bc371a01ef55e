"""``dualrec agent`` as a real process with the real QC engines, driven like branch software: a
WebSocket client and an HTTP polling client send every SPEC §7 message and every kind of bad one;
bad messages get a ``fail`` answer on a connection that stays usable; only configured origins and
the loopback Host are served; a non-loopback bind is refused."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.agent_support import DUALREC, AgentProcess, agent_env, free_port, short_recording
from tests.aio import run_async

ALLOWED = "https://branch.example.com"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    root = tmp_path_factory.mktemp("agent")
    short_recording(root / "recordings", "a.mp4")
    short_recording(root / "recordings", "b.mp4", seconds=1.0)  # the polling client's: QC is quicker
    env = agent_env(root / "agent", root / "recordings", DUALREC_AGENT_ALLOWED_ORIGINS=ALLOWED)
    proc = AgentProcess(env, free_port(), root / "agent.log")
    proc.start()
    yield proc
    proc.stop()


def _clip(agent: AgentProcess, name: str = "a.mp4") -> str:
    return str(Path(agent.env["DUALREC_AGENT_RECORDING_DIRS"]) / name)


async def _ask(ws: ClientConnection, message: Any) -> dict[str, Any]:
    await ws.send(message if isinstance(message, str | bytes) else json.dumps(message))
    answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
    return answer


@pytest.mark.slow
def test_a_qc_over_websocket_and_one_over_http_polling(agent: AgentProcess) -> None:
    clip = _clip(agent)

    async def session() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with websockets.connect(agent.ws) as ws:
            start = await _ask(ws, {"interfaceID": "100001", "runningNo": "WS-1", "filePath": clip})
            # the HTTP client starts its own QC while the first one runs
            polled = httpx.post(
                agent.http + "/",
                json={
                    "interfaceID": "100001",
                    "runningNo": "HTTP-1",
                    "filePath": clip,
                    "businessType": "wealth",
                },
            ).json()
            assert polled["result"] == "success" and polled["state"] == "queued", polled
            again = await _ask(ws, {"interfaceID": "100001", "runningNo": "WS-1", "filePath": clip})
            push = json.loads(await asyncio.wait_for(ws.recv(), 180))  # pushed when WS-1 is done
            return start, again, push

    start, again, push = run_async(session())
    assert start == {
        "interfaceID": "100001",
        "result": "success",
        "msg": "质检已开始 / QC started",
        "runningNo": "WS-1",
        "state": "queued",
    }
    assert again["result"] == "fail" and "not started again" in again["msg"]
    assert push["interfaceID"] == "100005" and push["runningNo"] == "WS-1" and push["result"] == "success"
    assert push["info"]["state"] == "done" and push["info"]["verdict"] in ("PASS", "REVIEW", "FAIL")

    async def read_and_confirm() -> list[dict[str, Any]]:
        async with websockets.connect(agent.ws) as ws:  # a new connection (the page was reloaded)
            return [
                await _ask(ws, {"interfaceID": "100003", "runningNo": "WS-1"}),
                await _ask(ws, {"interfaceID": "100001", "runningNo": "WS-1", "filePath": clip}),
                await _ask(ws, {"interfaceID": "100004", "runningNo": "WS-1"}),
                await _ask(ws, {"interfaceID": "100002", "runningNo": "WS-1", "operator": "E1024"}),
                await _ask(ws, {"interfaceID": "100002", "runningNo": "WS-1"}),
                await _ask(ws, {"interfaceID": "100004", "runningNo": "WS-1"}),
            ]

    report, done_dup, unconfirmed, confirmed, confirmed_again, state = run_async(read_and_confirm())
    data = report["info"]["check_data"]
    assert report["result"] == "success" and data["runningNo"] == "WS-1"
    assert data["video_info"]["name"] == "a.mp4" and data["video_info"]["width"] == 640
    assert 2.5 < data["video_info"]["video_time"] < 4.5
    assert "欢迎" in data["audio_recg"]  # the real recogniser heard the clip's speech
    titles = {i["check_items"]: i for i in data["check_list"]}
    assert titles["文件完整性"]["result"] == "通过" and titles["客户在镜"]["result"] == "通过"
    assert all(
        set(i) == {"check_items", "check_comment", "result", "conf", "extra_info"} for i in titles.values()
    )
    assert done_dup["result"] == "fail" and done_dup["state"] == "done" and "100003" in done_dup["msg"]
    assert unconfirmed["result"] == "fail" and "not confirmed" in unconfirmed["msg"]
    assert confirmed["result"] == "success" and confirmed["info"]["upload"]["state"] == "queued"
    assert confirmed_again["result"] == "success" and "already confirmed" in confirmed_again["msg"]
    assert state["result"] == "success" and state["info"]["upload"]["state"] == "queued"

    # the polling client: GET for the read-only messages until its QC is done
    answer = agent.wait_for(
        {"interfaceID": "100003", "runningNo": "HTTP-1"}, lambda a: a["result"] == "success", timeout=180
    )
    got = httpx.get(agent.http + "/", params={"interfaceID": "100003", "runningNo": "HTTP-1"}).json()
    assert got == answer and got["info"]["check_data"]["runningNo"] == "HTTP-1"
    confirmed = agent.call({"interfaceID": "100002", "runningNo": "HTTP-1"})
    assert confirmed["result"] == "success"
    upload = httpx.get(agent.http + "/", params={"interfaceID": "100004", "runningNo": "HTTP-1"}).json()
    assert upload["result"] == "success" and upload["info"]["upload"]["state"] == "queued"
    frame = next((Path(agent.env["DUALREC_AGENT_DIR"]) / "evidence" / "HTTP-1").glob("*.jpg"))
    served = httpx.get(f"{agent.http}/evidence/HTTP-1/{frame.name}")
    assert served.status_code == 200 and served.content == frame.read_bytes()


BAD_FRAMES: list[tuple[str | bytes, str]] = [
    ("not json at all", "not valid JSON"),
    ("[" * 5000 + "]" * 5000, "nested deeper"),  # within the size limit, past the parser's recursion
    (b"\x00\x01binary", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ("{}", "interfaceID is missing"),
    ('{"interfaceID": 100003, "runningNo": "1"}', "interfaceID must be a string"),
    ('{"interfaceID": "999999"}', "unknown interfaceID"),
    ('{"interfaceID": "100001", "filePath": "/tmp/x.mp4"}', "runningNo is missing"),
    ('{"interfaceID": "100001", "runningNo": 123, "filePath": "/tmp/x.mp4"}', "runningNo must be a string"),
    ('{"interfaceID": "100001", "runningNo": "a b"}', "letters, digits"),
    ('{"interfaceID": "100001", "runningNo": "1"}', "filePath is missing"),
    ('{"interfaceID": "100001", "runningNo": "1", "filePath": "/etc/passwd"}', "outside the configured"),
    (
        '{"interfaceID": "100001", "runningNo": "1", "filePath": "/tmp/x.mp4", "checkItems": 5}',
        "list of strings",
    ),
    ('{"interfaceID": "100003", "runningNo": "never-started"}', "no QC task"),
    ('{"interfaceID": "100002", "runningNo": "never-started"}', "no QC task"),
    ("x" * 100_000, "too large"),
]


def test_bad_frames_get_fail_answers_and_the_websocket_stays_open(agent: AgentProcess) -> None:
    async def session() -> list[dict[str, Any]]:
        async with websockets.connect(agent.ws) as ws:
            answers = [await _ask(ws, frame) for frame, _ in BAD_FRAMES]
            answers.append(await _ask(ws, {"interfaceID": "100004", "runningNo": "never-started"}))
            return answers

    answers = run_async(session())
    for (frame, reason), answer in zip(BAD_FRAMES, answers, strict=False):
        assert answer["result"] == "fail" and reason in answer["msg"], (frame[:60], answer)
    assert answers[-1]["interfaceID"] == "100004" and answers[-1]["result"] == "fail"


def test_bad_http_requests_get_fail_answers(agent: AgentProcess) -> None:
    for body, reason in BAD_FRAMES:
        answer = httpx.post(agent.http + "/", content=body).json()
        assert answer["result"] == "fail" and reason in answer["msg"], (body[:60], answer)
    started_by_get = httpx.get(
        agent.http + "/", params={"interfaceID": "100001", "runningNo": "G", "filePath": "/tmp/x"}
    ).json()
    assert started_by_get["result"] == "fail" and "POST" in started_by_get["msg"]
    info = httpx.get(agent.http + "/").json()
    assert info["interfaces"] == ["100001", "100002", "100003", "100004"]


def test_only_configured_origins_and_the_loopback_host_are_served(agent: AgentProcess) -> None:
    async def connect(headers: dict[str, str], uri: str = agent.ws) -> str:
        try:  # the TCP connection always goes to the agent; ``uri`` gives the Host header
            async with websockets.connect(
                uri, additional_headers=headers, host="127.0.0.1", port=agent.port
            ) as ws:
                answer = await _ask(ws, {"interfaceID": "100003", "runningNo": "never-started"})
                return str(answer["result"])
        except websockets.InvalidStatus as exc:
            return f"refused {exc.response.status_code}"

    assert run_async(connect({"Origin": ALLOWED})) == "fail"  # connected, answered
    assert run_async(connect({"Origin": "https://evil.example.net"})) == "refused 403"
    rebinding = f"ws://evil.example.net:{agent.port}/"  # a page whose name now points at 127.0.0.1
    assert run_async(connect({}, rebinding)) == "refused 403"

    message = {"interfaceID": "100003", "runningNo": "never-started"}
    ok = httpx.post(agent.http + "/", json=message, headers={"Origin": ALLOWED})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
    preflight = httpx.options(
        agent.http + "/", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    )
    assert (
        preflight.status_code == 204 and preflight.headers["access-control-allow-private-network"] == "true"
    )
    evil = httpx.post(agent.http + "/", json=message, headers={"Origin": "https://evil.example.net"})
    assert evil.status_code == 403 and "not allowed" in evil.json()["msg"]
    assert "access-control-allow-origin" not in evil.headers
    rebound = httpx.post(agent.http + "/", json=message, headers={"Host": "evil.example.net"})
    assert rebound.status_code == 403


def test_a_non_loopback_bind_is_refused(tmp_path: Path) -> None:  # more addresses: the unit tests
    env = agent_env(tmp_path / "agent", tmp_path)
    out = subprocess.run(
        [str(DUALREC), "agent", "--host", "0.0.0.0", "--port", str(free_port())],
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "loopback only" in out.stderr
