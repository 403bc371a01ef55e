"""The customer's handwritten signature stamped into the PDF: where it was placed and nowhere else."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from dualrec.errors import InvalidInputError
from dualrec.services.pdf.pages import render_page
from dualrec.services.pdf.signature_stamp import (
    CAPTION_PT,
    MIN_INK_PIXELS,
    SignaturePlacement,
    sign_pdf_with_image,
)
from dualrec.services.tasks.documents import read_document, sign_task_document, store_task_document
from dualrec.storage.filesystem import FilesystemBlobStore
from tests.document_factory import encrypted_pdf, make_pdf, signature_png, transformed

CST = timezone(timedelta(hours=8))
WHEN = datetime(2025, 3, 1, 10, 20, tzinfo=CST)
PDF = make_pdf(3)
SIG = signature_png()
WIDTH = 800


def _grey(pdf: bytes, page: int) -> np.ndarray:
    png = render_page(pdf, page, width_px=WIDTH, watermark=None, fmt="png")
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("L"), dtype=np.int16)


def _box_px(page_size: tuple[float, float], x: float, y: float, w: float, h: float) -> tuple[slice, slice]:
    """The box (bottom-left origin, points) as row/column slices of the rendered page."""
    scale = WIDTH / page_size[0]
    top = (page_size[1] - y - h) * scale
    return slice(int(top), int(top + h * scale) + 1), slice(int(x * scale), int((x + w) * scale) + 1)


def _assert_ink_only_in(before: np.ndarray, after: np.ndarray, rows: slice, cols: slice) -> None:
    changed = np.abs(after - before) > 40
    inside = np.zeros_like(changed)
    inside[rows, cols] = True
    assert changed[inside].sum() > 300, "the signature is not in its box"
    grown = np.zeros_like(changed)  # one pixel of slack for anti-aliasing at the box edge
    grown[max(0, rows.start - 2) : rows.stop + 2, max(0, cols.start - 2) : cols.stop + 2] = True
    assert changed[~grown].sum() == 0, "something was drawn outside the box"
    assert (after[inside] < 80).sum() > 200  # dark ink


def test_default_placement_is_the_bottom_right_of_the_last_page() -> None:
    signed = sign_pdf_with_image(PDF, SIG, None, signer_name="张三", signed_at=WHEN)
    reader = PdfReader(io.BytesIO(signed))
    assert len(reader.pages) == 3
    assert len(reader.pages[2].images) == 1 and len(reader.pages[0].images) == 0
    rows, cols = _box_px((595.28, 841.89), 595.28 - 170 - 36, 36, 170, 80)
    before, after = _grey(PDF, 2), _grey(signed, 2)
    _assert_ink_only_in(before, after, rows, cols)
    # the caption (signer, time) in the bottom CAPTION_PT points of the box, the strokes above it
    caption = slice(rows.stop - int(CAPTION_PT * WIDTH / 595.28), rows.stop)
    strokes = slice(rows.start, caption.start)
    assert (np.abs(after - before)[caption, cols] > 40).sum() > 100
    assert (after[strokes, cols] < 80).sum() > 1000
    # a long name: the caption is drawn smaller and still stays inside the box
    long_name = "欧阳娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜"
    longer = _grey(sign_pdf_with_image(PDF, SIG, None, signer_name=long_name, signed_at=WHEN), 2)
    _assert_ink_only_in(before, longer, rows, cols)
    for page in (0, 1):  # the other pages are untouched
        assert np.array_equal(_grey(PDF, page), _grey(signed, page))


def test_a_placement_from_the_top_left_on_a_chosen_page() -> None:
    place = SignaturePlacement(page=0, x=50, y=100, width=200, height=90, origin="top-left")
    signed = sign_pdf_with_image(PDF, SIG, place, signer_name="张三", signed_at=WHEN)
    rows, cols = _box_px((595.28, 841.89), 50, 841.89 - 100 - 90, 200, 90)
    _assert_ink_only_in(_grey(PDF, 0), _grey(signed, 0), rows, cols)
    assert np.array_equal(_grey(PDF, 2), _grey(signed, 2))


def test_a_rotated_page_is_signed_where_it_is_seen() -> None:
    pdf = transformed(PDF, rotate={1: 90})  # shown landscape: 841.89 × 595.28
    place = SignaturePlacement(page=1, x=600, y=40, width=200, height=90)
    signed = sign_pdf_with_image(pdf, SIG, place, signer_name="张三", signed_at=WHEN)
    rows, cols = _box_px((841.89, 595.28), 600, 40, 200, 90)
    _assert_ink_only_in(_grey(pdf, 1), _grey(signed, 1), rows, cols)


def test_a_cropped_page_measures_from_its_crop_box() -> None:
    pdf = transformed(PDF, crop={2: (50, 100, 545.28, 741.89)})  # shown as 495.28 × 641.89
    signed = sign_pdf_with_image(pdf, SIG, None, signer_name="张三", signed_at=WHEN)
    rows, cols = _box_px((495.28, 641.89), 495.28 - 170 - 36, 36, 170, 80)
    _assert_ink_only_in(_grey(pdf, 2), _grey(signed, 2), rows, cols)


def test_a_white_canvas_does_not_hide_the_text_under_the_box() -> None:
    white = signature_png(background=(255, 255, 255, 255))
    place = SignaturePlacement(page=0, x=40, y=841.89 - 40 - 120, width=400, height=120)  # over the text
    before = _grey(PDF, 0)
    after = _grey(sign_pdf_with_image(PDF, white, place, signer_name="张三", signed_at=WHEN), 0)
    rows, cols = _box_px((595.28, 841.89), 40, 841.89 - 40 - 120, 400, 120)
    text = before[rows, cols] < 60
    assert text.sum() > 500
    assert (after[rows, cols][text] < 100).all()  # the heading and the first lines are still there


def test_blue_ink_stays_blue() -> None:
    signed = sign_pdf_with_image(PDF, SIG, None, signer_name="张三", signed_at=WHEN)
    with Image.open(io.BytesIO(render_page(signed, 2, width_px=WIDTH, watermark=None, fmt="png"))) as img:
        rgb = np.asarray(img.convert("RGB"), dtype=np.int16)
    ink = rgb.sum(axis=2) < 200
    assert ink.sum() > 200
    assert (rgb[ink][:, 2] >= rgb[ink][:, 0]).mean() > 0.9  # (10, 10, 60): more blue than red


@pytest.mark.parametrize(
    ("png", "message"),
    [
        (signature_png(points=[]), "签名为空或过短"),  # transparent canvas, nothing drawn
        (signature_png(points=[], background=(255, 255, 255, 255)), "签名为空或过短"),  # white canvas
        (signature_png(points=[(100, 100), (104, 102)], stroke=4), "签名为空或过短"),  # an accidental tap
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "签名图片无法读取"),
        (b"not an image", "签名图片无法读取"),
        (b"", "签名图片无法读取"),
    ],
)
def test_blank_or_broken_signatures_are_refused(png: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        sign_pdf_with_image(PDF, png, None, signer_name="张三", signed_at=WHEN)


def test_the_blank_threshold_is_reported() -> None:
    with pytest.raises(InvalidInputError) as err:
        sign_pdf_with_image(PDF, signature_png(points=[]), None, signer_name="张三", signed_at=WHEN)
    assert err.value.details == {"ink_pixels": 0, "min_ink_pixels": MIN_INK_PIXELS}


def test_a_jpeg_signature_is_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (300, 100), (255, 255, 255)).save(out, "JPEG")
    with pytest.raises(InvalidInputError, match="签名须为 PNG"):
        sign_pdf_with_image(PDF, out.getvalue(), None, signer_name="张三", signed_at=WHEN)


@pytest.mark.parametrize(
    ("place", "message"),
    [
        (SignaturePlacement(page=3), "签名页码超出范围"),
        (SignaturePlacement(page=-4), "签名页码超出范围"),
        (SignaturePlacement(x=-1, y=10), "签名区域超出页面"),
        (SignaturePlacement(x=450, y=10), "签名区域超出页面"),  # 450 + 170 > 595
        (SignaturePlacement(x=10, y=800), "签名区域超出页面"),
        (SignaturePlacement(x=10, y=800, origin="top-left"), "签名区域超出页面"),
        (SignaturePlacement(width=20, height=10), "签名区域过小"),
    ],
)
def test_placements_off_the_page_are_refused(place: SignaturePlacement, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        sign_pdf_with_image(PDF, SIG, place, signer_name="张三", signed_at=WHEN)


def test_an_encrypted_pdf_cannot_be_signed() -> None:
    with pytest.raises(InvalidInputError, match="PDF 已加密"):
        sign_pdf_with_image(encrypted_pdf(PDF), SIG, None, signer_name="张三", signed_at=WHEN)


def test_signing_a_task_document_stores_a_new_pdf(tmp_path: Path) -> None:
    blobs = FilesystemBlobStore(tmp_path)
    ref = store_task_document(blobs, "合同.pdf", PDF, action="sign", sign=SignaturePlacement(page=0))
    signed = sign_task_document(blobs, ref, SIG, signer_name="张三", signed_at=WHEN)
    assert signed.name == "合同（已签署）.pdf" and signed.blob_key != ref.blob_key
    assert signed.pages == 3 and signed.action == "signed"
    assert read_document(blobs, ref) == PDF  # the original is kept
    assert len(PdfReader(io.BytesIO(read_document(blobs, signed))).pages[0].images) == 1
