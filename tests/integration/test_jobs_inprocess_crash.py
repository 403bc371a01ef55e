"""A server process killed (SIGKILL) in the middle of a job: the next process finishes it, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dualrec.db.engine import make_engine
from dualrec.db.job_store import SqlJobStore
from dualrec.db.migrate import upgrade
from dualrec.jobs import JobContext
from dualrec.jobs.inprocess import InProcessJobQueue

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from dualrec.db.engine import make_engine
    from dualrec.db.job_store import SqlJobStore
    from dualrec.jobs.inprocess import InProcessJobQueue

    url, marker = sys.argv[1], Path(sys.argv[2])

    def slow(ctx):
        ctx.report_progress(0.3)
        marker.write_text(ctx.job_id)
        time.sleep(120)  # killed long before this ends
        return {"finished_by": "first process"}

    queue = InProcessJobQueue(
        SqlJobStore(make_engine(url)), {"test.slow": slow}, workers=1, heartbeat_interval=0.2,
        stale_after=1.0,
    )
    queue.start()
    queue.enqueue("test.slow", {"recording_id": 42})
    time.sleep(120)
    """
)


def test_job_of_a_killed_process_is_finished_by_the_next_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    marker = tmp_path / "started"
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(marker)])
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            assert child.poll() is None, "the first process died on its own"
            time.sleep(0.05)
        assert marker.exists(), "the first process never started the job"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    job_id = marker.read_text()

    engine = make_engine(url)
    store = SqlJobStore(engine)
    killed = store.get(job_id)
    assert killed is not None and killed.status == "running" and killed.attempts == 1
    assert killed.progress == 0.3
    runs: list[int] = []

    def quick(ctx: JobContext) -> dict[str, str]:
        runs.append(ctx.attempt)
        return {"finished_by": f"process {os.getpid()}"}

    queue = InProcessJobQueue(
        store, {"test.slow": quick}, workers=1, heartbeat_interval=0.2, stale_after=1.0, sweep_interval=0.3
    )
    queue.start()
    try:
        deadline = time.monotonic() + 20
        while not queue.get(job_id).finished and time.monotonic() < deadline:
            time.sleep(0.05)
        info = queue.get(job_id)
    finally:
        queue.stop()
        engine.dispose()
    assert info.status == "done" and info.attempts == 2 and runs == [2]
    assert info.result == {"finished_by": f"process {os.getpid()}"}
