"""The customer's handwritten signature stamped into a PDF.

The signature arrives as the PNG a canvas exports (transparent or white background). It is checked
(a real PNG of sane size with enough ink), trimmed to its strokes, and drawn with a one-line caption
(signer, time) inside the placement box on one page: an overlay page is built with fpdf2 and merged
onto that page with pypdf, so the page's own content is kept as it was.

Placement coordinates are PDF points (1/72 inch) on the page as it is displayed — its crop box,
after its /Rotate — measured from the bottom-left corner (PDF's convention, the default) or from
the top-left corner (``origin="top-left"``, like the rendered image). The box holds the signature
and, in its bottom ``CAPTION_PT`` points, the caption.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.services.pdf.layout import CJK_FONT, cjk_font
from dualrec.services.pdf.pages import inspect_pdf

__all__ = [
    "CAPTION_PT",
    "MIN_INK_PIXELS",
    "Origin",
    "SignaturePlacement",
    "sign_pdf_with_image",
    "signature_ink",
]

Origin = Literal["bottom-left", "top-left"]
MIN_INK_PIXELS = 200  # fewer dark, opaque pixels than this: a blank canvas or an accidental tap
MAX_SIGNATURE_BYTES = 5 * 1024 * 1024
MAX_SIGNATURE_SIDE = 4096
CAPTION_PT = 10.0
MIN_BOX_PT = (40.0, 24.0)
DEFAULT_BOX_PT = (170.0, 80.0)
DEFAULT_MARGIN_PT = 36.0  # half an inch from the right and bottom edges
_PX_PER_PT = 4  # resolution of the stamped image: 288 dpi


@dataclass(frozen=True)
class SignaturePlacement:
    page: int = -1  # 0-based; negative counts from the end (-1: the last page)
    x: float | None = None  # None (with y): the default box in the bottom-right corner
    y: float | None = None
    width: float = DEFAULT_BOX_PT[0]
    height: float = DEFAULT_BOX_PT[1]
    origin: Origin = "bottom-left"

    @classmethod
    def from_dict(cls, raw: object) -> SignaturePlacement:
        """From a task document's ``sign`` object; every key is optional."""
        if raw is True or raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise InvalidInputError(msg("pdf.sign_must_object"))
        unknown = set(raw) - {"page", "x", "y", "width", "height", "origin"}
        if unknown:
            raise InvalidInputError(msg("pdf.unknown_sign_fields", sorted_unknown=sorted(unknown)))
        values: dict[str, Any] = {}
        if "page" in raw:
            if not isinstance(raw["page"], int) or isinstance(raw["page"], bool):
                raise InvalidInputError(msg("pdf.sign_page_must_integer"))
            values["page"] = raw["page"]
        for key in ("x", "y", "width", "height"):
            value = raw.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidInputError(msg("pdf.sign_must_number_points", key=key))
            values[key] = float(value)
        if ("x" in values) != ("y" in values):
            raise InvalidInputError(msg("pdf.give_both_sign_x_sign"))
        origin = raw.get("origin", "bottom-left")
        if origin not in ("bottom-left", "top-left"):
            raise InvalidInputError(msg("pdf.invalid_sign_origin"))
        return cls(**values, origin=origin)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def resolve(self, sizes: tuple[tuple[float, float], ...]) -> tuple[int, float, float, float, float]:
        """(page index, x, y from the bottom, width, height) checked against the page sizes."""
        index = self.page + len(sizes) if self.page < 0 else self.page
        if not 0 <= index < len(sizes):
            raise InvalidInputError(
                msg("pdf.signature_page_out_range", len_sizes=len(sizes), page=self.page),
                details={"page": self.page, "pages": len(sizes)},
            )
        page_w, page_h = sizes[index]
        w, h = self.width, self.height
        if w < MIN_BOX_PT[0] or h < MIN_BOX_PT[1]:
            raise InvalidInputError(
                msg("pdf.signature_box_too_small", value=MIN_BOX_PT[0], value2=MIN_BOX_PT[1]),
                details={"width": w, "height": h},
            )
        if self.x is None or self.y is None:
            x, y = page_w - w - DEFAULT_MARGIN_PT, DEFAULT_MARGIN_PT
        else:
            x, y = self.x, (page_h - self.y - h if self.origin == "top-left" else self.y)
        eps = 0.01
        if x < -eps or y < -eps or x + w > page_w + eps or y + h > page_h + eps:
            raise InvalidInputError(
                msg("pdf.signature_box_lies_outside_page", page_w=page_w, page_h=page_h),
                details={"box": [x, y, w, h], "page_size": [page_w, page_h], "page": index},
            )
        return index, x, y, w, h


def signature_ink(png: bytes) -> Any:
    """The signature as an RGBA image trimmed to its strokes; InvalidInputError if it is not a
    PNG, is too large, or is blank (fewer than ``MIN_INK_PIXELS`` dark opaque pixels)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if len(png) > MAX_SIGNATURE_BYTES:
        raise InvalidInputError(msg("pdf.signature_image_too_large"), details={"limit": MAX_SIGNATURE_BYTES})
    try:
        with Image.open(io.BytesIO(png)) as img:
            if img.format != "PNG":
                raise InvalidInputError(msg("pdf.signature_must_png_image"))
            if max(img.size) > MAX_SIGNATURE_SIDE or min(img.size) < 16:
                raise InvalidInputError(
                    msg("pdf.signature_image_size_out_range"), details={"size": list(img.size)}
                )
            rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInputError(msg("pdf.signature_image_cannot_read")) from exc
    luma = rgba[..., 0] * 0.299 + rgba[..., 1] * 0.587 + rgba[..., 2] * 0.114
    # Light pixels (a white canvas background) count as paper: ink weight 1 at luma ≤ 160, 0 at ≥ 235.
    alpha = rgba[..., 3] * np.clip((235.0 - luma) / 75.0, 0.0, 1.0)
    ink = alpha >= 128
    if int(ink.sum()) < MIN_INK_PIXELS:
        raise InvalidInputError(
            msg("pdf.signature_blank_too_short_please"),
            details={"ink_pixels": int(ink.sum()), "min_ink_pixels": MIN_INK_PIXELS},
        )
    rows, cols = np.nonzero(alpha > 0)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    out = rgba[top:bottom, left:right].copy()
    out[..., 3] = alpha[top:bottom, left:right]
    return Image.fromarray(out.round().astype(np.uint8), "RGBA")


def sign_pdf_with_image(
    pdf_bytes: bytes,
    signature_png: bytes,
    placement: SignaturePlacement | None = None,
    *,
    signer_name: str,
    signed_at: datetime,
    font: Path = CJK_FONT,
) -> bytes:
    """The PDF with the signature and its caption stamped on the placement's page."""
    from pypdf import PdfReader, PdfWriter, Transformation

    info = inspect_pdf(pdf_bytes)
    index, x, y, w, h = (placement or SignaturePlacement()).resolve(info.sizes)
    ink = signature_ink(signature_png)
    caption = f"签署人：{signer_name.strip()}  {signed_at.strftime('%Y-%m-%d %H:%M')}"

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    page = writer.pages[index]
    if page.rotation % 360:
        page.transfer_rotation_to_content()  # displayed orientation == content orientation
    box = page.cropbox
    overlay = _overlay(float(box.width), float(box.height), ink, (x, y, w, h), caption, font)
    page.merge_transformed_page(
        PdfReader(io.BytesIO(overlay)).pages[0],
        Transformation().translate(float(box.left), float(box.bottom)),
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _overlay(
    page_w: float,
    page_h: float,
    ink: Any,
    box: tuple[float, float, float, float],
    caption: str,
    font: Path,
) -> bytes:
    """A one-page PDF of the page's size holding one transparent image in the box: the signature
    above, the caption in the bottom CAPTION_PT points. The caption is drawn into the image (at
    _PX_PER_PT) rather than set as PDF text: embedding the CJK font costs over a second per signature."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    x, y, w, h = box
    box_px = (round(w * _PX_PER_PT), round(h * _PX_PER_PT))
    caption_px = round(CAPTION_PT * _PX_PER_PT)
    image = Image.new("RGBA", box_px, (0, 0, 0, 0))
    area_w, area_h = box_px[0], box_px[1] - caption_px
    scale = min(area_w / ink.width, area_h / ink.height)
    size = (max(1, round(ink.width * scale)), max(1, round(ink.height * scale)))
    image.alpha_composite(
        ink.resize(size, Image.Resampling.LANCZOS), ((area_w - size[0]) // 2, (area_h - size[1]) // 2)
    )
    text_px = round(7 * _PX_PER_PT)
    fnt = cjk_font(str(font), text_px)
    while text_px > 4 * _PX_PER_PT and fnt.getlength(caption) > area_w:
        text_px -= 2
        fnt = cjk_font(str(font), text_px)
    mask = Image.new("L", (area_w, caption_px), 0)
    ImageDraw.Draw(mask).text((area_w / 2, caption_px / 2), caption, font=fnt, fill=255, anchor="mm")
    grey = Image.new("RGBA", mask.size, (60, 60, 60, 0))
    grey.putalpha(mask)
    image.alpha_composite(grey, (0, area_h))
    pdf = FPDF(unit="pt", format=(page_w, page_h))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_page()
    pdf.image(image, x=x, y=page_h - y - h, w=w, h=h)  # fpdf2 measures from the top-left corner
    return bytes(pdf.output())
