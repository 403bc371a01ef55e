"""Litigation report and evidence package through the API, on a recording QC'd by the fake engines
(16 evidence frames): time to render + sign (twice, see docs/litigation.md) + audit one report, signing
alone against rendering alone, and the evidence package download. Prints medians of 5 runs."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package (fixtures)

from tests.conftest import ADMIN_PASSWORD, login
from tests.litigation_fixtures import fake_server, upload_done


def median_seconds(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    from dualrec.bootstrap.litigation import pdf_signer

    with tempfile.TemporaryDirectory() as tmp, fake_server(Path(tmp) / "data") as (client, container):
        login(client, "admin", ADMIN_PASSWORD)
        rid = upload_done(client, "BENCH-LIT")
        report = client.get(f"/api/v1/recordings/{rid}/litigation.pdf")  # warm up: certificate, imports
        total = median_seconds(lambda: client.get(f"/api/v1/recordings/{rid}/litigation.pdf"))
        unsigned = client.get(f"/api/v1/recordings/{rid}/report.pdf").content
        signer = pdf_signer(container.settings)
        sign = median_seconds(lambda: signer.sign(unsigned, reason="bench"))
        package = median_seconds(lambda: client.get(f"/api/v1/recordings/{rid}/evidence-package.zip"))
    print(f"litigation report ({len(report.content)} bytes): {total:.2f} s median over 5")
    share = f"{sign / total:.0%} of the report"
    print(f"signing alone, a {len(unsigned)}-byte PDF (two passes): {sign:.2f} s ({share})")
    print(f"evidence package download: {package:.2f} s median over 5")


if __name__ == "__main__":
    main()
