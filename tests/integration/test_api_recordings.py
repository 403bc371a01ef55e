"""Upload a recording through the API → QC job (in-process queue) → reports and evidence retrievable.

The media path is real (PyAV probe/decode on an ffmpeg-made file); the AI engines are switched off
here (their checks say "not run" with the reason) — the engines themselves are tested elsewhere.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container
from dualrec.services.identity.seed import seed_demo
from tests import media_factory as mf
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login, make_clip, make_settings


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", 6)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from dualrec.bootstrap.engines import build_qc_engines

    settings = make_settings(tmp_path / "data", job_workers=1)
    container: Container = build_container(settings, migrate=True)
    seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    engines = build_qc_engines(data_dir=settings.data_dir, asr=False, faces=False, ocr=False)
    container.engines = lambda: engines
    from dualrec.bootstrap.container import job_handlers
    from dualrec.bootstrap.jobs import build_job_queue

    container.jobs = build_job_queue(settings, job_handlers(container), engine=container.engine)
    with TestClient(create_app(settings, container=container)) as c:
        yield login(c, "admin", ADMIN_PASSWORD)
    container.close()


def _wait_done(client: TestClient, rid: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/recordings/{rid}").json()
        if body["status"] in ("done", "failed"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError(f"QC did not finish in {timeout}s")


def test_upload_runs_qc_and_reports_are_stored(client: TestClient, clip: Path) -> None:
    task = {"running_no": "RN-20261123-0001", "customer_name": "张三"}
    with clip.open("rb") as fh:
        r = client.post(
            "/api/v1/recordings",
            files={"file": ("clip.mp4", fh, "video/mp4")},
            data={"task": json.dumps(task, ensure_ascii=False)},
        )
    assert r.status_code == 202, r.text
    created = r.json()
    assert created["status"] in ("queued", "running") and created["running_no"] == "RN-20261123-0001"
    assert len(created["sha256"]) == 64 and created["size"] == clip.stat().st_size
    done = _wait_done(client, created["id"])
    assert done["status"] == "done", done
    assert done["verdict"] in ("PASS", "REVIEW", "FAIL") and 0 <= done["risk_score"] <= 100

    native = client.get(done["links"]["report"]).json()
    checks = {c["id"]: c for c in native["checks"]}
    assert checks["file_integrity"]["status"] == "passed"
    assert any(c["status"] == "not_run" and c["reason"] for c in native["checks"])  # engines off: said so

    patent = client.get(done["links"]["patent"]).json()
    assert patent["runningNo"] == "RN-20261123-0001"
    assert patent["video_info"]["width"] == 320 and patent["video_info"]["height"] == 240
    assert set(patent["video_info"]) == {"name", "width", "height", "video_time", "audio_time", "fps"}
    assert native["video_info"]["video_codec"] == "h264" and native["video_info"]["audio_codec"] == "aac"
    assert abs(float(patent["video_info"]["video_time"]) - 6.0) < 0.5
    assert {"check_items", "check_comment", "result", "conf", "extra_info"} <= set(patent["check_list"][0])

    pdf = client.get(done["links"]["pdf"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and len(pdf.content) > 5000

    listed = client.get("/api/v1/recordings", params={"running_no": "RN-20261123-0001"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == created["id"]


def test_bad_uploads_are_clear_errors_and_store_nothing(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/api/v1/recordings", files={"file": ("empty.mp4", b"", "video/mp4")})
    assert r.status_code == 422 and "为空" in r.json()["detail"]
    r = client.post(
        "/api/v1/recordings", files={"file": ("a.mp4", b"x" * 100, "video/mp4")}, data={"task": "{not json"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["task"]
    r = client.post(
        "/api/v1/recordings",
        files={"file": ("a.mp4", b"x" * 100, "video/mp4")},
        data={"task": json.dumps({"running_no": "1", "evil": True})},
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/recordings",
        files={
            "file": ("a.mp4", b"x" * 100, "video/mp4"),
            "id_photo": ("p.jpg", b"not an image", "image/jpeg"),
        },
    )
    assert r.status_code == 422
    assert client.get("/api/v1/recordings").json()["total"] == 0


def test_text_file_renamed_mp4_gives_a_report_saying_what_is_wrong(client: TestClient) -> None:
    r = client.post(
        "/api/v1/recordings", files={"file": ("fake.mp4", "这不是视频 not a video\n" * 50, "video/mp4")}
    )
    assert r.status_code == 202
    done = _wait_done(client, r.json()["id"])
    assert done["status"] == "done" and done["verdict"] == "FAIL"
    native = client.get(done["links"]["report"]).json()
    integrity = next(c for c in native["checks"] if c["id"] == "file_integrity")
    assert integrity["status"] == "failed"
    # the server's scratch directory never reaches the report a user reads
    assert "scratch" not in json.dumps(native, ensure_ascii=False)
    assert "scratch" not in " ".join(done["reasons"])


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("text", "无法打开媒体文件"),
        ("truncated_plain", "无法打开媒体文件"),  # `head -c` of a real recording (faces + speech)
        ("truncated_faststart", "截断"),
    ],
)
def test_bad_media_job_says_why_in_one_line_and_logs_no_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture, kind: str, problem: str
) -> None:
    from tests.integration.test_qc_recordings import cache_dir

    if mf.available() is not None:
        pytest.skip(mf.available())
    media = mf.MediaFactory(cache_dir())
    path = media.text_as_mp4() if kind == "text" else media.truncated(faststart=kind.endswith("faststart"))
    caplog.set_level(logging.INFO)
    with path.open("rb") as fh:
        r = client.post("/api/v1/recordings", files={"file": ("upload.mp4", fh, "video/mp4")})
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    done = _wait_done(client, rid)
    assert done["status"] == "done" and done["verdict"] == "FAIL" and done["error"] is None
    assert done["reasons"][0].startswith("file_integrity:") and problem in done["reasons"][0]
    ours = [rec for rec in caplog.records if rec.name.startswith("dualrec")]
    # a damaged file is the customer's problem, not the server's: no traceback in the server log
    assert not [rec for rec in ours if rec.exc_info], [rec.getMessage() for rec in ours if rec.exc_info]
    line = next(rec.getMessage() for rec in ours if rec.getMessage().startswith(f"QC of recording {rid}"))
    assert "FAIL" in line and problem in line and "\n" not in line


def test_other_branch_cannot_see_the_recording(client: TestClient, clip: Path) -> None:
    with clip.open("rb") as fh:
        rid = client.post(
            "/api/v1/recordings", files={"file": ("clip.mp4", fh, "video/mp4")}, data={"branch_id": "3"}
        ).json()["id"]  # 北京朝阳支行
    container: Container = client.app.state.container  # type: ignore[attr-defined]
    from dualrec.services.identity.users_cli import create_user_as_system

    create_user_as_system(
        container.uows,
        username="sh_qc",
        role="qc_reviewer",
        branch_code="SH",
        display_name="沪质检",
        password=PASSWORD,
    )
    client.post("/api/v1/auth/logout")
    login(client, "sh_qc")
    assert client.get(f"/api/v1/recordings/{rid}").status_code == 404
    assert client.get(f"/api/v1/recordings/{rid}/report").status_code == 404
    assert client.get("/api/v1/recordings").json()["total"] == 0


def test_media_playback_supports_ranges(client: TestClient, clip: Path) -> None:
    raw = clip.read_bytes()
    with clip.open("rb") as fh:
        rid = client.post("/api/v1/recordings", files={"file": ("clip.mp4", fh, "video/mp4")}).json()["id"]
    r = client.get(f"/api/v1/recordings/{rid}/media", headers={"Range": "bytes=100-1099"})
    assert r.status_code == 206 and r.content == raw[100:1100]
    assert (
        r.headers["content-range"] == f"bytes 100-1099/{len(raw)}" and r.headers["accept-ranges"] == "bytes"
    )
    r = client.get(f"/api/v1/recordings/{rid}/media", headers={"Range": "bytes=-500"})
    assert r.status_code == 206 and r.content == raw[-500:]
    r = client.get(f"/api/v1/recordings/{rid}/media", headers={"Range": "bytes=1000-"})
    assert r.status_code == 206 and r.content == raw[1000:]
    r = client.get(f"/api/v1/recordings/{rid}/media", headers={"Range": f"bytes={len(raw) + 10}-"})
    assert r.status_code == 416 and r.json()["size"] == len(raw)
    r = client.get(f"/api/v1/recordings/{rid}/media", headers={"Range": "bytes=1-2,5-6"})
    assert r.status_code == 422
    r = client.get(f"/api/v1/recordings/{rid}/media")
    assert r.status_code == 200 and r.content == raw and r.headers["content-type"] == "video/mp4"
