"""dualrec's requests to Janus build one TLS context, not one per request.

httpx builds a verifying TLS context for every new client and loads the CA bundle into it: 20-180 ms
of CPU on a small, busy node. Janus is asked for each of a call's set-up steps (the browsers'
requests through dualrec's proxy run in its event loop; the room is made over the server's own
JanusApi), so one context per request made a call's set-up take seconds on a loaded 2-core VM.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dualrec.api.routers import rtc as rtc_router
from dualrec.services.rtc.janus_api import JanusApi
from tests.aio import run_async


class _Janus(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer({"janus": "server_info", "name": "Janus"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer({"janus": "success", "data": {"id": 1}})

    def _answer(self, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def janus_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Janus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/janus"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def ca_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the CA bundle loads (what makes a TLS context expensive)."""
    loads: list[int] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(1)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    return loads


def test_the_servers_own_janus_requests_share_one_tls_context(janus_url: str, ca_loads: list[int]) -> None:
    with JanusApi(janus_url, "secret") as api:
        for _ in range(3):
            assert api.info()["janus"] == "server_info"
            assert api._post("", {"janus": "create"})["data"]["id"] == 1
    assert len(ca_loads) <= 1, ca_loads  # at most the first request builds it


def test_the_browsers_proxied_requests_share_one_tls_context(janus_url: str, ca_loads: list[int]) -> None:
    async def forward(n: int) -> list[int]:
        codes = []
        for _ in range(n):
            async with rtc_router._client() as client:
                codes.append((await client.post(janus_url, json={"janus": "create"})).status_code)
        return codes

    assert run_async(forward(5)) == [200] * 5
    assert len(ca_loads) <= 1, ca_loads
