"""``check_job_backend`` (used by ``dualrec doctor``) runs a real selftest job and verifies it."""

from __future__ import annotations

from pathlib import Path

from dualrec.bootstrap.jobs import check_job_backend
from dualrec.db.engine import make_engine
from dualrec.db.job_store import SqlJobStore
from dualrec.db.migrate import upgrade
from dualrec.settings import Settings


def test_inprocess_backend_check_runs_a_selftest_and_leaves_other_jobs_alone(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        store = SqlJobStore(engine)
        server_job = store.add(kind="qc.recording", payload={"recording_id": 5}, max_attempts=3)
        report = check_job_backend(settings, engine=engine, timeout=10)
        assert report.ok, report.detail
        assert report.detail.startswith("inprocess: selftest done by ")
        assert 0 < report.seconds < 10
        untouched = store.get(server_job.id)
        assert untouched is not None and untouched.status == "queued" and untouched.attempts == 0
    finally:
        engine.dispose()
