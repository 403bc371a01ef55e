"""The whole API fuzzed from its own OpenAPI document (schemathesis) against a real server on
loopback, logged in as the administrator: no request may get a 5xx answer.

A fixed seed and a time budget keep it repeatable and bounded: ``FUZZ_SECONDS`` (default 60 in
the suite; ``make fuzz`` gives it 600) and ``FUZZ_EXAMPLES`` (examples per operation, default 25).
Logging out and changing the own password are left out: they would end the fuzzer's session and
leave the rest of the run testing only the 401 path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, CSRF, running_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with running_server(tmp_path_factory.mktemp("fuzz-data")) as server:
        yield server


def test_no_operation_answers_a_server_error(api: tuple[str, Path], tmp_path: Path) -> None:
    base_url, log = api
    login = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        headers=CSRF,
        timeout=30,
    )
    assert login.status_code == 200, login.text
    cookie = "; ".join(f"{name}={value}" for name, value in login.cookies.items())
    seconds = os.environ.get("FUZZ_SECONDS", "60")
    report = tmp_path / "fuzz.json"
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{base_url}/api/v1/openapi.json",
        "--checks",
        "not_a_server_error",
        "--seed",
        "20261205",
        "--max-examples",
        os.environ.get("FUZZ_EXAMPLES", "25"),
        "--max-time",
        seconds,
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--exclude-path-regex",
        "/auth/(logout|password)$",
        "--header",
        f"Cookie: {cookie}",
        "--header",
        f"X-Requested-With: {CSRF['X-Requested-With']}",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=int(seconds) + 600, check=False)
    out = done.stdout[-6000:] + done.stderr[-2000:] + "\n--- server log ---\n" + log.read_text()[-4000:]
    assert report.is_file(), out
    run = json.loads(report.read_text())
    assert run["operations"]["tested"] >= 100, out  # the schema loaded and nearly every operation ran
    # 60 s gave 1 897 cases on a quiet 2-core VM; the floor leaves room for a loaded CI machine
    assert run["test_cases"]["generated"] >= 800, out
    found = json.dumps({"failures": run["failures"], "errors": run["errors"]}, ensure_ascii=False)[:6000]
    assert run["failures"] == [] and run["errors"] == [], found + "\n" + out
    assert done.returncode == 0, out
