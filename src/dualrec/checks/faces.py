"""Helpers for the face checks: which frames were face-checked, faces that count, distances."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from dualrec.checks.base import CheckContext, FaceObservation, FrameAnalysis

__all__ = ["counted_faces", "distance", "face_frames", "face_step"]


def face_frames(ctx: CheckContext) -> list[FrameAnalysis]:
    """Frames where face detection ran, minus black/covered ones (black_screen reports those)."""
    luma, contrast = ctx.threshold("black_screen", "luma_max"), ctx.threshold("black_screen", "contrast_max")
    return [f for f in ctx.frames if f.faces is not None and not f.is_dark_or_covered(luma, contrast)]


def counted_faces(ctx: CheckContext, frame: FrameAnalysis) -> tuple[FaceObservation, ...]:
    min_ratio = ctx.threshold("people_count", "min_face_ratio")
    return tuple(f for f in frame.faces or () if f.area_ratio >= min_ratio)


def face_step(frames: Sequence[FrameAnalysis], default: float) -> float:
    diffs = sorted(b.t - a.t for a, b in itertools.pairwise(frames))
    return diffs[len(diffs) // 2] if diffs else default


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))
