"""The server side of agent uploads: a device's signed, chunked, resumable package upload becomes one
recording (QC queued once) attached to the task with the same business number; hashes are verified;
a package is stored once however often it is sent; the database rows work on all three backends."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.checks.required import required_checks
from dualrec.core.agent_package import package_id
from dualrec.core.flow import parse_flow
from dualrec.services.device.sync import PackageUploader, Throttle, UploadError
from tests.agent_support import Central, admin_actor, central_server, make_package
from tests.conftest import ADMIN_PASSWORD, CSRF
from tests.services import isolated_database_url

RECORDING = os.urandom(300_000)
JSON = {"Content-Type": "application/json"}


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with isolated_database_url(request.param, str(tmp_path)) as url:
        yield url


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    with central_server(tmp_path / "server") as c:
        yield c


def _client(central: Central) -> TestClient:
    return TestClient(create_app(central.settings, container=central.container))


def _uploader(client: TestClient, central: Central, chunk: int = 64 * 1024) -> PackageUploader:
    return PackageUploader(
        client,
        central.key.key_id,
        central.key.secret,
        Throttle(0),
        chunk_bytes=chunk,
        finalize_poll_seconds=0.05,
    )


def _admin(client: TestClient) -> TestClient:
    r = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}, headers=CSRF
    )
    assert r.status_code == 200
    client.headers.update(CSRF)
    return client


def _complete_upload(central: Central, tmp_path: Path) -> None:
    task_id = central.add_task("WM-7-0001")
    manifest, paths = make_package(tmp_path / "pkg", "WM-7-0001", RECORDING)
    with _client(central) as client:
        seen: list[int] = []
        final = _uploader(client, central).upload(manifest, paths, lambda off, _id: seen.append(off))
        assert final["status"] == "complete" and final["received"] == manifest.size
        assert final["task_id"] == task_id and final["package_id"] == package_id(manifest)
        assert seen == [0, 65536, 131072, 196608, 262144, manifest.size]  # 5 chunks of 64 KiB
        with central.container.uows() as uow:
            rec = uow.recordings.get(final["recording_id"])
            assert uow.agent_uploads.chunks(final["id"]) == []  # the staged chunks are dropped
        assert rec is not None and rec.running_no == "WM-7-0001" and rec.size == len(RECORDING)
        assert rec.sha256 == manifest.recording.sha256 and rec.status == "queued"
        assert rec.inputs["task"]["task_id"] == task_id and rec.inputs["task"]["customer_name"] == "王小明"
        assert central.qc_jobs() == [{"recording_id": rec.id}]
        task = central.container.tasks.get(actor=admin_actor(central.container), task_id=task_id)
        assert task.current_attempt is not None and task.current_attempt.recording_id == rec.id

        # sent again (a device that lost the answer): the same upload, nothing new
        again = _uploader(client, central).upload(manifest, paths)
        assert again["id"] == final["id"] and again["recording_id"] == rec.id
        assert len(central.qc_jobs()) == 1

        admin = _admin(client)
        patent = admin.get(f"/api/v1/agent-uploads/{final['id']}/report/patent")
        assert patent.status_code == 200 and patent.content == paths[2].read_bytes()
        listed = admin.get("/api/v1/agent-uploads", params={"running_no": "WM-7-0001"}).json()
        assert listed["total"] == 1 and listed["items"][0]["agent_verdict"] == "PASS"
        events = admin.get("/api/v1/audit-events", params={"action": "agent_upload.completed"}).json()
        assert events["items"][0]["details"]["recording_id"] == rec.id
        with central.container.uows() as uow:
            names = {e.payload.get("name") for e in uow.evidence.for_subject("recording", rec.id)}
        assert {"agent/report.json", "agent/check_data.json", "agent/evidence/portrait.jpg"} <= names


def test_a_complete_upload_becomes_one_recording_on_the_task(backend: str, tmp_path: Path) -> None:
    with central_server(tmp_path / "server", database_url=backend) as central:
        _complete_upload(central, tmp_path)


def test_resume_continues_at_the_servers_offset(central: Central, tmp_path: Path) -> None:
    manifest, paths = make_package(tmp_path / "pkg", "WM-7-0002", RECORDING)
    with _client(central) as client:
        up = _uploader(client, central)
        state = up.open(manifest)
        body = paths[0].read_bytes()
        for start in (0, 100_000):  # two chunks arrive, then the device loses track
            r = up._send("PUT", f"/api/v1/agent-uploads/{state['id']}/content", body[start : start + 100_000],
                         {"Upload-Offset": str(start)})  # fmt: skip
            assert r.status_code == 200, r.text
        assert up.open(manifest)["received"] == 200_000  # what a restarted device is told
        stale = up._send(
            "PUT", f"/api/v1/agent-uploads/{state['id']}/content", body[:1000], {"Upload-Offset": "0"}
        )
        assert stale.status_code == 409 and stale.json()["offset"] == 200_000
        sent: list[int] = []
        final = up.upload(manifest, paths, lambda off, _id: sent.append(off))
        assert sent[0] == 200_000 and final["status"] == "complete"
        assert len(central.qc_jobs()) == 1


def test_a_package_whose_bytes_do_not_match_its_hashes_is_refused(central: Central, tmp_path: Path) -> None:
    manifest, paths = make_package(tmp_path / "pkg", "WM-7-0003", RECORDING)
    paths[0].write_bytes(bytes(reversed(RECORDING)))  # same size, other bytes
    with _client(central) as client:
        with pytest.raises(UploadError) as err:
            _uploader(client, central).upload(manifest, paths)
        assert err.value.rejected and "recording.mp4" in str(err.value)
        state = _uploader(client, central).open(manifest)
        assert state["status"] == "receiving" and state["received"] == 0 and "SHA-256" in state["error"]
    assert central.qc_jobs() == []
    with central.container.uows() as uow:
        assert (
            uow.recordings.search(
                scope_path="/", running_no="WM-7-0003", status=None, verdict=None, offset=0, limit=5
            )[1]
            == 0
        )


def test_bad_requests_are_answered_with_the_reason(central: Central, tmp_path: Path) -> None:
    manifest, _ = make_package(tmp_path / "pkg", "WM-7-0004", RECORDING)
    with _client(central) as client:
        up = _uploader(client, central)
        bad = manifest.to_dict() | {"extra": 1}
        body = json.dumps({"manifest": bad}).encode()
        r = up._send("POST", "/api/v1/agent-uploads", body, {**JSON, "Accept-Language": "en"})
        assert r.status_code == 422 and "manifest" in r.json()["detail"]
        files = [
            dict(f, sha256="X" * 64) if f["role"] == "report" else f for f in manifest.to_dict()["files"]
        ]
        body = json.dumps({"manifest": manifest.to_dict() | {"files": files}}).encode()
        r = up._send("POST", "/api/v1/agent-uploads", body, JSON)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["manifest", "files", "1", "sha256"]
        state = up.open(manifest)
        url = f"/api/v1/agent-uploads/{state['id']}/content"
        assert up._send("PUT", url, b"x" * 10, {"Upload-Offset": "0"}).status_code == 200
        beyond = up._send("PUT", url, b"y" * manifest.size, {"Upload-Offset": "10"})
        assert beyond.status_code == 422 and beyond.json()["size"] == manifest.size  # past the end
        assert up._send("PUT", url, b"", {"Upload-Offset": "10"}).status_code == 422  # empty
        unsigned = client.put(url, content=b"z", headers={"Upload-Offset": "10"})
        assert unsigned.status_code == 401
        huge = client.put(url, content=b"z" * (2 * 1024 * 1024), headers={"Upload-Offset": "10"})
        assert huge.status_code == 413  # refused before the body is read for the signature
        with central_server(tmp_path / "other") as elsewhere:  # another server's key: unknown here
            foreign = PackageUploader(client, elsewhere.key.key_id, elsewhere.key.secret, Throttle(0))
            r = foreign._send("POST", "/api/v1/agent-uploads", json.dumps({"manifest": bad}).encode(), JSON)
            assert r.status_code == 401


def _flow_of(central: Central, task_id: str) -> dict[str, object]:
    """The flow the task's current attempt runs, as the console upload for that task gets it."""
    target = central.container.tasks.recording_target(actor=admin_actor(central.container), task_id=task_id)
    return target.flow


def test_an_upload_for_a_task_gets_the_tasks_flow_so_its_script_and_answer_checks_run(
    central: Central, tmp_path: Path
) -> None:
    task_id = central.add_task("WM-7-0100")
    expected = _flow_of(central, task_id)
    manifest, paths = make_package(tmp_path / "pkg", "WM-7-0100", RECORDING)
    with _client(central) as client:
        final = _uploader(client, central).upload(manifest, paths)
    with central.container.uows() as uow:
        rec = uow.recordings.get(final["recording_id"])
    assert rec is not None and rec.inputs["task"]["task_id"] == task_id
    assert rec.inputs["flow"] == expected  # the attempt's flow, drawn questions expanded
    flow = parse_flow(rec.inputs["flow"])
    needed = required_checks(flow, sensitive_words=True, id_photo=False)
    assert {"script_coverage", "answers"} <= set(needed)  # QC runs them (a flow-less upload: not_run)
    # no task with that business number: no flow (the upload is QC'd without one, as before)
    manifest, paths = make_package(tmp_path / "pkg2", "WM-7-0199", os.urandom(1000))
    with _client(central) as client:
        lone = _uploader(client, central).upload(manifest, paths)
    with central.container.uows() as uow:
        rec = uow.recordings.get(lone["recording_id"])
    assert rec is not None and lone["task_id"] is None and rec.inputs.get("flow") is None


def test_the_device_may_name_the_task_as_the_console_upload_dialog_does(
    central: Central, tmp_path: Path
) -> None:
    older = central.add_task("WM-7-0200")
    newer = central.add_task("WM-7-0200")  # the same business number twice: the newest is the default
    other = central.add_task("WM-7-0300")
    older_flow = _flow_of(central, older)  # its own drawn questions (each task draws its own)
    manifest, paths = make_package(tmp_path / "pkg", "WM-7-0200", RECORDING)
    with _client(central) as client:
        up = _uploader(client, central)
        with pytest.raises(UploadError, match="422") as wrong:  # another business number
            up.upload(manifest, paths, task_id=other)
        assert "runningNo" in str(wrong.value)
        with pytest.raises(UploadError, match="404"):
            up.upload(manifest, paths, task_id="00000000-0000-0000-0000-000000000000")
        final = up.upload(manifest, paths, task_id=older)
        assert final["task_id"] == older != newer
        with pytest.raises(UploadError, match="409"):  # the same package for another task
            up.upload(manifest, paths, task_id=newer)
    with central.container.uows() as uow:
        rec = uow.recordings.get(final["recording_id"])
    assert rec is not None and rec.inputs["task"]["task_id"] == older
    assert rec.inputs["flow"] == older_flow
    task = central.container.tasks.get(actor=admin_actor(central.container), task_id=older)
    assert task.current_attempt is not None and task.current_attempt.recording_id == rec.id
