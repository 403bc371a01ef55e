"""Importing the job and storage packages (and the worker command) must not load Celery."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "dualrec.jobs",
    "dualrec.jobs.inprocess",
    "dualrec.jobs.celery_app",
    "dualrec.storage",
    "dualrec.bootstrap.jobs",
    "dualrec.cli.worker",
]


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_without_loading_celery(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'celery', 'kombu', 'redis'})\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} loaded {out.stdout.strip()}"
