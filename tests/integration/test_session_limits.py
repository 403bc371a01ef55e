"""What one customer link can do to the server: the attempt's upload quota (413, nothing stored),
the sweep of ended attempts' chunks (audited; pending assembly keeps them), only the canonical
spelling of a token, a deeply nested WebSocket message (an ``error`` answer, the socket stays open),
no token in any log line, and the hand-over queue's masked ID numbers."""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.core.flow import parse_flow
from dualrec.core.live_session import upload_quota
from dualrec.i18n import has_cjk
from dualrec.settings import Settings
from tests.conftest import make_settings
from tests.integration.test_flows_tasks_api import Signed, admin, system
from tests.integration.test_live_session_api import FLOW, TASK, _put, _started, _task, light

__all__ = ["admin", "light", "system"]  # fixtures used by the tests below

MiB = 1024**2


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The smallest quota the settings allow: 8 MiB + 1 MiB per estimated minute of the flow."""
    return make_settings(
        tmp_path / "data", session_upload_floor_bytes=8 * MiB, session_upload_bytes_per_minute=MiB
    )


def test_an_attempt_cannot_upload_past_its_quota(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    quota = upload_quota(parse_flow(FLOW), MiB, 8 * MiB)
    assert 9 * MiB < quota < 16 * MiB  # three short nodes: about 3.3 estimated minutes
    _, token = _task(admin, system)
    client = _started(app_client, token)
    piece = b"\x1a" * (4 * MiB)
    sent = 0
    seq = 0
    while sent + len(piece) <= quota:
        r = _put(client, token, 0, seq, piece + bytes([seq]))
        assert r.status_code == 200, r.text
        sent, seq = sent + len(piece) + 1, seq + 1
    blobs_before = sum(1 for _ in (light.settings.data_dir / "blobs").rglob("*") if _.is_file())
    refused = _put(client, token, 0, seq, piece + bytes([seq]))
    assert refused.status_code == 413, refused.text
    body = refused.json()
    assert body["code"] == "quota_exceeded" and body["quota_bytes"] == quota
    assert body["message_key"] == "sessions.attempt_s_recording_reached_limit" and "上限" in body["detail"]
    # nothing of the refused chunk was kept
    assert client.get(f"/api/v1/session/{token}").json()["received"] == {"0": list(range(seq))}
    assert sum(1 for _ in (light.settings.data_dir / "blobs").rglob("*") if _.is_file()) == blobs_before
    # a resend of a stored piece is still acknowledged (it costs nothing)
    assert _put(client, token, 0, 0, piece + bytes([0])).json()["duplicate"] is True


def _handed_over(
    app_client: TestClient, admin: TestClient, system: Signed, *, publish: bool = True
) -> tuple[str, str, TestClient]:
    if publish:
        task_id, token = _task(admin, system)
    else:  # another task of the flow published before
        created = system.call("POST", "/api/v1/tasks", TASK).json()
        task_id, token = created["id"], created["entry_url"].rsplit("/h5/", 1)[1]
    client = _started(app_client, token)
    for seq in range(3):
        assert _put(client, token, 0, seq, f"piece {seq}".encode() * 100).status_code == 200
    client.post(f"/api/v1/session/{token}/nodes/risk/outcome", json={"kind": "passed", "t": 1})
    s = client.post(
        f"/api/v1/session/{token}/nodes/q1/outcome", json={"kind": "answer", "text": "否", "t": 2}
    )
    assert s.json()["status"] == "handover"
    return task_id, token, client


def test_the_sweep_deletes_the_chunks_of_ended_attempts(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    assert light.sessions is not None
    task_id, token, client = _handed_over(app_client, admin, system)
    pending_task, _, _ = _handed_over(app_client, admin, system, publish=False)
    with light.uows() as uow:  # the second one was finished: its recording is being assembled
        pending = uow.live_sessions.for_attempt(pending_task, 1)
        assert pending is not None
        uow.live_sessions.save(replace(pending, identity={**pending.identity, "assembling": True}))
        uow.commit()
        s = uow.live_sessions.for_attempt(task_id, 1)
        assert s is not None
        keys = [c.blob_key for c in uow.live_sessions.chunks(s.id)]
    assert len(keys) == 3 and all(light.blobs.exists(k) for k in keys)

    now = datetime.now(UTC)
    assert light.sessions.sweep_chunks(now + timedelta(hours=23)) == 0  # within the retention
    assert light.sessions.sweep_chunks(now + timedelta(hours=25)) == 1
    assert not any(light.blobs.exists(k) for k in keys)
    with light.uows() as uow:
        assert uow.live_sessions.chunks(s.id) == []
        assert pending is not None and len(uow.live_sessions.chunks(pending.id)) == 3  # kept for assembly
    events = admin.get("/api/v1/audit-events", params={"action": "session.chunks_deleted"}).json()["items"]
    assert len(events) == 1 and events[0]["target_id"] == s.id
    assert events[0]["details"]["chunks"] == 3 and events[0]["details"]["status"] == "handover"
    # the attempt cannot be finished from the remains, nor fed new pieces
    r = client.post(
        f"/api/v1/session/{token}/finish", json={"final_seqs": {"0": 2}}, headers={"Accept-Language": "en"}
    )
    assert r.status_code == 409 and "deleted" in r.json()["detail"]
    assert _put(client, token, 0, 3, b"late").status_code == 409
    assert light.sessions.sweep_chunks(now + timedelta(hours=48)) == 0  # nothing left to sweep


def _variants(token: str) -> list[str]:
    """Other spellings of the same bytes: padding, the standard alphabet, a stray character the
    decoder skips, and the last character with different unused bits."""
    body, sig = token.split(".")
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    i = last.index(sig[-1])
    twin = sig[:-1] + last[i ^ 1]  # 32 bytes in 43 characters: the last one has 2 unused bits
    assert base64.urlsafe_b64decode(twin + "=") == base64.urlsafe_b64decode(sig + "=")
    variants = [
        f"{body}.{sig}=",
        f"{body}==.{sig}" if len(body) % 4 == 2 else f"{body}=.{sig}",
        f"{body}.{twin}",
        f"{body}.{sig[:10]}!{sig[10:]}",
        token.replace("-", "+").replace("_", "/") if ("-" in token or "_" in token) else f" {token}",
    ]
    return variants


def test_a_token_is_accepted_only_in_its_canonical_spelling(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    _, token = _task(admin, system)
    client = TestClient(app_client.app)
    assert client.get(f"/api/v1/session/{token}").status_code == 200
    for variant in _variants(token):
        r = client.get(f"/api/v1/session/{variant}")
        assert r.status_code in (401, 404), (variant, r.status_code)  # 404: the router refuses the path
        assert client.get(f"/api/v1/entry/{variant}").status_code in (401, 404), variant


def test_a_deeply_nested_websocket_message_gets_an_error_answer(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    _, token = _task(admin, system)
    client = _started(app_client, token)
    with client.websocket_connect(f"/api/v1/session/{token}/live?lang=en") as ws:
        ws.send_text("[" * 5000 + "]" * 5000)
        answer = ws.receive_json()
        assert answer["type"] == "error" and "nested deeper" in answer["detail"]
        assert not has_cjk(answer["detail"])
    with client.websocket_connect(f"/api/v1/session/{token}/live") as ws:  # zh-CN by default
        ws.send_text("[" * 5000 + "]" * 5000)
        answer = ws.receive_json()
        assert answer["type"] == "error" and "嵌套" in answer["detail"] and " / " not in answer["detail"]
        ws.send_text('{"type": "frame", "t": 1, "image": ' + "[" * 5000 + "]" * 5000 + "}")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "ping"})  # the socket is still open and answering
        assert ws.receive_json() == {"type": "pong"}


def test_link_tokens_never_reach_the_logs(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    light: Container,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, token = _task(admin, system)
    caplog.set_level(logging.DEBUG)
    client = _started(app_client, token)
    _put(client, token, 0, 0, b"piece")
    client.get(f"/api/v1/entry/{token}")
    client.get(f"/h5/{token}")
    with client.websocket_connect(f"/api/v1/session/{token}/live") as ws:
        ws.send_json({"type": "ping"})
        ws.receive_json()
    access = [r for r in caplog.records if r.name == "dualrec.access"]
    assert len(access) >= 5
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[:8]
    assert any(f"/api/v1/session/[token:{fingerprint}]/chunks/0/0" in r.getMessage() for r in access)
    server_side = [r for r in caplog.records if not r.name.startswith("httpx")]  # not the test's client
    assert server_side
    signature = token.split(".")[1]
    for record in server_side:
        assert signature not in record.getMessage() and signature not in str(vars(record)), record.name


def test_the_handover_queue_gets_masked_numbers(
    app_client: TestClient, admin: TestClient, system: Signed, light: Container
) -> None:
    task_id, _, _ = _handed_over(app_client, admin, system)
    full = admin.get(f"/api/v1/tasks/{task_id}").json()["id_number"]
    assert "*" not in full  # the administrator may see it in full elsewhere
    one = admin.get(f"/api/v1/tasks/{task_id}", params={"masked": True}).json()
    listed = admin.get("/api/v1/tasks", params={"status": "handover", "masked": True}).json()["items"]
    for shown in (one, *listed):
        assert shown["id_number"] == full[:6] + "*" * (len(full) - 10) + full[-4:]
        assert full not in str(shown)
