"""Archive-system push against a real local HTTP receiver that fails twice, then accepts: the queue
retries with backoff, every try carries the same delivery id and a valid signature, the package the
receiver keeps verifies offline; a push queued before a restart is delivered after it. The download
API serves the same package to an API key holding evidence:export, within its business types."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.core.auth_rules import sign_request
from dualrec.core.identity import Principal
from dualrec.core.rbac import role_permissions
from dualrec.core.webhooks import verify_webhook
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.evidence.verify import verify_package
from dualrec.services.identity.apikeys import create_api_key
from tests.conftest import ADMIN_PASSWORD, login
from tests.litigation_fixtures import fake_server, upload_done

SECRET = "archive-push-secret-0123456789"
LOCAL = ["127.0.0.1"]  # DUALREC_OUTBOUND_ALLOW: the test archive system listens on loopback


@dataclass
class Received:
    headers: dict[str, str]
    parts: dict[str, tuple[str | None, bytes]]


@dataclass
class Receiver:
    url: str = ""
    fail_first: int = 2
    tries: list[Received] = field(default_factory=list)


def _parts(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    msg: Message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    out = {}
    for part in msg.iter_parts():  # type: ignore[attr-defined]
        out[part.get_param("name", header="content-disposition")] = (
            part.get_filename(),
            part.get_payload(decode=True),
        )
    return out


@contextmanager
def receiver(fail_first: int = 2) -> Iterator[Receiver]:
    state = Receiver(fail_first=fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.tries.append(Received(dict(self.headers), _parts(self.headers["Content-Type"], body)))
            ok = len(state.tries) > state.fail_first
            self.send_response(200 if ok else 503)
            self.end_headers()
            self.wfile.write(b'{"accepted": true}' if ok else b"archive busy")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/archive/in"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _wait(client: TestClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        push: dict[str, Any] = client.get(f"/api/v1/archive-pushes/{job_id}").json()
        if push["status"] in ("done", "failed"):
            return push
        time.sleep(0.3)
    raise AssertionError(f"push {job_id} not finished in {timeout} s")


@pytest.mark.slow
def test_receiver_failing_twice_gets_the_package_on_the_third_try(tmp_path: Path) -> None:
    with (
        receiver(fail_first=2) as archive,
        fake_server(
            tmp_path / "data", archive_push_url=archive.url, archive_push_secret=SECRET, outbound_allow=LOCAL
        ) as (client, _),
    ):
        login(client, "admin", ADMIN_PASSWORD)
        rid = upload_done(client, "PUSH-0001")
        assert client.get("/api/v1/litigation/settings").json()["archive_push"] is True
        r = client.post(f"/api/v1/recordings/{rid}/archive-push", headers={"Accept-Language": "en"})
        assert r.status_code == 202, r.text
        push = _wait(client, r.json()["job_id"])
        assert push["status"] == "done" and push["attempts"] == 3, push
        assert push["result"]["status_code"] == 200

        assert len(archive.tries) == 3
        assert {t.headers["X-Dualrec-Delivery"] for t in archive.tries} == {push["job_id"]}
        accepted = archive.tries[-1]
        assert accepted.headers["X-Dualrec-Event"] == "archive.package"
        _, metadata_raw = accepted.parts["metadata"]
        ts = accepted.headers["X-Dualrec-Timestamp"]
        verify_webhook(
            SECRET,
            timestamp_header=ts,
            signature_header=accepted.headers["X-Dualrec-Signature"],
            body=metadata_raw,
            now=int(ts),
        )
        metadata = json.loads(metadata_raw)
        assert metadata["recording"]["id"] == rid and metadata["recording"]["business_type"] == "wealth"
        assert metadata["delivery_id"] == push["job_id"] and metadata["attempt"] == 3
        filename, package = accepted.parts["package"]
        assert filename == f"evidence-{rid}.zip"
        assert (
            hashlib.sha256(package).hexdigest()
            == metadata["package"]["sha256"]
            == push["result"]["package_sha256"]
        )
        kept = tmp_path / "kept.zip"
        kept.write_bytes(package)
        assert verify_package(kept).ok

        log = client.get("/api/v1/audit-exports/litigation", params={"page_size": 50}).json()["items"]
        actions = [row["action"] for row in log if row["target"] == f"recording:{rid}"]
        assert actions.count("evidence.push_failed") == 2 and actions.count("evidence.pushed") == 1
        assert "evidence.push_requested" in actions


def test_a_push_queued_before_a_restart_is_delivered_after_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with receiver(fail_first=0) as archive:
        settings = {"archive_push_url": archive.url, "archive_push_secret": SECRET, "outbound_allow": LOCAL}
        with fake_server(data, **settings) as (client, _):
            login(client, "admin", ADMIN_PASSWORD)
            rid = upload_done(client, "PUSH-0002")
        with fake_server(data, start_jobs=False, **settings) as (client, _):  # the queue is down
            login(client, "admin", ADMIN_PASSWORD)
            job_id = client.post(f"/api/v1/recordings/{rid}/archive-push").json()["job_id"]
            time.sleep(0.5)
            assert client.get(f"/api/v1/archive-pushes/{job_id}").json()["status"] == "queued"
        assert archive.tries == []
        with fake_server(data, **settings) as (client, _):  # restarted: the stored job runs
            login(client, "admin", ADMIN_PASSWORD)
            assert _wait(client, job_id)["status"] == "done"
        assert len(archive.tries) == 1 and archive.tries[0].headers["X-Dualrec-Delivery"] == job_id


def test_a_push_to_an_internal_address_is_refused_without_the_allow_list(tmp_path: Path) -> None:
    with (
        receiver(fail_first=0) as archive,
        fake_server(tmp_path / "data", archive_push_url=archive.url, archive_push_secret=SECRET) as (
            client,
            _,
        ),
    ):
        login(client, "admin", ADMIN_PASSWORD)
        rid = upload_done(client, "PUSH-0004")
        push = _wait(client, client.post(f"/api/v1/recordings/{rid}/archive-push").json()["job_id"])
        assert push["status"] == "failed" and push["attempts"] == 1, push  # not retried: a setting is wrong
        assert "loopback" in push["error"] and "DUALREC_OUTBOUND_ALLOW" in push["error"]
        assert archive.tries == []  # nothing reached the address
        log = client.get("/api/v1/audit-exports/litigation", params={"page_size": 50}).json()["items"]
        failed = [row for row in log if row["action"] == "evidence.push_failed"]
        assert len(failed) == 1 and "DUALREC_OUTBOUND_ALLOW" in json.dumps(failed[0], ensure_ascii=False)


def test_push_is_refused_when_no_archive_system_is_configured(tmp_path: Path) -> None:
    with fake_server(tmp_path / "data") as (client, _):
        login(client, "admin", ADMIN_PASSWORD)
        rid = upload_done(client, "PUSH-0003")
        r = client.post(f"/api/v1/recordings/{rid}/archive-push")
        assert r.status_code == 409 and "DUALREC_ARCHIVE_PUSH_URL" in r.json()["detail"]


def _signed_get(client: TestClient, key_id: str, secret: str, path: str) -> Any:
    ts, nonce = str(int(time.time())), secrets.token_hex(8)
    return client.get(
        path,
        headers={
            "X-Dualrec-Key": key_id,
            "X-Dualrec-Timestamp": ts,
            "X-Dualrec-Nonce": nonce,
            "X-Dualrec-Signature": sign_request(secret, "GET", path, "", ts, nonce, b""),
        },
    )


def test_an_authorised_system_downloads_the_package(tmp_path: Path) -> None:
    with fake_server(tmp_path / "data") as (client, container):
        login(client, "admin", ADMIN_PASSWORD)
        wealth = upload_done(client, "DL-0001", business_type="wealth")
        insurance = upload_done(client, "DL-0002", business_type="insurance")
        with container.uows() as uow:
            hq = uow.branches.by_code("HQ")
        assert hq
        admin = Actor(
            principal=Principal("user", 1, "admin", "admin", hq.id, hq.path, role_permissions("admin")),
            meta=SYSTEM.meta,
        )
        archive_key = create_api_key(
            container.uows,
            container.secretbox,
            actor=admin,
            name="档案系统",
            branch_id=hq.id,
            business_types=["wealth"],
            permissions=["evidence:export"],
        )
        plain_key = create_api_key(
            container.uows,
            container.secretbox,
            actor=admin,
            name="业务系统",
            branch_id=hq.id,
            business_types=[],
        )
        system = TestClient(client.app)
        path = f"/api/v1/recordings/{wealth}/evidence-package.zip"
        r = _signed_get(system, archive_key.key_id, archive_key.secret or "", path)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/zip"
        assert hashlib.sha256(r.content).hexdigest() == r.headers["x-content-sha256"]
        saved = tmp_path / "dl.zip"
        saved.write_bytes(r.content)
        assert verify_package(saved).ok
        other = f"/api/v1/recordings/{insurance}/evidence-package.zip"
        assert _signed_get(system, archive_key.key_id, archive_key.secret or "", other).status_code == 404
        denied = _signed_get(system, plain_key.key_id, plain_key.secret or "", path)
        assert denied.status_code == 403 and denied.json()["permission"] == "evidence:export"
        log = client.get("/api/v1/audit-exports/litigation").json()["items"]
        assert any(
            row["action"] == "evidence.package_downloaded" and row["target"] == f"recording:{wealth}"
            for row in log
        )
        assert not list((container.settings.data_dir / "scratch").glob("package-*"))  # temp files removed
