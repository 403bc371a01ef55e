"""720p scenes with small real faces, labelled, for measuring face-detection recall.

From the photos in tests/data/faces and their hand-checked boxes (labels.json):
- ``photo`` scenes: each photo of several people scaled so that its frontal faces are about
  ``width`` px wide, centred on a 1280×720 canvas;
- ``row`` scenes: head-and-shoulders cut-outs of every frontal face placed side by side, 2 at a
  time (two people at a counter) and 5 at a time (an audience row), at 60–120 px;
- ``crowd`` scenes: an audience of seven, a back row of four at one face width and a front row of
  three nearer the camera (a larger width), each person from another photo, so that faces of
  different sizes share the frame (no face is covered: the placement checks it).
Every face in these scenes comes from the photos in tests/data/faces (MIT-licensed, see the README);
there is no separate group photo.
Every scene goes through JPEG (quality 80) like a frame of a compressed recording. A scene's labels
are the faces that lie wholly inside it, in scene pixels.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import TEST_DATA

FACES = TEST_DATA / "faces"
W, H = 1280, 720
WIDTHS = (60, 66, 72, 84, 96, 108, 120)  # face widths (px in 720p) the scenes are built at
GROUPS = ("two_people.jpg", "obama_and_biden.jpg")  # the real photos of several people

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Label:
    box: Box
    frontal: bool

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class Scene:
    name: str
    image: np.ndarray  # RGB uint8, H×W
    labels: tuple[Label, ...]


@cache
def labels() -> dict[str, tuple[Label, ...]]:
    data = json.loads((FACES / "labels.json").read_text(encoding="utf-8"))
    return {
        name: tuple(Label(tuple(f["box"]), bool(f["frontal"])) for f in faces)  # type: ignore[arg-type]
        for name, faces in data["photos"].items()
    }


@cache
def _photo(name: str) -> Image.Image:
    return Image.open(FACES / name).convert("RGB")


def _background(seed: int) -> Image.Image:
    """A room-like background: soft blocks of colour with sensor noise (deterministic)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(60, 200, (9, 16, 3)).astype(np.uint8)
    img = np.asarray(Image.fromarray(small).resize((W, H), Image.Resampling.BICUBIC), dtype=np.float32)
    img += rng.normal(0, 4, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def _jpeg(img: Image.Image) -> np.ndarray:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.uint8)


def _scaled(box: Sequence[float], s: float, dx: float, dy: float) -> Box:
    return (round(box[0] * s + dx), round(box[1] * s + dy), round(box[2] * s + dx), round(box[3] * s + dy))


def photo_scenes(widths: Sequence[int] = WIDTHS) -> Iterator[Scene]:
    for k, name in enumerate(GROUPS):
        faces = labels()[name]
        frontal = sorted(f.width for f in faces if f.frontal)
        typical = frontal[len(frontal) // 2]
        for width in widths:
            s = width / typical
            img = _photo(name)
            small = img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS)
            canvas = _background(100 * k + width)
            dx, dy = (W - small.width) // 2, (H - small.height) // 2
            canvas.paste(small, (dx, dy))
            inside = tuple(
                Label(b, f.frontal)
                for f in faces
                if (b := _scaled(f.box, s, dx, dy))[0] >= 0 and b[1] >= 0 and b[2] <= W and b[3] <= H
            )
            yield Scene(f"photo:{name}@{width}", _jpeg(canvas), inside)


def _cutouts() -> list[tuple[str, Label]]:
    return [(name, f) for name, faces in labels().items() for f in faces if f.frontal]


def _place(canvas: Image.Image, name: str, face: Label, width: int, x: int, y: int) -> tuple[Label, Box]:
    """Paste the head and shoulders of ``face`` (of photo ``name``) scaled to ``width`` px with the
    cut-out's top-left corner at (x, y); returns the face's label and the cut-out's box in the scene."""
    s = width / face.width
    left, top, right, bottom = face.box
    # head and shoulders: a face width either side, 0.8 above, 1.6 below
    crop = _photo(name).crop(
        (
            round(left - face.width),
            round(top - 0.8 * face.width),
            round(right + face.width),
            round(bottom + 1.6 * face.width),
        )
    )
    part = crop.resize((round(crop.width * s), round(crop.height * s)), Image.Resampling.LANCZOS)
    canvas.paste(part, (x, y))
    # the face sits one face width from the cut-out's left edge, 0.8 from its top
    fx, fy = x + round(face.width * s), y + round(0.8 * face.width * s)
    label = Label((fx, fy, fx + width, fy + round((bottom - top) * s)), True)
    return label, (x, y, x + part.width, y + part.height)


def row_scenes(widths: Sequence[int] = WIDTHS, per_row: Sequence[int] = (2, 5)) -> Iterator[Scene]:
    """Head-and-shoulders of every frontal face, ``n`` side by side, at each face width."""
    people = _cutouts()
    for n in per_row:
        for width in widths:
            for start in range(0, len(people), n):
                group = [people[(start + i) % len(people)] for i in range(n)]
                canvas = _background(7 * n + width + start)
                out: list[Label] = []
                pitch = W // n
                for i, (name, face) in enumerate(group):
                    part_w = round(3 * width)  # the cut-out is three face widths wide
                    x = i * pitch + (pitch - part_w) // 2 + (i % 2) * 9
                    y = 180 + (i % 3) * 40 - round(0.8 * width)
                    out.append(_place(canvas, name, face, width, x, y)[0])
                yield Scene(f"row{n}:{start}@{width}", _jpeg(canvas), tuple(out))


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def crowd(width: int, start: int = 0) -> Scene:
    """An audience: four people in a back row with faces ``width`` px wide, three in a front row
    nearer the camera (faces 1.25× wider, at most 132 px), the seven taken in turn from the frontal
    faces of the photos from ``start`` on. Raises if a pasted cut-out covers a face placed before."""
    people = _cutouts()
    near = min(132, round(1.25 * width))
    canvas = _background(31 * width + start)
    out: list[Label] = []
    back_top = 130  # the back row's faces' top edge
    front_top = back_top + round(1.1 * width) + round(0.8 * near) + 8
    rows = ((4, width, back_top, 0), (3, near, front_top, W // 8))
    k = start
    for n, w, face_top, shift in rows:
        pitch = (W - 2 * shift) // n
        for i in range(n):
            name, face = people[k % len(people)]
            k += 1
            x = shift + i * pitch + (pitch - 3 * w) // 2 + (i % 2) * 11
            y = face_top - round(0.8 * w) + (i % 2) * 12
            label, part = _place(canvas, name, face, w, x, y)
            covered = [b for b in out if _overlaps(part, b.box)]
            if covered:
                raise AssertionError(f"crowd@{width}: a cut-out covers the face at {covered[0].box}")
            out.append(label)
    inside = tuple(b for b in out if b.box[0] >= 0 and b.box[1] >= 0 and b.box[2] <= W and b.box[3] <= H)
    return Scene(f"crowd:{start}@{width}", _jpeg(canvas), inside)


def crowd_scenes(widths: Sequence[int] = WIDTHS) -> Iterator[Scene]:
    """An audience at each back-row width, twice, with other people in each place."""
    for width in widths:
        for start in (0, 7):
            yield crowd(width, start)


def scenes() -> Iterator[Scene]:
    yield from photo_scenes()
    yield from row_scenes()
    yield from crowd_scenes()


def matches(found: Sequence[Box], wanted: Sequence[Label]) -> list[bool]:
    """Which labels a detection matches: its centre inside the label's box and its width within
    0.6–1.6× the label's (each detection matches one label at most)."""
    used: set[int] = set()
    out = []
    for label in wanted:
        x0, y0, x1, y1 = label.box
        hit = next(
            (
                i
                for i, b in enumerate(found)
                if i not in used
                and x0 <= (b[0] + b[2]) / 2 <= x1
                and y0 <= (b[1] + b[3]) / 2 <= y1
                and 0.6 <= (b[2] - b[0]) / label.width <= 1.6
            ),
            None,
        )
        if hit is not None:
            used.add(hit)
        out.append(hit is not None)
    return out


# ---------------------------------------------------------------------------- short recordings


def still(
    name: str, size: tuple[int, int], *, face_width: int | None = None, crop: Box | None = None
) -> Image.Image:
    """A frame showing photo ``name`` (or its ``crop``) on a room-like background: scaled to the
    frame's height, or so that its median frontal face is ``face_width`` px wide."""
    w, h = size
    img = _photo(name) if crop is None else _photo(name).crop(crop)
    if face_width is None:
        s = min(h / img.height, w / img.width)
    else:
        frontal = sorted(f.width for f in labels()[name] if f.frontal)
        s = face_width / frontal[len(frontal) // 2]
    small = img.resize(
        (max(1, round(img.width * s)), max(1, round(img.height * s))), Image.Resampling.LANCZOS
    )
    canvas = _background(sum(map(ord, name)) + w).resize((w, h))
    canvas.paste(small, ((w - small.width) // 2, (h - small.height) // 2))
    return canvas


def slideshow(out: Path, parts: Sequence[tuple[Image.Image, float]], fps: int = 15) -> Path:
    """An H.264/AAC recording showing each still for its seconds (with camera-like noise, so the
    picture is never frozen) over a silent audio track; built once (``out`` is the cache)."""
    if out.exists():
        return out
    work = out.with_name(f".{out.stem}-{os.getpid()}")
    work.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (img, seconds) in enumerate(parts):
        img.save(work / f"{i}.png")
        lines += [f"file '{i}.png'", f"duration {seconds}"]
    lines.append(f"file '{len(parts) - 1}.png'")  # the concat demuxer's last duration needs this
    (work / "list.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    total = sum(s for _, s in parts)
    tmp = out.with_name(f".part-{os.getpid()}-{out.name}")  # parallel test workers
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error",
            "-f", "concat", "-safe", "0", "-i", str(work / "list.txt"),
            "-f", "lavfi", "-i", f"anullsrc=r=16000:cl=mono:d={total}",
            "-vf", f"fps={fps},noise=alls=6:allf=t,format=yuv420p",
            "-t", str(total), "-c:v", "libx264", "-preset", "ultrafast", "-g", str(2 * fps),
            "-c:a", "aac", "-b:a", "32k", str(tmp),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    tmp.replace(out)
    shutil.rmtree(work, ignore_errors=True)
    return out
