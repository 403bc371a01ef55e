"""The in-process job queue on a real SQLite database: runs, retries, recovers, bounds concurrency."""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from dualrec.db.engine import make_engine
from dualrec.db.job_store import SqlJobStore
from dualrec.db.migrate import upgrade
from dualrec.db.models import JobRow
from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.jobs import SELFTEST_KIND, JobContext, JobRecord, selftest_handler
from dualrec.jobs.fakes import ManualJobQueue, MemoryJobStore
from dualrec.jobs.inprocess import InProcessJobQueue


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per module; each test gets its own copy (migrations take ~0.5 s)."""
    path = tmp_path_factory.mktemp("jobs-template") / "jobs.sqlite3"
    upgrade(f"sqlite:///{path}")
    checkpoint = make_engine(f"sqlite:///{path}")
    with checkpoint.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.dispose()
    return path


@pytest.fixture
def engine(tmp_path: Path, migrated_db: Path) -> Iterator[Engine]:
    db = tmp_path / "jobs.sqlite3"
    shutil.copyfile(migrated_db, db)
    eng = make_engine(f"sqlite:///{db}")
    yield eng
    eng.dispose()


Store = SqlJobStore | MemoryJobStore
Backdate = Callable[[str, datetime], None]


@pytest.fixture(params=["sql", "memory"])
def store(request: pytest.FixtureRequest, engine: Engine) -> Store:
    """Every behaviour holds for the SQL store and for its in-memory fake alike."""
    return SqlJobStore(engine) if request.param == "sql" else MemoryJobStore()


@pytest.fixture
def backdate(store: Store, engine: Engine) -> Backdate:
    """Make a running job look as if its worker went silent at a given time."""

    def apply(job_id: str, when: datetime) -> None:
        if isinstance(store, MemoryJobStore):
            store.backdate_heartbeat(job_id, when)
            return
        with engine.begin() as conn:
            conn.execute(update(JobRow).where(JobRow.id == job_id).values(heartbeat_at=when))

    return apply


QueueFactory = Callable[..., InProcessJobQueue]


@pytest.fixture
def make_queue(store: Store) -> Iterator[QueueFactory]:
    made: list[InProcessJobQueue] = []

    def factory(handlers: dict[str, Any] | None = None, **kwargs: Any) -> InProcessJobQueue:
        options: dict[str, Any] = {"retry_base_delay": 0.05, "heartbeat_interval": 0.2, "stale_after": 5.0}
        options.update(kwargs)
        queue = InProcessJobQueue(store, handlers or {}, **options)
        made.append(queue)
        return queue

    yield factory
    for queue in made:
        queue.stop(wait=True)


def wait_finished(queue: InProcessJobQueue, job_id: str, timeout: float = 10.0) -> JobRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = queue.get(job_id)
        if info.finished:
            return info
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} not finished after {timeout}s: {queue.get(job_id)}")


def test_selftest_job_runs_and_records_its_result(make_queue: QueueFactory) -> None:
    queue = make_queue({SELFTEST_KIND: selftest_handler})
    queue.start()
    job_id = queue.enqueue(SELFTEST_KIND, {"text": "双录 self-test"})
    info = wait_finished(queue, job_id)
    assert info.status == "done"
    assert info.result is not None
    assert info.result["sha256"] == hashlib.sha256("双录 self-test".encode()).hexdigest()
    assert info.result["length"] == len("双录 self-test")
    assert info.attempts == 1 and info.progress == 1.0 and info.error is None
    assert info.worker and info.started_at and info.finished_at and info.finished_at >= info.started_at


def test_failing_job_is_retried_with_backoff_then_failed_with_last_error(make_queue: QueueFactory) -> None:
    calls: list[float] = []

    def always_fails(ctx: JobContext) -> None:
        calls.append(time.monotonic())
        raise RuntimeError(f"disk full on attempt {ctx.attempt}")

    queue = make_queue({"test.fails": always_fails})
    queue.start()
    info = wait_finished(queue, queue.enqueue("test.fails", {"recording_id": 7}, max_attempts=3))
    assert info.status == "failed"
    assert info.attempts == 3 and len(calls) == 3
    assert info.error == "RuntimeError: disk full on attempt 3"
    # backoff 0.05 s then 0.1 s between attempts
    assert calls[1] - calls[0] >= 0.05
    assert calls[2] - calls[1] >= 0.1


def test_a_transient_failure_is_retried_until_it_succeeds(make_queue: QueueFactory) -> None:
    def flaky(ctx: JobContext) -> dict[str, Any]:
        if ctx.attempt < 2:
            raise ConnectionError("database went away")
        return {"recording_id": ctx.payload["recording_id"], "attempt": ctx.attempt}

    queue = make_queue({"test.flaky": flaky})
    queue.start()
    info = wait_finished(queue, queue.enqueue("test.flaky", {"recording_id": "r-1"}))
    assert info.status == "done"
    assert info.result == {"recording_id": "r-1", "attempt": 2}


def test_invalid_input_from_a_handler_fails_at_once(make_queue: QueueFactory) -> None:
    calls = Counter[str]()

    def rejects(ctx: JobContext) -> None:
        calls[ctx.job_id] += 1
        raise InvalidInputError("recording 9 does not exist")

    queue = make_queue({"test.rejects": rejects})
    queue.start()
    job_id = queue.enqueue("test.rejects", {"recording_id": 9})
    info = wait_finished(queue, job_id)
    assert info.status == "failed" and info.attempts == 1 and calls[job_id] == 1
    assert info.error == "InvalidInputError: recording 9 does not exist"


def _simulate_crashed_worker(store: Store, backdate: Backdate, job_id: str, minutes_ago: float) -> None:
    assert store.claim(job_id, worker="crashed-host/4242") is not None
    backdate(job_id, datetime.now(UTC) - timedelta(minutes=minutes_ago))


def test_job_left_running_by_a_crashed_process_is_done_exactly_once_after_restart(
    store: Store, backdate: Backdate, make_queue: QueueFactory
) -> None:
    runs = Counter[str]()

    def handler(ctx: JobContext) -> dict[str, Any]:
        runs[ctx.job_id] += 1
        return {"ok": True}

    crashed = store.add(kind="test.work", payload={"recording_id": 1}, max_attempts=3).id
    alive = store.add(kind="test.work", payload={"recording_id": 2}, max_attempts=3).id
    _simulate_crashed_worker(store, backdate, crashed, minutes_ago=10)
    _simulate_crashed_worker(store, backdate, alive, minutes_ago=0)  # another process, still working
    left_queued = store.add(kind="test.work", payload={"recording_id": 3}, max_attempts=3).id

    queue = make_queue({"test.work": handler}, stale_after=60.0)
    queue.start()
    assert wait_finished(queue, crashed).status == "done"
    assert wait_finished(queue, left_queued).status == "done"
    time.sleep(0.3)
    assert runs == Counter({crashed: 1, left_queued: 1})
    info = queue.get(crashed)
    assert info.attempts == 2 and info.result == {"ok": True}
    assert queue.get(alive).status == "running"  # a live worker's job is not stolen


def test_interrupted_job_without_attempts_left_fails_with_the_interruption(
    store: Store, backdate: Backdate, make_queue: QueueFactory
) -> None:
    job_id = store.add(kind="test.work", payload={}, max_attempts=1).id
    _simulate_crashed_worker(store, backdate, job_id, minutes_ago=10)
    ran = threading.Event()
    queue = make_queue({"test.work": lambda ctx: ran.set()})
    queue.start()
    info = queue.get(job_id)
    assert info.status == "failed" and info.attempts == 1
    assert info.error is not None and "crashed-host/4242 stopped responding" in info.error
    assert not ran.is_set()


def test_pool_never_runs_more_jobs_at_once_than_configured(make_queue: QueueFactory) -> None:
    lock = threading.Lock()
    running = 0
    peak = 0

    def slow(ctx: JobContext) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.15)
        with lock:
            running -= 1

    queue = make_queue({"test.slow": slow}, workers=2)
    queue.start()
    ids = [queue.enqueue("test.slow", {"n": n}) for n in range(6)]
    assert all(wait_finished(queue, job_id).status == "done" for job_id in ids)
    assert peak == 2


def test_two_queues_on_one_database_run_each_job_once(store: Store, make_queue: QueueFactory) -> None:
    runs = Counter[str]()
    lock = threading.Lock()

    def handler(ctx: JobContext) -> None:
        with lock:
            runs[ctx.job_id] += 1
        time.sleep(0.01)

    ids = [store.add(kind="test.work", payload={"n": n}, max_attempts=3).id for n in range(12)]
    first = make_queue({"test.work": handler}, workers=2)
    second = make_queue({"test.work": handler}, workers=2)
    first.start()
    second.start()
    for job_id in ids:
        assert wait_finished(first, job_id).status == "done"
    assert runs == Counter(dict.fromkeys(ids, 1))


def test_stop_waits_for_the_running_job_and_leaves_the_rest_queued_for_next_start(
    make_queue: QueueFactory,
) -> None:
    gate = threading.Event()
    done: list[int] = []

    def handler(ctx: JobContext) -> None:
        gate.wait(5)
        done.append(int(ctx.payload["n"]))

    queue = make_queue({"test.work": handler}, workers=1)
    queue.start()
    ids = [queue.enqueue("test.work", {"n": n}) for n in range(3)]
    deadline = time.monotonic() + 5
    while queue.get(ids[0]).status != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    stopper = threading.Thread(target=queue.stop, kwargs={"wait": True})
    stopper.start()
    time.sleep(0.5)  # stop() has cancelled what had not started and is waiting for job 0
    assert stopper.is_alive()
    gate.set()
    stopper.join(5)
    assert [queue.get(job_id).status for job_id in ids] == ["done", "queued", "queued"]
    assert done == [0]

    again = make_queue({"test.work": handler}, workers=1)
    again.start()
    assert all(wait_finished(again, job_id).status == "done" for job_id in ids)
    assert sorted(done) == [0, 1, 2]


@pytest.mark.parametrize(
    "payload",
    [
        {"blob": b"\x00\x01"},
        {"row": object()},
        {"nested": {"a": 1}},
        {"score": float("nan")},
        {"ids": [1, {"x": 2}]},
        {"bad key!": 1},
        ["not", "an", "object"],
        {"text": "x" * 20_000},
    ],
)
def test_payloads_that_are_not_plain_json_ids_are_rejected(
    store: Store, make_queue: QueueFactory, payload: Any
) -> None:
    queue = make_queue({SELFTEST_KIND: selftest_handler})
    with pytest.raises(InvalidInputError):
        queue.enqueue(SELFTEST_KIND, payload)
    assert store.list_unfinished() == []


def test_unknown_kind_and_unknown_job_are_clear_errors(make_queue: QueueFactory) -> None:
    queue = make_queue({SELFTEST_KIND: selftest_handler})
    with pytest.raises(InvalidInputError):
        queue.enqueue("qc.does_not_exist", {})
    with pytest.raises(InvalidInputError):
        queue.enqueue("Robert'); DROP TABLE jobs;--", {})
    with pytest.raises(NotFoundError):
        queue.get("00000000-0000-0000-0000-000000000000")


def test_manual_queue_runs_jobs_only_when_asked_with_retries() -> None:
    def flaky(ctx: JobContext) -> dict[str, Any]:
        if ctx.attempt == 1:
            raise OSError("transient")
        return {"text_sha": selftest_handler(ctx)["sha256"]}

    queue = ManualJobQueue({"test.flaky": flaky})
    job_id = queue.enqueue("test.flaky", {"text": "abc"})
    assert queue.get(job_id).status == "queued"
    outcomes = queue.run_pending()
    assert [o.status for o in outcomes] == ["queued", "done"]
    info = queue.get(job_id)
    assert info.status == "done" and info.attempts == 2
    assert info.result == {"text_sha": hashlib.sha256(b"abc").hexdigest()}


def test_queued_jobs_of_kinds_without_a_handler_here_are_left_for_other_processes(
    store: Store, make_queue: QueueFactory
) -> None:
    foreign = store.add(kind="qc.recording", payload={"recording_id": 3}, max_attempts=3).id
    mine = store.add(kind=SELFTEST_KIND, payload={"text": "a"}, max_attempts=3).id
    queue = make_queue({SELFTEST_KIND: selftest_handler})
    queue.start()
    assert wait_finished(queue, mine).status == "done"
    queue.sweep()
    info = queue.get(foreign)
    assert info.status == "queued" and info.attempts == 0


class CountingStore(MemoryJobStore):
    def __init__(self) -> None:
        super().__init__()
        self.progress_writes: list[float] = []

    def set_progress(self, job_id: str, fraction: float, *, worker: str) -> bool:
        self.progress_writes.append(fraction)
        return super().set_progress(job_id, fraction, worker=worker)


def test_progress_is_visible_while_running_and_frequent_reports_are_throttled() -> None:
    store = CountingStore()
    observed = threading.Event()

    def per_frame(ctx: JobContext) -> None:
        ctx.report_progress(0.25)
        observed.wait(5)
        for frame in range(10_000):
            ctx.report_progress(0.25 + 0.75 * frame / 10_000)
        ctx.report_progress(1.0)

    queue = InProcessJobQueue(store, {"test.frames": per_frame}, workers=1)
    queue.start()
    try:
        job_id = queue.enqueue("test.frames", {"recording_id": 1})
        deadline = time.monotonic() + 5
        while queue.get(job_id).progress != 0.25 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert queue.get(job_id).progress == 0.25
        observed.set()
        assert wait_finished(queue, job_id).status == "done"
    finally:
        queue.stop()
    assert store.progress_writes[0] == 0.25 and store.progress_writes[-1] == 1.0
    assert len(store.progress_writes) <= 4  # not 10,002 database writes


@pytest.mark.parametrize("max_attempts", [0, -1, 21])
def test_attempt_counts_outside_1_to_20_are_refused(make_queue: QueueFactory, max_attempts: int) -> None:
    queue = make_queue({SELFTEST_KIND: selftest_handler})
    with pytest.raises(InvalidInputError):
        queue.enqueue(SELFTEST_KIND, {"text": "x"}, max_attempts=max_attempts)
