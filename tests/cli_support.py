"""Running the ``dualrec`` command line of this venv as an operator would, against one data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FAST_PASSWORD_HASH_ENV

DUALREC = str(Path(sys.executable).with_name("dualrec"))


def run_cli(
    args: list[str], data_dir: Path, input_text: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``dualrec ARGS`` with only this test's DUALREC_* settings (the caller's are dropped)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DUALREC_")}
    full_env.update(
        {"DUALREC_DATA_DIR": str(data_dir), "DUALREC_ENV": "test", **FAST_PASSWORD_HASH_ENV, **env}
    )
    return subprocess.run(
        [DUALREC, *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=input_text,
        timeout=120,
        check=False,
    )
