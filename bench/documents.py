"""Task documents and server speech: what the customer's page waits for.

A 10-page CJK PDF (30 lines a page) made with fpdf2. Prints, as medians:
page images at 720 and 1080 px (JPEG and PNG) with the watermark as a ratio to the same render
without it; the first watermarked page of a session (its mask is built once per page size and
text); signing as a ratio to a plain pypdf read + write of the same PDF; Word → PDF with LibreOffice
when installed; espeak-ng speech for one sentence, missed and from the cache.
Runnable alone: ``python bench/documents.py``.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.document_factory

from pypdf import PdfReader, PdfWriter
from tests.document_factory import make_docx, make_pdf, signature_png

from dualrec.media.models.espeak_tts import EspeakSynthesizer
from dualrec.services.pdf import pages as pdf_pages
from dualrec.services.pdf.office_convert import OfficeConverter
from dualrec.services.pdf.pages import Watermark, render_page
from dualrec.services.pdf.signature_stamp import sign_pdf_with_image
from dualrec.services.sessions.speech import SpeechAudioCache

MARK = Watermark("张三", "YW-2025-000123", datetime(2025, 3, 1, 2, 20, tzinfo=UTC))


def median_ms(fn: Callable[[], Any], n: int = 7) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(n):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, out


def plain_copy(pdf: bytes) -> bytes:
    out = io.BytesIO()
    PdfWriter(clone_from=PdfReader(io.BytesIO(pdf))).write(out)
    return out.getvalue()


def main() -> None:
    pdf = make_pdf(10, lines=30)
    for width in (720, 1080):
        for fmt in ("jpeg", "png"):
            base, _ = median_ms(partial(render_page, pdf, 4, width_px=width, watermark=None, fmt=fmt))
            marked, img = median_ms(partial(render_page, pdf, 4, width_px=width, watermark=MARK, fmt=fmt))
            print(
                f"page {width} px {fmt:4}: {marked:5.0f} ms with watermark = {marked / base:4.2f}x without "
                f"({base:.0f} ms); {len(img) / 1024:.0f} KiB"
            )
    pdf_pages._watermark_alpha.cache_clear()
    first, _ = median_ms(lambda: render_page(pdf, 4, width_px=1080, watermark=MARK), n=1)
    print(f"first watermarked 1080 px page of a session (mask built): {first:.0f} ms")
    sig = signature_png()
    copy, _ = median_ms(lambda: plain_copy(pdf), n=5)
    sign, _ = median_ms(
        lambda: sign_pdf_with_image(pdf, sig, None, signer_name="张三", signed_at=datetime.now(UTC)), n=5
    )
    print(f"sign 10-page PDF: {sign:.0f} ms = {sign / copy:.2f}x a plain pypdf read + write ({copy:.0f} ms)")
    if OfficeConverter().available:
        conv, _ = median_ms(lambda: OfficeConverter().to_pdf(make_docx(["一", "二"]), "docx"), n=3)
        print(f"docx -> PDF with LibreOffice (cold start each time): {conv:.0f} ms")
    else:
        print("docx -> PDF: LibreOffice not installed, skipped")
    text = "您好，请确认您已阅读并理解本产品的风险揭示书。"
    with tempfile.TemporaryDirectory() as tmp:
        cache = SpeechAudioCache(EspeakSynthesizer(), Path(tmp))
        miss, (wav, _) = median_ms(lambda: cache.audio_for(text), n=1)
        hit, _ = median_ms(lambda: SpeechAudioCache(EspeakSynthesizer(), Path(tmp)).audio_for(text))
        print(
            f"speech, one sentence: synthesised {miss:.0f} ms ({len(wav) / 1024:.0f} KiB WAV); "
            f"from disk {hit:.1f} ms = {miss / hit:.0f}x faster"
        )


if __name__ == "__main__":
    main()
