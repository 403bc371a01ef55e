"""`make bench`: runs every benchmark script in this folder, one process each, and prints its output.

Benchmarks print ratios against a baseline measured in the same run (e.g. QC time ÷ plain FFmpeg
decode time of the same file); nothing here is asserted by the test suite.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name not in ("run.py", "__init__.py") and not p.name.startswith("_")
    )
    if len(sys.argv) > 1:
        scripts = [p for p in scripts if p.stem in sys.argv[1:]]
    failed = 0
    for script in scripts:
        print(f"=== bench/{script.name}", flush=True)
        started = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"=== bench/{script.name}: exit {rc} after {time.perf_counter() - started:.1f} s\n", flush=True)
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
