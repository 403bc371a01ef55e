"""Multi-machine path: the API enqueues QC to Redis, a separate ``dualrec worker`` process runs the
pipeline (real engines, built in the worker) and the API serves the report it stored."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import build_container, job_handlers
from dualrec.bootstrap.jobs import build_job_queue
from dualrec.services.identity.seed import seed_demo
from tests.conftest import ADMIN_PASSWORD, login, make_clip, make_settings
from tests.services import redis_db_url, require_service

pytestmark = pytest.mark.slow  # about 11 s: a Celery worker process runs a real QC


BROKER = redis_db_url(2)
RESULTS = redis_db_url(3)


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"dualrec-qc-test-{uuid.uuid4().hex[:12]}"
    yield name
    import redis

    client = redis.Redis.from_url(BROKER)
    client.delete(name, f"_kombu.binding.{name}")
    client.close()


def test_qc_job_runs_in_a_celery_worker_process(tmp_path: Path, queue_name: str) -> None:
    require_service("redis")
    data_dir = tmp_path / "data"  # shared by API and worker: one database file, one blob store
    overrides = {"job_backend": "celery", "celery_broker_url": BROKER, "celery_result_backend": RESULTS}
    settings = make_settings(data_dir, **overrides)
    clip = make_clip(tmp_path / "clip.mp4", 5)
    container = build_container(settings, migrate=True)
    seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    container.jobs = build_job_queue(
        settings, job_handlers(container), engine=container.engine, queue_name=queue_name
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALREC_")}
    env.update(
        {
            "DUALREC_ENV": "test",
            "DUALREC_DATA_DIR": str(data_dir),
            "DUALREC_JOB_BACKEND": "celery",
            "DUALREC_CELERY_BROKER_URL": BROKER,
            "DUALREC_CELERY_RESULT_BACKEND": RESULTS,
        }
    )
    code = f"from dualrec.cli.worker import worker; worker(concurrency=1, queue={queue_name!r}, pool='solo')"
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with TestClient(create_app(settings, container=container)) as client:
            login(client, "admin", ADMIN_PASSWORD)
            with clip.open("rb") as fh:
                r = client.post(
                    "/api/v1/recordings",
                    files={"file": ("clip.mp4", fh, "video/mp4")},
                    data={"task": json.dumps({"running_no": "CELERY-1"})},
                )
            assert r.status_code == 202, r.text
            rid = r.json()["id"]
            deadline = time.monotonic() + 240
            body = client.get(f"/api/v1/recordings/{rid}").json()
            while body["status"] not in ("done", "failed") and time.monotonic() < deadline:
                assert worker.poll() is None, (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
                time.sleep(0.5)
                body = client.get(f"/api/v1/recordings/{rid}").json()
            assert body["status"] == "done", body
            job = client.get(f"/api/v1/system/jobs/{_job_id(container, rid)}").json()
            assert job["status"] == "done" and job["result"]["recording_id"] == rid
            patent = client.get(f"/api/v1/recordings/{rid}/report/patent").json()
            assert patent["runningNo"] == "CELERY-1" and patent["video_info"]["width"] == 320
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        container.close()


def _job_id(container: object, recording_id: str) -> str:
    from dualrec.bootstrap.container import Container

    assert isinstance(container, Container)
    with container.uows() as uow:
        rec = uow.recordings.get(recording_id)
    assert rec is not None and rec.job_id
    return rec.job_id
