"""PDF pages for the customer's page: checking a PDF, and rendering one page to an image with a
transparent watermark (customer name, business number, time) tiled diagonally across it.

The H5 page shows plain images, so no PDF viewer runs in the phone's browser. Rendering is done by
PDFium (pypdfium2), which is not thread-safe: every PDFium call holds one lock; the watermark is
drawn with Pillow outside it. The output depends only on the inputs (same PDF, page, width,
watermark and format → the same bytes), so callers may cache images under ``page_image_key``.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.services.pdf.layout import CJK_FONT, cjk_font

__all__ = [
    "MAX_PAGES",
    "ImageFormat",
    "PdfInfo",
    "Watermark",
    "inspect_pdf",
    "page_count",
    "page_image_key",
    "render_page",
]

ImageFormat = Literal["png", "jpeg"]
MAX_PAGES = 300
MIN_WIDTH_PX, MAX_WIDTH_PX = 160, 2400
MAX_PIXELS = 12_000_000  # one rendered page (a 2400 px wide A4 page is ~8.1 M)
_RENDER_VERSION = "1"  # bump when the drawing changes, so cached images are not reused
_PDFIUM = threading.Lock()
_ANGLE = 30.0  # degrees, counter-clockwise


@dataclass(frozen=True)
class PdfInfo:
    pages: int
    sizes: tuple[tuple[float, float], ...]  # (width, height) in points of each page as displayed


@dataclass(frozen=True)
class Watermark:
    customer_name: str
    business_no: str
    time: datetime | str  # a datetime is written as YYYY-MM-DD HH:MM in its own time zone
    opacity: int = 60  # 0-255: how strongly the grey text covers the page

    def lines(self) -> tuple[str, str]:
        when = self.time.strftime("%Y-%m-%d %H:%M") if isinstance(self.time, datetime) else self.time
        return (f"{self.customer_name.strip()}  {self.business_no.strip()}", when.strip())


def _broken(reason: str) -> InvalidInputError:
    return InvalidInputError(msg("pdf.pdf_cannot_read", reason=reason))


def inspect_pdf(data: bytes) -> PdfInfo:
    """Check that ``data`` is a readable, unencrypted PDF with 1..MAX_PAGES pages."""
    if b"%PDF-" not in data[:1024]:
        raise InvalidInputError(msg("pdf.pdf_file_pdf_header"))
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        pages = -1 if encrypted else len(reader.pages)
    except Exception as exc:  # any parser failure on untrusted bytes means "damaged"
        raise _broken(type(exc).__name__) from exc
    if encrypted:
        raise InvalidInputError(msg("pdf.pdf_encrypted_send_unencrypted_pdf"))
    if pages == 0:
        raise InvalidInputError(msg("pdf.pdf_pages"))
    if pages > MAX_PAGES:
        raise InvalidInputError(
            msg("pdf.too_many_pages_most", pages=pages, MAX_PAGES=MAX_PAGES),
            details={"pages": pages, "limit": MAX_PAGES},
        )
    sizes = _sizes(data)
    if len(sizes) != pages:  # the two parsers disagree: the file structure is damaged
        raise _broken(f"page count {len(sizes)} != {pages}")
    return PdfInfo(pages, sizes)


def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise _broken(str(exc)) from exc


def _sizes(data: bytes) -> tuple[tuple[float, float], ...]:
    with _PDFIUM:
        doc = _open(data)
        try:
            out = []
            for i in range(len(doc)):
                page = doc[i]
                w, h = page.get_size()
                page.close()
                out.append((float(w), float(h)))
            return tuple(out)
        finally:
            doc.close()


def page_count(data: bytes) -> int:
    with _PDFIUM:
        doc = _open(data)
        try:
            return len(doc)
        finally:
            doc.close()


def page_image_key(
    pdf_sha256: str, page_index: int, *, width_px: int, watermark: Watermark | None, fmt: ImageFormat = "jpeg"
) -> str:
    """A cache key for ``render_page``'s output: equal keys, equal images."""
    mark = "|".join((*watermark.lines(), str(watermark.opacity))) if watermark else "-"
    raw = "\n".join((_RENDER_VERSION, pdf_sha256, str(page_index), str(width_px), fmt, mark))
    return hashlib.sha256(raw.encode()).hexdigest()


def render_page(
    data: bytes,
    page_index: int,
    *,
    width_px: int,
    watermark: Watermark | None,
    fmt: ImageFormat = "jpeg",
    jpeg_quality: int = 85,
    font: Path = CJK_FONT,
) -> bytes:
    """Page ``page_index`` (0-based) as an image ``width_px`` wide on white. JPEG by default: a
    text page is 2-3 times smaller than as PNG (measured in docs/documents.md) and reads as well."""
    from PIL import Image

    if not MIN_WIDTH_PX <= width_px <= MAX_WIDTH_PX:
        raise InvalidInputError(
            msg("pdf.width_must_px", MIN_WIDTH_PX=MIN_WIDTH_PX, MAX_WIDTH_PX=MAX_WIDTH_PX),
            details={"width_px": width_px},
        )
    with _PDFIUM:
        doc = _open(data)
        try:
            if not 0 <= page_index < len(doc):
                raise InvalidInputError(
                    msg("pdf.page_out_range_0", page_index=page_index, value=len(doc) - 1),
                    details={"page": page_index, "pages": len(doc)},
                )
            page = doc[page_index]
            try:
                w, h = page.get_size()
                height_px = max(1, round(h * width_px / w))
                if width_px * height_px > MAX_PIXELS:
                    raise InvalidInputError(
                        msg("pdf.page_too_tall_render_width"),
                        details={"width_px": width_px, "height_px": height_px},
                    )
                bitmap = page.render(scale=width_px / w)
                image = bitmap.to_pil().convert("RGB")
                bitmap.close()
            finally:
                page.close()
        finally:
            doc.close()
    if image.size != (width_px, height_px):  # PDFium rounds the bitmap size up
        image = image.resize((width_px, height_px), Image.Resampling.LANCZOS)
    if watermark is not None:
        image = _watermarked(image, watermark, font)
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=jpeg_quality)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def _watermarked(page: Any, mark: Watermark, font_path: Path) -> Any:
    from PIL import Image

    alpha = _watermark_alpha(page.size, mark.lines(), mark.opacity, str(font_path))
    return Image.composite(Image.new("RGB", page.size, (128, 128, 128)), page, alpha)


@lru_cache(maxsize=4)  # the pages of one document share their size: the mask is made once
def _watermark_alpha(size: tuple[int, int], lines: tuple[str, ...], opacity: int, font_path: str) -> Any:
    """The watermark's alpha: the text block drawn once, pasted on a staggered grid, the grid
    turned by _ANGLE and cropped to the page."""
    from PIL import Image, ImageDraw

    width, height = size
    px = max(12, width // 28)
    font = cjk_font(font_path, px)
    text, spacing = "\n".join(lines), px // 3
    box = ImageDraw.Draw(Image.new("L", (1, 1))).multiline_textbbox((0, 0), text, font=font, spacing=spacing)
    right, bottom = math.ceil(box[2]), math.ceil(box[3])
    tile = Image.new("L", (right, bottom), 0)
    ImageDraw.Draw(tile).multiline_text((0, 0), text, font=font, fill=255, spacing=spacing)
    diag = math.ceil(math.hypot(width, height))
    grid = Image.new("L", (diag, diag), 0)
    step_x, step_y = right + px * 4, bottom + px * 3
    for row, y in enumerate(range(0, diag, step_y)):
        shift = (step_x // 2) * (row % 2)  # stagger the rows
        for x in range(-shift, diag, step_x):
            grid.paste(tile, (x, y))
    grid = grid.rotate(_ANGLE, resample=Image.Resampling.BICUBIC)
    x0, y0 = (diag - width) // 2, (diag - height) // 2
    return grid.crop((x0, y0, x0 + width, y0 + height)).point([v * opacity // 255 for v in range(256)])
