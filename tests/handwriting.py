"""Pen strokes of a sentence for the copy pad (抄录), from the stroke medians in tests/data/handwriting.

Each character's strokes are drawn in stroke order as pen lines along their medians, with random
jitter, left to right in rows. This is written stroke by stroke like handwriting, but it is NOT a
person's handwriting (the skeletons come from a font; see tests/data/README.md): it exercises the
pad → OCR → score path, it does not measure how well real handwriting is read.
"""

from __future__ import annotations

import io
import json
import random

from tests.conftest import TEST_DATA

__all__ = ["pad_png", "sentence_strokes"]

HANDWRITING = TEST_DATA / "handwriting"
_GRID = 1024  # the medians' coordinate system (y up, baseline at 900)


def _medians(ch: str) -> list[list[tuple[float, float]]]:
    path = HANDWRITING / f"{ord(ch):x}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no stroke data for {ch!r} ({path.name}); see tests/data/README.md")
    data = json.loads(path.read_text(encoding="utf-8"))
    return [[(float(x), float(y)) for x, y in stroke] for stroke in data["medians"]]


def sentence_strokes(
    text: str,
    *,
    width: float,
    char_size: float,
    left: float = 0.0,
    top: float = 0.0,
    jitter: float = 12.0,
    seed: int = 0,
) -> list[list[tuple[float, float]]]:
    """The strokes of ``text`` (punctuation skipped) as polylines in a box ``width`` wide, characters
    ``char_size`` apart, wrapped into rows; ``jitter`` is the pen's wobble in grid units (of 1024)."""
    rng = random.Random(seed)
    scale = char_size / _GRID
    per_row = max(1, int(width // char_size))
    out: list[list[tuple[float, float]]] = []
    chars = [ch for ch in text if ch.isalnum()]
    for i, ch in enumerate(chars):
        ox = left + (i % per_row) * char_size
        oy = top + (i // per_row) * char_size * 1.25
        for stroke in _medians(ch):
            out.append(
                [
                    (ox + (x + rng.gauss(0, jitter)) * scale, oy + (900 - y + rng.gauss(0, jitter)) * scale)
                    for x, y in stroke
                ]
            )
    return out


def pad_png(
    text: str, *, width: int = 720, height: int = 540, pen: int = 6, jitter: float = 12.0, seed: int = 0
) -> bytes:
    """A transparent pad (as the page sends it) with ``text`` written in pen strokes."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for stroke in sentence_strokes(
        text, width=width - 40, char_size=100, left=20, top=40, jitter=jitter, seed=seed
    ):
        draw.line(stroke, fill=(17, 17, 17, 255), width=pen, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
