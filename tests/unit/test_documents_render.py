"""Document pages as images for the customer's phone, with the transparent watermark."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from PIL import Image

from dualrec.errors import InvalidInputError
from dualrec.services.pdf.pages import Watermark, inspect_pdf, page_count, page_image_key, render_page
from tests.document_factory import make_pdf, transformed

PDF = make_pdf(3)
CST = timezone(timedelta(hours=8))
MARK = Watermark("张三", "YW-2025-000123", datetime(2025, 3, 1, 10, 20, tzinfo=CST))


def _render(page: int, width: int, mark: Watermark | None) -> bytes:
    return render_page(PDF, page, width_px=width, watermark=mark, fmt="png")  # lossless: exact pixels


def _grey(image: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(image)) as img:
        return np.asarray(img.convert("L"), dtype=np.int16)


def test_page_count_and_sizes() -> None:
    assert page_count(PDF) == 3
    info = inspect_pdf(transformed(PDF, rotate={1: 90}))
    assert info.pages == 3
    assert info.sizes[0] == pytest.approx((595.28, 841.89), abs=0.01)
    assert info.sizes[1] == pytest.approx((841.89, 595.28), abs=0.01)  # as displayed


def test_page_two_is_rendered_at_the_requested_width() -> None:
    png = _render(1, 720, None)
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG"
        assert img.size == (720, round(841.89 * 720 / 595.28))
    # it is page 2, not page 1: the pages differ only in their heading
    assert not np.array_equal(_grey(png), _grey(_render(0, 720, None)))


def test_the_watermark_is_light_and_leaves_the_text_readable() -> None:
    plain = _grey(_render(1, 720, None))
    marked = _grey(_render(1, 720, MARK))
    assert plain.shape == marked.shape
    changed = np.abs(marked - plain) > 8
    assert changed.mean() > 0.03  # tiled over the whole page, not a corner stamp
    # it covers the page from top to bottom and left to right
    h, w = changed.shape
    for rows in (slice(0, h // 3), slice(h // 3, 2 * h // 3), slice(2 * h // 3, h)):
        for cols in (slice(0, w // 2), slice(w // 2, w)):
            assert changed[rows, cols].mean() > 0.01
    # transparent: paper under the watermark stays light grey, never dark
    paper = plain > 240
    assert marked[paper].min() > 180
    # the page's own text (dark pixels) stays dark under the watermark
    ink = plain < 60
    assert ink.sum() > 1000
    assert marked[ink].max() < 90


def test_the_watermark_names_the_customer_business_and_time() -> None:
    assert MARK.lines() == ("张三  YW-2025-000123", "2025-03-01 10:20")
    other = Watermark("李四", "YW-2025-000123", datetime(2025, 3, 1, 10, 20, tzinfo=CST))
    assert render_page(PDF, 0, width_px=480, watermark=MARK) != render_page(
        PDF, 0, width_px=480, watermark=other
    )


def test_rendering_is_deterministic_and_keyed_for_caching() -> None:
    for fmt in ("png", "jpeg"):
        a = render_page(PDF, 2, width_px=480, watermark=MARK, fmt=fmt)
        assert a == render_page(PDF, 2, width_px=480, watermark=MARK, fmt=fmt)
    key = page_image_key("ab" * 32, 2, width_px=480, watermark=MARK)
    assert key == page_image_key("ab" * 32, 2, width_px=480, watermark=MARK)
    others = {
        page_image_key("cd" * 32, 2, width_px=480, watermark=MARK),
        page_image_key("ab" * 32, 1, width_px=480, watermark=MARK),
        page_image_key("ab" * 32, 2, width_px=481, watermark=MARK),
        page_image_key("ab" * 32, 2, width_px=480, watermark=None),
        page_image_key("ab" * 32, 2, width_px=480, watermark=MARK, fmt="png"),
        page_image_key("ab" * 32, 2, width_px=480, watermark=Watermark("张三", "YW-2", MARK.time)),
    }
    assert key not in others and len(others) == 6


def test_jpeg_output() -> None:
    jpeg = render_page(PDF, 0, width_px=360, watermark=MARK)  # the default format
    with Image.open(io.BytesIO(jpeg)) as img:
        assert (img.format, img.size) == ("JPEG", (360, round(841.89 * 360 / 595.28)))


def test_a_rotated_page_is_shown_as_displayed() -> None:
    png = render_page(transformed(PDF, rotate={0: 90}), 0, width_px=600, watermark=None)
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (600, round(595.28 * 600 / 841.89))  # landscape


@pytest.mark.parametrize(
    ("page", "width", "message"),
    [(3, 480, "页码超出范围"), (-1, 480, "页码超出范围"), (0, 100, "图像宽度"), (0, 5000, "图像宽度")],
)
def test_bad_render_requests(page: int, width: int, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        render_page(PDF, page, width_px=width, watermark=None)


def test_a_very_tall_page_is_refused_instead_of_eating_memory() -> None:
    tall = make_pdf(1, size=(100, 14000), lines=1)
    with pytest.raises(InvalidInputError, match="页面过长"):
        render_page(tall, 0, width_px=2400, watermark=None)


def test_broken_bytes_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="PDF 文件无法读取"):
        render_page(b"%PDF-1.7\n" + bytes(500), 0, width_px=480, watermark=None)
