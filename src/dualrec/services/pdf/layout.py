"""What every generated PDF shares: the CJK font and the grid of labelled images (fpdf2)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from dualrec.errors import ConfigurationError
from dualrec.i18n import msg

__all__ = ["CJK_FONT", "cjk_font", "image_grid", "require_font"]

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def require_font(font: Path = CJK_FONT) -> Path:
    """The font file, or a clear error naming the package that provides it."""
    if not font.is_file():
        raise ConfigurationError(msg("pdf.cjk_font_found_apt_get", font=font))
    return font


@lru_cache(maxsize=8)
def cjk_font(path: str, size: int) -> Any:
    """The font for Pillow (page images, the signature caption), loaded once per path and size."""
    from PIL import ImageFont

    return ImageFont.truetype(str(require_font(Path(path))), size)


def image_grid(
    pdf: Any,
    images: Sequence[tuple[str, bytes]],
    *,
    left: float,
    bottom_margin: float,
    label_size: float,
    label_chars: int,
) -> None:
    """Labelled JPEGs three per row (56 × 36 mm), a new page when a row would not fit.

    ``pdf`` is an FPDF with the font ``cjk`` added; the cursor ends below the last row."""
    w, h, per_row = 56.0, 36.0, 3
    y = pdf.get_y()
    for i, (label, data) in enumerate(images):
        if i % per_row == 0:
            if pdf.get_y() + h + 8 > pdf.h - bottom_margin:
                pdf.add_page()
            y = pdf.get_y()
        x = left + (i % per_row) * (w + 6)
        pdf.image(io.BytesIO(data), x=x, y=y, w=w, h=h, keep_aspect_ratio=True)
        pdf.set_font("cjk", size=label_size)
        pdf.text(x, y + h + 3.5, label[:label_chars])
        if i % per_row == per_row - 1 or i == len(images) - 1:
            pdf.set_y(y + h + 6)
