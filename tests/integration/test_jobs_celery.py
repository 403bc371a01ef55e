"""A real Celery worker process (``dualrec worker``) on the local Redis completes jobs from the queue.

The worker and this test share the database (a SQLite file, PostgreSQL in a throw-away schema,
MariaDB in a throw-away database);
Redis DBs 5 (broker) and 6 (results) and a queue name unique to the run keep it apart from others.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update

from dualrec.bootstrap.jobs import build_job_queue, builtin_job_handlers, check_job_backend
from dualrec.db.engine import make_engine
from dualrec.db.job_store import SqlJobStore
from dualrec.db.migrate import upgrade
from dualrec.db.models import JobRow
from dualrec.jobs import SELFTEST_KIND, JobQueue, JobRecord
from dualrec.settings import Settings
from tests.services import redis_db_url

REDIS = ("127.0.0.1", 6379)
BROKER = redis_db_url(0)
RESULTS = redis_db_url(1)
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
MYSQL = "mysql://root@127.0.0.1:3306/test"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _require(service: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    reason = f"{service} is not reachable on {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(f"{reason}; start it to run the Celery integration test")


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own: a SQLite file, a PostgreSQL schema, a MariaDB database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"jobs_test_{uuid.uuid4().hex[:12]}"
    if request.param == "postgresql":
        _require("PostgreSQL", "127.0.0.1", 5432)
        admin_url, url = POSTGRES, f"{POSTGRES}?options=-csearch_path%3D{name}"
        create, drop = f'CREATE SCHEMA "{name}"', f'DROP SCHEMA "{name}" CASCADE'
    else:
        _require("MariaDB", "127.0.0.1", 3306)
        admin_url, url = MYSQL, MYSQL.rsplit("/", 1)[0] + f"/{name}"
        create, drop = f"CREATE DATABASE `{name}`", f"DROP DATABASE `{name}`"
    admin = make_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(create))
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(drop))
        admin.dispose()


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"dualrec-test-{uuid.uuid4().hex[:12]}"
    yield name
    import redis

    client = redis.Redis.from_url(BROKER)
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    client.close()


def _settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        job_backend="celery",
        celery_broker_url=BROKER,
        celery_result_backend=RESULTS,
    )


@pytest.fixture
def start_worker(
    database_url: str, queue_name: str, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts ``dualrec worker`` as a separate process; stops it afterwards."""
    _require("Redis", *REDIS)
    env = {
        **os.environ,
        "DUALREC_ENV": "test",
        "DUALREC_DATA_DIR": str(tmp_path / "worker-data"),
        "DUALREC_DATABASE_URL": database_url,
        "DUALREC_JOB_BACKEND": "celery",
        "DUALREC_CELERY_BROKER_URL": BROKER,
        "DUALREC_CELERY_RESULT_BACKEND": RESULTS,
    }
    # The real command line: `dualrec worker --concurrency 1 --queue <unique> --loglevel INFO`.
    argv = [sys.executable, "-c", "from dualrec.cli.main import app; app()", "worker"]
    argv += ["--concurrency", "1", "--queue", queue_name, "--loglevel", "INFO"]
    log_path = tmp_path / "worker.log"
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log:
            proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if log_path.exists():
        print(log_path.read_text(errors="replace")[-4000:])


def _wait_finished(queue: JobQueue, job_id: str, proc: subprocess.Popen[bytes], timeout: float) -> JobRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = queue.get(job_id)
        if info.finished:
            return info
        assert proc.poll() is None, f"the worker exited with {proc.returncode}"
        time.sleep(0.2)
    raise AssertionError(f"job not finished within {timeout} s: {queue.get(job_id)}")


@pytest.mark.slow
def test_a_real_celery_worker_completes_jobs_recorded_in_the_database(
    database_url: str,
    queue_name: str,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    engine = make_engine(database_url)
    store = SqlJobStore(engine)
    queue = build_job_queue(
        _settings(database_url, tmp_path / "data"),
        builtin_job_handlers(),
        engine=engine,
        queue_name=queue_name,
    )
    try:
        # Left over from before: a job whose worker died mid-run, and one the broker never got.
        interrupted = store.add(kind=SELFTEST_KIND, payload={"text": "interrupted"}, max_attempts=3).id
        assert store.claim(interrupted, worker="dead-host/1") is not None
        with engine.begin() as conn:
            conn.execute(
                update(JobRow)
                .where(JobRow.id == interrupted)
                .values(heartbeat_at=datetime.now(UTC) - timedelta(minutes=10))
            )
        unsent = store.add(kind=SELFTEST_KIND, payload={"text": "never sent"}, max_attempts=3).id

        worker = start_worker()
        queue.start()
        message = f"双录 celery self-test {uuid.uuid4()}"
        good = queue.enqueue(SELFTEST_KIND, {"text": message})
        bad = queue.enqueue(SELFTEST_KIND, {"recording_id": 12})  # no "text": the handler refuses it

        info = _wait_finished(queue, good, worker, timeout=60)
        assert info.status == "done", info.error
        assert info.result is not None
        assert info.result["sha256"] == hashlib.sha256(message.encode()).hexdigest()
        assert info.result["length"] == len(message)
        host, pid = str(info.result["worker"]).rsplit("/", 1)
        assert host == socket.gethostname() and int(pid) != os.getpid()  # ran in another process
        assert info.attempts == 1 and info.progress == 1.0 and info.worker

        failed = _wait_finished(queue, bad, worker, timeout=60)
        assert failed.status == "failed" and failed.attempts == 1
        assert failed.error is not None and "system.selftest needs a payload" in failed.error

        recovered = _wait_finished(queue, interrupted, worker, timeout=60)
        assert recovered.status == "done" and recovered.attempts == 2
        assert recovered.result is not None
        assert recovered.result["sha256"] == hashlib.sha256(b"interrupted").hexdigest()
        resent = _wait_finished(queue, unsent, worker, timeout=60)
        assert resent.status == "done" and resent.attempts == 1

        check = check_job_backend(
            _settings(database_url, tmp_path / "data"), engine=engine, timeout=30, queue_name=queue_name
        )
        assert check.ok, check.detail
        assert check.detail.startswith("celery: selftest done by ") and str(os.getpid()) not in check.detail
    finally:
        queue.stop()
        engine.dispose()


def test_backend_check_says_so_when_no_worker_consumes_the_queue(queue_name: str, tmp_path: Path) -> None:
    _require("Redis", *REDIS)
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        check = check_job_backend(_settings(url, tmp_path), engine=engine, timeout=1.5, queue_name=queue_name)
    finally:
        engine.dispose()
    assert not check.ok
    assert "is a `dualrec worker` running?" in check.detail


def test_backend_check_reports_an_unreachable_broker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    settings = _settings(url, tmp_path).model_copy(
        update={"celery_broker_url": "redis://127.0.0.1:1/5"}  # nothing listens on port 1
    )
    try:
        check = check_job_backend(settings, engine=engine, timeout=20)
    finally:
        engine.dispose()
    assert not check.ok
    assert "cannot be reached" in check.detail
