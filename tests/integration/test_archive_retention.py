"""The daily retention reminder (thread in serve/worker, CLI for cron): lists what expires soon,
notifies once a day per branch, deletes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dualrec.bootstrap.container import Container, build_container
from dualrec.bootstrap.retention import RetentionReminder
from dualrec.services.identity.seed import seed_demo
from tests.archive_fixtures import add_recording
from tests.conftest import ADMIN_PASSWORD, make_settings

DUALREC = str(Path(sys.executable).with_name("dualrec"))


def _cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALREC_")}
    env.update({"DUALREC_DATA_DIR": str(data_dir), "DUALREC_ENV": "test"})
    return subprocess.run([DUALREC, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.mark.slow
def test_cli_lists_expiring_entries_and_notifies_once_a_day(tmp_path: Path) -> None:
    data = tmp_path / "data"
    c = build_container(make_settings(data), migrate=True, with_jobs=False)
    try:
        seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        old = add_recording(
            c,
            branch_code="BJ",
            created_at=datetime.now(UTC) - timedelta(days=365 * 30 - 20),
            inputs_task={"customer_name": "王五", "business_type": "other"},
        )
        add_recording(c, branch_code="SH")  # 30 years ahead: not listed
    finally:
        c.close()
    first = _cli(["archive", "expiring", "--days", "30", "--notify", "--json"], data)
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert [r["recording_id"] for r in rows] == [old] and rows[0]["branch"] == "北京分行"
    assert rows[0]["retention_code"] == "D30" and "new notices: 1" in first.stderr
    assert "王五" not in first.stdout  # no personal data on the console
    second = _cli(["archive", "expiring", "--days", "30", "--notify"], data)
    assert second.returncode == 0 and old in second.stdout and "new notices: 0" in second.stderr
    none = _cli(["archive", "expiring", "--days", "5"], data)
    assert none.returncode == 0 and none.stdout == ""


def test_the_reminder_thread_runs_with_the_server(container: Container) -> None:
    add_recording(container, created_at=datetime.now(UTC) - timedelta(days=365 * 30 - 3))
    assert isinstance(container.reminder, RetentionReminder)
    container.start()  # what `dualrec serve` does (the conftest container is not started)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with container.uows() as uow:
            notices = uow.archive.notices(branch_ids=None, limit=10)
        if notices:
            break
        time.sleep(0.2)
    assert len(notices) == 1 and notices[0].payload["count"] == 1
    run = container.reminder.run_once()  # a second process / a later check the same day
    assert run is not None and run.notices_added == 0
    with container.uows() as uow:
        assert uow.recordings.get(notices[0].payload["recording_ids"][0]) is not None  # nothing deleted
