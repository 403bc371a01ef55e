"""Litigation report and evidence package through the API, on a recording QC'd by the fake engines
(16 evidence frames): time to render + sign (twice, see docs/litigation.md) + audit one report, and
the share of it spent signing — measured on that same report, inside the same requests: the signer
the API uses is wrapped, so every request records how long signing its own (unsigned) litigation
PDF took. The same unsigned document is then signed alone, and the evidence package downloaded.
Prints medians of 5 runs."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package (fixtures)

from tests.conftest import ADMIN_PASSWORD, login
from tests.litigation_fixtures import fake_server, upload_done

RUNS = 5


def median_seconds(fn: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class TimedSigner:
    """The API's PDF signer, timed: what each ``sign`` call got, gave back and took."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.certificate = inner.certificate
        self.tsa_url = inner.tsa_url
        self.calls: list[tuple[bytes, bytes, float]] = []  # (unsigned, signed, seconds)

    def sign(self, pdf: bytes, **kw: Any) -> bytes:
        started = time.perf_counter()
        signed: bytes = self.inner.sign(pdf, **kw)
        self.calls.append((pdf, signed, time.perf_counter() - started))
        return signed


def main() -> None:
    import dualrec.api.routers.litigation as route
    from dualrec.bootstrap.litigation import pdf_signer

    with tempfile.TemporaryDirectory() as tmp, fake_server(Path(tmp) / "data") as (client, container):
        login(client, "admin", ADMIN_PASSWORD)
        rid = upload_done(client, "BENCH-LIT")
        timed = TimedSigner(pdf_signer(container.settings))
        route.pdf_signer = lambda settings: timed  # type: ignore[assignment]  # the route looks it up per request
        url = f"/api/v1/recordings/{rid}/litigation.pdf"
        client.get(url)  # warm up: certificate, imports, fonts
        timed.calls.clear()
        totals, shares = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            response = client.get(url)
            total = time.perf_counter() - started
            assert response.status_code == 200, response.text
            unsigned, signed, seconds = timed.calls[-1]
            assert signed == response.content, "the timed signature is the report the API returned"
            totals.append(total)
            shares.append(seconds / total)
        sign_in_request = statistics.median(c[2] for c in timed.calls)
        unsigned, signed, _ = timed.calls[-1]
        alone = median_seconds(lambda: timed.inner.sign(unsigned, reason="bench"))
        qc_pdf = client.get(f"/api/v1/recordings/{rid}/report.pdf").content
        package = median_seconds(lambda: client.get(f"/api/v1/recordings/{rid}/evidence-package.zip"))
    total = statistics.median(totals)
    print(
        f"litigation report ({len(signed)} bytes signed, {len(unsigned)} unsigned): {total:.2f} s median "
        f"over {RUNS}"
    )
    print(
        f"  signing that report inside the request (two passes): {sign_in_request:.2f} s median, "
        f"{statistics.median(shares):.0%} of the request (median of the per-request shares)"
    )
    print(f"  signing the same unsigned report alone: {alone:.2f} s median over {RUNS}")
    print(f"(the QC report PDF of the same recording, not signed here, is {len(qc_pdf)} bytes)")
    print(f"evidence package download: {package:.2f} s median over {RUNS}")


if __name__ == "__main__":
    main()
