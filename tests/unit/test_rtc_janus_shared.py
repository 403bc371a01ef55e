"""The server's VideoRoom requests share one Janus session and handle per node.

Each join of a call asked Janus for a session, a handle, its request(s) and the session's end: four
requests more than the work, on the node's CPU, in every call's set-up. Now one session and handle
live as long as the node's API object; Janus forgetting them (its 60 s session timeout, a restart)
costs one retry, never a failed join. A Janus stand-in that keeps sessions like the real one does
(ids, 458 for a session it does not know) counts what is asked.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dualrec.services.rtc import janus_api
from dualrec.services.rtc.janus_api import JanusApi, JanusError


@dataclass
class FakeJanus:
    sessions: set[int] = field(default_factory=set)
    asked: Counter[str] = field(default_factory=Counter)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, body: dict[str, object]) -> dict[str, object]:
        kind = str(body.get("janus"))
        parts = [int(p) for p in path.strip("/").split("/")[1:]]  # /janus/<session>/<handle>
        with self.lock:
            self.asked[kind] += 1
            if parts and parts[0] not in self.sessions:
                return {"janus": "error", "error": {"code": 458, "reason": "No such session"}}
            if kind == "create":
                new = next(self.ids)
                self.sessions.add(new)
                return {"janus": "success", "data": {"id": new}}
            if kind == "attach":
                return {"janus": "success", "data": {"id": next(self.ids)}}
            if kind == "destroy":
                self.sessions.discard(parts[0])
                return {"janus": "success"}
        message = body.get("body")
        request = message.get("request") if isinstance(message, dict) else None
        if request == "exists":
            data: dict[str, object] = {"videoroom": "success", "exists": True}
        else:
            data = {"videoroom": "event", "error_code": 426, "error": "No such room"}
        return {"janus": "success", "plugindata": {"plugin": "janus.plugin.videoroom", "data": data}}

    def restart(self) -> None:
        with self.lock:
            self.sessions.clear()


@pytest.fixture
def janus() -> Iterator[tuple[FakeJanus, str]]:
    fake = FakeJanus()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            data = json.dumps(fake.answer(self.path, body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/janus"
    finally:
        server.shutdown()
        server.server_close()


EXISTS = {"request": "exists", "room": 7}


def test_many_requests_use_one_session_and_handle(janus: tuple[FakeJanus, str]) -> None:
    fake, url = janus
    with JanusApi(url, "secret") as api:
        vr = api.shared_videoroom()
        for _ in range(5):
            assert vr.request(EXISTS)["exists"] is True
        with ThreadPoolExecutor(8) as pool:  # a burst of joins at once: still one session
            assert all(pool.map(lambda _: api.shared_videoroom().request(EXISTS)["exists"], range(16)))
        assert fake.asked == Counter(create=1, attach=1, message=21)
    assert fake.asked["destroy"] == 1 and not fake.sessions  # closed: nothing left on Janus


def test_a_session_janus_forgot_is_made_again_once_and_the_request_still_answers(
    janus: tuple[FakeJanus, str],
) -> None:
    fake, url = janus
    with JanusApi(url, "secret") as api:
        vr = api.shared_videoroom()
        vr.request(EXISTS)
        fake.restart()  # Janus restarted (or reclaimed the session)
        assert vr.request(EXISTS)["exists"] is True
        assert fake.asked["create"] == 2 and fake.asked["message"] == 3  # one refused, one retried
        # a VideoRoom error is the caller's, not a reason to make a session again
        with pytest.raises(JanusError) as err:
            vr.request({"request": "destroy", "room": 8})
        assert err.value.janus_code == 426 and fake.asked["create"] == 2


def test_an_idle_session_is_replaced_before_janus_reclaims_it(janus: tuple[FakeJanus, str]) -> None:
    fake, url = janus
    now = [0.0]
    with JanusApi(url, "secret", clock=lambda: now[0]) as api:
        vr = api.shared_videoroom()
        vr.request(EXISTS)
        now[0] += janus_api.SHARED_IDLE_S - 1  # in use: kept
        vr.request(EXISTS)
        now[0] += janus_api.SHARED_IDLE_S - 1
        vr.request(EXISTS)
        assert fake.asked["create"] == 1
        now[0] += janus_api.SHARED_IDLE_S + 1  # idle longer: a new one, the old one let go
        vr.request(EXISTS)
        assert fake.asked["create"] == 2 and fake.asked["destroy"] == 1 and len(fake.sessions) == 1
        assert fake.asked["message"] == 4  # no refused request on the way
