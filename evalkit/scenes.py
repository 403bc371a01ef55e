"""Builds a case's recording with the ffmpeg CLI: shots of real photos placed on a textured "room",
joined, over real audio (padded with silence or cut to the picture's length).

Every file is built once into a cache folder keyed by the case's description, so a rerun reuses it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
FPS = 25


@functools.cache
def face_anchor(photo: str) -> tuple[float, float, float]:
    """Centre x, centre y and width (px) of the photo's first face in ``tests/data/faces/labels.json``
    (the hand-checked boxes the face tests use). Only used to place and size the photos; what QC
    finds is not taken from here."""
    labels = json.loads((DATA / "faces" / "labels.json").read_text(encoding="utf-8"))["photos"]
    x0, y0, x1, y1 = labels[photo][0]["box"]
    return (x0 + x1) / 2, (y0 + y1) / 2, float(x1 - x0)


@dataclass(frozen=True)
class Person:
    """A real photo scaled so that its (first) face is ``face`` px wide, with that face's centre at
    (cx, cy) of the picture; it sways ``sway`` px sideways (a person is never perfectly still)."""

    photo: str  # under tests/data/faces, labelled in its labels.json
    face: int
    cx: int
    cy: int
    sway: int = 12

    @property
    def scale(self) -> float:
        return self.face / face_anchor(self.photo)[2]

    @property
    def origin(self) -> tuple[int, int]:
        """Top-left corner of the scaled photo in the picture."""
        fx, fy, _ = face_anchor(self.photo)
        return round(self.cx - fx * self.scale), round(self.cy - fy * self.scale)


@dataclass(frozen=True)
class Shot:
    seconds: float
    people: tuple[Person, ...] = ()


@dataclass(frozen=True)
class Scene:
    shots: tuple[Shot, ...]
    # files under tests/data (e.g. "speech/asr_example.wav"), joined; "FILE#A-B": seconds A to B of
    # it; "pause:S": S seconds of silence; () = silence throughout
    audio: tuple[str, ...]
    width: int = 640
    height: int = 360

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.shots)

    def key(self) -> str:
        placed = [(p.origin, p.scale) for shot in self.shots for p in shot.people]
        text = json.dumps([asdict(self), placed], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def available() -> str | None:
    """Why scenes cannot be built here, or None."""
    if shutil.which("ffmpeg") is None:
        return "ffmpeg CLI not installed"
    if not (DATA / "faces" / "obama.jpg").is_file():
        return f"test media missing: {DATA}"
    return None


def _ffmpeg(*args: str) -> None:
    out = Path(args[-1])
    tmp = out.with_name(f".part-{out.name}")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args[:-1], str(tmp)], check=True, timeout=600
    )
    tmp.replace(out)


def _audio_input(part: str) -> list[str]:
    """ffmpeg input arguments of one part of ``Scene.audio``."""
    if part.startswith("pause:"):
        return ["-f", "lavfi", "-t", part[6:], "-i", "anullsrc=r=16000:cl=mono"]
    name, _, span = part.partition("#")
    if not span:
        return ["-i", str(DATA / name)]
    a, b = (float(x) for x in span.split("-"))
    return ["-ss", f"{a}", "-t", f"{b - a}", "-i", str(DATA / name)]


class SceneBuilder:
    def __init__(self, cache: Path) -> None:
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)

    def _room(self, width: int, height: int) -> Path:
        out = self.cache / f"room_{width}x{height}.png"
        if not out.exists():
            rng = np.random.default_rng(11)
            img = Image.new("RGB", (width, height), (110, 112, 108))
            draw = ImageDraw.Draw(img)
            for _ in range(48):
                x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
                w, h = (
                    int(rng.integers(width // 30, width // 4)),
                    int(rng.integers(height // 20, height // 3)),
                )
                g = int(rng.integers(50, 210))
                draw.rectangle((x, y, x + w, y + h), fill=(g, min(g + 6, 255), max(g - 8, 0)))
            img.save(out)
        return out

    def _scaled(self, person: Person) -> Path:
        out = self.cache / f"{Path(person.photo).stem}_x{person.scale:.5f}.png"
        if not out.exists():
            img = Image.open(DATA / "faces" / person.photo).convert("RGB")
            img.resize(
                (max(2, round(img.width * person.scale)), max(2, round(img.height * person.scale)))
            ).save(out)
        return out

    def _shot(self, scene: Scene, shot: Shot, index: int, key: str) -> Path:
        out = self.cache / f"{key}-shot{index}.mp4"
        if out.exists():
            return out
        inputs = ["-loop", "1", "-framerate", str(FPS), "-t", str(shot.seconds)]
        inputs += ["-i", str(self._room(scene.width, scene.height))]
        chain, last = [], "0:v"
        for i, person in enumerate(shot.people, start=1):
            inputs += ["-loop", "1", "-framerate", str(FPS), "-i", str(self._scaled(person))]
            x0, y0 = person.origin
            x = f"{x0}+{person.sway}*sin(t*0.9+{i})"
            chain.append(f"[{last}][{i}:v]overlay=x='{x}':y={y0}:shortest=1[o{i}]")
            last = f"o{i}"
        chain.append(f"[{last}]noise=alls=6:allf=t,format=yuv420p[v]")
        _ffmpeg(
            *inputs,
            "-filter_complex",
            ";".join(chain),
            "-map",
            "[v]",
            "-t",
            str(shot.seconds),
            "-r",
            str(FPS),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            str(2 * FPS),
            str(out),
        )
        return out

    def _audio(self, scene: Scene, key: str) -> Path:
        out = self.cache / f"{key}-audio.wav"
        if out.exists():
            return out
        total = f"{scene.seconds:.3f}"
        if not scene.audio:
            _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", total, str(out))
            return out
        inputs = [a for f in scene.audio for a in _audio_input(f)]
        n = len(scene.audio)
        parts = "".join(f"[{i}:a]aresample=16000,aformat=channel_layouts=mono[a{i}];" for i in range(n))
        joined = "".join(f"[a{i}]" for i in range(n))
        _ffmpeg(
            *inputs,
            "-filter_complex",
            f"{parts}{joined}concat=n={n}:v=0:a=1,apad[a]",
            "-map",
            "[a]",
            "-t",
            total,
            "-ar",
            "16000",
            "-ac",
            "1",
            str(out),
        )
        return out

    def build(self, scene: Scene) -> Path:
        key = scene.key()
        out = self.cache / f"{key}.mp4"
        if out.exists():
            return out
        shots = [self._shot(scene, shot, i, key) for i, shot in enumerate(scene.shots)]
        listing = self.cache / f"{key}-shots.txt"
        listing.write_text("".join(f"file '{p.name}'\n" for p in shots))
        audio = self._audio(scene, key)
        _ffmpeg(
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-i",
            str(audio),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            "-shortest",
            str(out),
        )
        return out

    # ------------------------------------------------------------------ damaged files

    def damaged(self, kind: str, source: Path) -> Path:
        out = self.cache / f"bad-{kind}.mp4"
        if out.exists():
            return out
        if kind == "empty":
            out.write_bytes(b"")
        elif kind == "text":
            out.write_text("这不是视频 / this is not a video\n" * 100, encoding="utf-8")
        elif kind == "truncated":
            data = source.read_bytes()
            out.write_bytes(data[: int(len(data) * 0.6)])
        else:
            raise ValueError(kind)
        return out
