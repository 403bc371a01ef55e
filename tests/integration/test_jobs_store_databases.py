"""The SQL job store on SQLite, PostgreSQL and MariaDB: atomic claims under a race, guarded updates."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from dualrec.db.engine import make_engine
from dualrec.db.job_store import SqlJobStore
from dualrec.db.migrate import upgrade

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
MYSQL = "mysql://root@127.0.0.1:3306/test"


def _require(service: str, port: int) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return
    except OSError:
        reason = f"{service} is not reachable on 127.0.0.1:{port}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: this test must run)")
        pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlJobStore]:
    name = f"jobs_test_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
        create, drop, admin = None, None, None
    elif request.param == "postgresql":
        _require("PostgreSQL", 5432)
        url = f"{POSTGRES}?options=-csearch_path%3D{name}"
        create, drop, admin = f'CREATE SCHEMA "{name}"', f'DROP SCHEMA "{name}" CASCADE', POSTGRES
    else:
        _require("MariaDB", 3306)
        url = MYSQL.rsplit("/", 1)[0] + f"/{name}"
        create, drop, admin = f"CREATE DATABASE `{name}`", f"DROP DATABASE `{name}`", MYSQL
    admin_engine = make_engine(admin) if admin else None
    if admin_engine is not None and create:
        with admin_engine.begin() as conn:
            conn.execute(text(create))
    engine = make_engine(url)
    try:
        upgrade(url)
        yield SqlJobStore(engine)
    finally:
        engine.dispose()
        if admin_engine is not None and drop:
            with admin_engine.begin() as conn:
                conn.execute(text(drop))
            admin_engine.dispose()


def test_racing_workers_claim_each_job_exactly_once(store: SqlJobStore) -> None:
    ids = [store.add(kind="test.work", payload={"n": n}, max_attempts=3).id for n in range(20)]
    claims: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        for job_id in ids:
            if store.claim(job_id, worker=name) is not None:
                with lock:
                    claims[job_id] += 1

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert claims == Counter(dict.fromkeys(ids, 1))
    assert {job.status for job in store.list_unfinished()} == {"running"}


def test_retries_count_attempts_and_the_last_error_is_kept(store: SqlJobStore) -> None:
    job = store.add(kind="test.work", payload={"recording_id": "录像-1"}, max_attempts=2)
    assert store.claim(job.id, worker="a") is not None
    assert store.mark_failed(job.id, "first error", worker="a", retry=True) == "queued"
    assert store.claim(job.id, worker="b") is not None
    assert store.mark_failed(job.id, "second error", worker="a", retry=True) is None  # not a's claim
    assert store.mark_failed(job.id, "second error", worker="b", retry=True) == "failed"
    final = store.get(job.id)
    assert final is not None
    assert (final.status, final.attempts, final.error) == ("failed", 2, "second error")
    assert final.payload == {"recording_id": "录像-1"} and final.finished_at is not None


def test_only_the_claiming_worker_can_finish_a_job(store: SqlJobStore) -> None:
    job = store.add(kind="test.work", payload={}, max_attempts=3)
    assert store.claim(job.id, worker="owner") is not None
    assert store.claim(job.id, worker="thief") is None
    assert store.mark_done(job.id, {"stolen": True}, worker="thief") is False
    assert store.set_progress(job.id, 0.5, worker="owner") is True
    assert store.mark_done(job.id, {"score": 0.93, "findings": [{"id": "silence"}]}, worker="owner") is True
    done = store.get(job.id)
    assert done is not None and done.status == "done" and done.progress == 1.0
    assert done.result == {"score": 0.93, "findings": [{"id": "silence"}]}


def test_only_silent_running_jobs_are_requeued(store: SqlJobStore) -> None:
    job = store.add(kind="test.work", payload={}, max_attempts=3)
    assert store.claim(job.id, worker="w") is not None
    now = datetime.now(UTC)
    assert store.requeue_stale(now - timedelta(minutes=1)) == []
    assert store.heartbeat(job.id, worker="w") is True
    assert store.requeue_stale(now + timedelta(seconds=5)) == [job.id]
    requeued = store.get(job.id)
    assert requeued is not None and requeued.status == "queued"
    assert requeued.error is not None and "worker w stopped responding" in requeued.error
    assert store.heartbeat(job.id, worker="w") is False  # w lost the job
