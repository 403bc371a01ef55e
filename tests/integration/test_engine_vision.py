"""Real vision engines on real photos: dlib faces (detect, landmarks, descriptor) and RapidOCR."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from dualrec.errors import EngineUnavailableError
from dualrec.media.models.dlib_faces import DlibFaceAnalyzer, DlibFaceOptions
from dualrec.media.models.rapid_ocr import RapidOCROptions, RapidTextRecognizer
from dualrec.media.ports import Image
from tests.conftest import TEST_DATA

DATA = TEST_DATA
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def _photo(name: str, width: int | None = None) -> Image:
    path = DATA / "faces" / name
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"test media missing in CI: {path}")
        pytest.fail(f"test media missing from the repository: {path} (see tests/data/README.md)")
    img = PILImage.open(path).convert("RGB")
    if width is not None and img.width > width:
        img = img.resize((width, round(img.height * width / img.width)))
    return np.asarray(img, dtype=np.uint8)


@pytest.fixture(scope="module")
def faces() -> DlibFaceAnalyzer:
    started = time.perf_counter()
    analyzer = DlibFaceAnalyzer()
    analyzer.load()
    print(f"\n[measure] dlib models load: {time.perf_counter() - started:.2f} s")
    return analyzer


def _descriptor(faces: DlibFaceAnalyzer, name: str) -> np.ndarray:
    image = _photo(name)
    found = faces.detect(image)
    assert found, f"no face found in {name}"
    return faces.embed(image, found[0])


def test_detects_one_face_with_landmarks(faces: DlibFaceAnalyzer) -> None:
    image = _photo("obama.jpg")
    found = faces.detect(image)
    assert len(found) == 1
    face = found[0]
    h, w = image.shape[:2]
    left, top, right, bottom = face.box
    assert 0 <= left < right <= w and 0 <= top < bottom <= h
    assert face.width > 0.1 * w  # a portrait: the face is a large part of the picture
    assert len(face.landmarks) == 68
    assert all(left - 0.3 * face.width <= x <= right + 0.3 * face.width for x, _ in face.landmarks)
    # dlib order: points 36-41 left eye, 42-47 right eye, 48-67 mouth; eyes above the mouth
    eye_y = np.mean([y for _, y in face.landmarks[36:48]])
    mouth_y = np.mean([y for _, y in face.landmarks[48:68]])
    assert eye_y < mouth_y


def test_same_person_close_different_person_far(faces: DlibFaceAnalyzer) -> None:
    ref = _descriptor(faces, "obama.jpg")
    assert ref.shape == (128,) and ref.dtype == np.float64
    same = [float(np.linalg.norm(ref - _descriptor(faces, f"obama{i}.jpg"))) for i in (1, 2, 3)]
    other = [float(np.linalg.norm(ref - _descriptor(faces, n))) for n in ("biden.jpg", "biden2.jpg")]
    print(f"\n[measure] same-person distances {same}, different-person {other}")
    assert max(same) < 0.6
    assert min(other) > 0.6


def test_two_people_largest_first(faces: DlibFaceAnalyzer) -> None:
    found = faces.detect(_photo("two_people.jpg"))
    assert len(found) == 2
    assert found[0].width * found[0].height >= found[1].width * found[1].height


def test_boxes_map_back_to_the_full_image(faces: DlibFaceAnalyzer) -> None:
    image = _photo("obama.jpg")
    big = np.asarray(PILImage.fromarray(image).resize((image.shape[1] * 2, image.shape[0] * 2)))
    small_box = faces.detect(image)[0].box
    big_box = faces.detect(big)[0].box  # detected on a downscaled copy, reported in input pixels
    assert all(
        abs(b - 2 * s) <= 0.1 * (small_box[2] - small_box[0]) for b, s in zip(big_box, small_box, strict=True)
    )


def test_no_face_in_a_blank_frame(faces: DlibFaceAnalyzer) -> None:
    assert faces.detect(np.full((360, 640, 3), 128, dtype=np.uint8)) == []


def test_speed_at_640(faces: DlibFaceAnalyzer) -> None:
    frame = _photo("obama_and_biden.jpg", width=640)
    faces.detect(frame)
    started = time.perf_counter()
    found = faces.detect(frame)
    detect_s = time.perf_counter() - started
    started = time.perf_counter()
    for face in found:
        faces.embed(frame, face)
    embed_s = time.perf_counter() - started
    print(
        f"\n[measure] 640 px frame {frame.shape}: detect {detect_s * 1000:.0f} ms, "
        f"{len(found)} faces embedded in {embed_s * 1000:.0f} ms"
    )
    assert found


def test_cuda_is_refused_with_a_clear_error() -> None:
    import dlib

    if getattr(dlib, "DLIB_USE_CUDA", False):
        pytest.skip("this dlib build has CUDA")
    with pytest.raises(EngineUnavailableError, match="CUDA"):
        DlibFaceAnalyzer(DlibFaceOptions(device="cuda"))


# --------------------------------------------------------------------------- OCR

CARD = {
    "name": "张伟",
    "sex": "男",
    "nation": "汉",
    "birth": "1990年3月7日",
    "address": ["北京市海淀区中关村大街", "27号院3号楼501室"],
    "id": "110108199003072316",
}


def _id_card(rotate: float) -> Image:
    """A synthetic second-generation ID card front (856x540) with a real face pasted."""
    card = PILImage.new("RGB", (856, 540), (236, 240, 244))
    draw = ImageDraw.Draw(card)
    label = ImageFont.truetype(str(FONT), 26)
    value = ImageFont.truetype(str(FONT), 30)
    rows = [
        ("姓  名", CARD["name"], 60),
        ("性  别", f"{CARD['sex']}      民  族  {CARD['nation']}", 125),
        ("出  生", CARD["birth"], 190),
        ("住  址", CARD["address"][0], 255),
        ("", CARD["address"][1], 300),
    ]
    for key, text, y in rows:
        if key:
            draw.text((50, y + 3), key, font=label, fill=(60, 90, 140))
        draw.text((160, y), text, font=value, fill=(10, 10, 10))
    draw.text((50, 440), "公民身份号码", font=label, fill=(60, 90, 140))
    draw.text((250, 436), CARD["id"], font=ImageFont.truetype(str(FONT), 34), fill=(10, 10, 10))
    face = PILImage.fromarray(_photo("obama.jpg")).resize((200, 250))
    card.paste(face, (620, 70))
    if rotate:
        card = card.rotate(rotate, expand=True, fillcolor=(90, 90, 90))
    return np.asarray(card, dtype=np.uint8)


@pytest.fixture(scope="module")
def ocr() -> RapidTextRecognizer:
    if not FONT.is_file():
        pytest.skip(f"CJK font not installed: {FONT} (apt-get install fonts-wqy-zenhei)")
    started = time.perf_counter()
    recognizer = RapidTextRecognizer(RapidOCROptions(threads=2))
    recognizer.load()
    print(f"\n[measure] RapidOCR load: {time.perf_counter() - started:.2f} s")
    return recognizer


@pytest.mark.parametrize("rotate", [0.0, 4.0])
def test_reads_an_id_card(ocr: RapidTextRecognizer, rotate: float) -> None:
    card = _id_card(rotate)
    started = time.perf_counter()
    lines = ocr.recognize(card)
    print(
        f"\n[measure] OCR card {card.shape[1]}x{card.shape[0]} rotated {rotate}: "
        f"{time.perf_counter() - started:.2f} s"
    )
    texts = [re.sub(r"\s+", "", line.text) for line in lines]
    joined = "".join(texts)
    assert CARD["name"] in joined, texts
    assert any(CARD["id"] in t for t in texts), texts
    assert CARD["address"][0] in joined, texts
    for line in lines:
        assert 0.5 <= line.confidence <= 1.0
        assert len(line.box) == 4
        assert all(-5 <= x <= card.shape[1] + 5 and -5 <= y <= card.shape[0] + 5 for x, y in line.box)


def test_blank_image_has_no_text(ocr: RapidTextRecognizer) -> None:
    assert ocr.recognize(np.full((300, 500, 3), 255, dtype=np.uint8)) == []
