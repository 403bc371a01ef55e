"""``dualrec serve`` as an operator runs it: its log (ours and uvicorn's, the WebSocket lines included)
never carries a customer's link token, and it warns loudly when personal data would be sealed with
the built-in development secret."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from websockets.sync.client import connect

from dualrec.cli.main import app
from tests.cli_support import DUALREC

# a link token as the server signs them (this one with another key: the server refuses it, but every
# layer still sees and could log its path)
TOKEN = (
    base64.urlsafe_b64encode(b'{"t":"0b7c8e1e-0000-4000-8000-000000000001","a":1,"e":4102444800}')
    .rstrip(b"=")
    .decode()
    + "."
    + base64.urlsafe_b64encode(hashlib.sha256(b"x").digest()).rstrip(b"=").decode()
)
SIGNATURE = TOKEN.split(".")[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_a_real_server_keeps_link_tokens_out_of_its_log(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALREC_")}
    env.update(
        {"DUALREC_DATA_DIR": str(tmp_path / "data"), "DUALREC_ENV": "test", "DUALREC_LOG_LEVEL": "INFO"}
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [DUALREC, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        assert httpx.get(f"{base}/api/v1/session/{TOKEN}").status_code == 401
        assert httpx.get(f"{base}/api/v1/entry/{TOKEN}").status_code == 401
        httpx.get(f"{base}/h5/{TOKEN}?from=sms")
        httpx.put(
            f"{base}/api/v1/session/{TOKEN}/chunks/0/0", content=b"x", headers={"X-Chunk-SHA256": "0" * 64}
        )
        with connect(f"ws://127.0.0.1:{port}/api/v1/session/{TOKEN}/live") as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "error"  # then closed with 4401
        assert httpx.get(f"{base}/metrics").status_code == 200  # loopback: allowed without a token
        time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = log.read_text(errors="replace")
    assert "WebSocket /api/v1/session/[token:" in text, text[-3000:]  # uvicorn's line, redacted
    assert "/api/v1/session/[token:" in text and "/h5/[token:" in text and "/api/v1/entry/[token:" in text
    assert SIGNATURE not in text and TOKEN not in text
    assert "DUALREC_SECRET_KEY is the built-in development secret" in text  # the dev secret was used


@pytest.mark.parametrize(
    ("secret", "loud"), [(None, True), ("a-real-random-secret-of-48-characters-0123456789", False)]
)
def test_serve_warns_when_personal_data_is_sealed_with_the_dev_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str | None, loud: bool
) -> None:
    import uvicorn

    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app_, **kw: started.append(app_))
    for key in [k for k in os.environ if k.startswith("DUALREC_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DUALREC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DUALREC_ENV", "development")
    if secret:
        monkeypatch.setenv("DUALREC_SECRET_KEY", secret)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert len(started) == 1
    warned = "DUALREC_SECRET_KEY is the built-in development secret" in result.stderr
    assert warned is loud, result.stderr
