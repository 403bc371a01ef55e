"""Identity evidence for playback and the litigation report: the ID card frames the OCR read, and the
face frames that were compared with the ID photo, each with its distance.

The checks decide (``id_card``, ``identity_match``); this module only keeps the pictures they looked at
so that a reviewer or a court can see them. Text read from the card is stored masked (JR/T 0171).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from dualrec.checks.base import CheckContext, OcrObservation
from dualrec.checks.faces import distance, face_frames
from dualrec.core.tasks import mask_id_number, mask_name
from dualrec.media.ports import Image

__all__ = ["identity_evidence"]

MAX_FACE_SAMPLES = 6


class _Sink(Protocol):
    def put(self, name: str, image: Image) -> str: ...


def _best(observations: list[OcrObservation]) -> OcrObservation | None:
    return (
        next((o for o in observations if o.fields.id_number_valid), None)
        or next((o for o in observations if o.fields.id_number), None)
        or (observations[0] if observations else None)
    )


def _card_frames(ctx: CheckContext, images: Mapping[float, Image], sink: _Sink) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for side in ("front", "back"):
        best = _best([o for o in ctx.ocr or () if o.fields.side == side])
        if best is None:
            continue
        f = best.fields
        image = images.get(best.t)
        out.append(
            {
                "side": side,
                "time": round(best.t, 2),
                "frame": sink.put(f"idcard_{side}_{best.t:07.2f}s.jpg", image) if image is not None else None,
                "name": mask_name(f.name) if f.name else None,
                "id_number": mask_id_number(f.id_number) if f.id_number else None,
                "check_digit_valid": f.id_number_valid,
            }
        )
    return out


def _spread(samples: list[tuple[float, float]], n: int) -> list[tuple[float, float]]:
    """Up to ``n`` samples evenly over the recording, always including the worst match."""
    if len(samples) <= n:
        return samples
    picked = {samples[(k * (len(samples) - 1)) // (n - 2 if n > 2 else 1)] for k in range(n - 1)}
    picked.add(max(samples, key=lambda s: s[1]))
    return sorted(picked)[:n]


def _face_comparison(
    ctx: CheckContext, thumb: Callable[[float], Image | None], sink: _Sink
) -> dict[str, Any] | None:
    ref = ctx.id_photo
    if ref is None or ctx.faces_error is not None:
        return None
    samples = [
        (f.t, min(distance(ref, o.embedding) for o in f.faces or () if o.embedding is not None))
        for f in face_frames(ctx)
        if any(o.embedding is not None for o in f.faces or ())
    ]
    if not samples:
        return None
    limit = ctx.threshold("identity_match", "max_distance")
    rows = []
    for i, (t, d) in enumerate(_spread(samples, MAX_FACE_SAMPLES)):
        image = thumb(t)
        rows.append(
            {
                "time": round(t, 2),
                "distance": round(d, 3),
                "similarity": round(max(0.0, 1 - d / (2 * limit)), 3),
                "match": d <= limit,
                "frame": sink.put(f"face_{i + 1:02d}_{t:07.2f}s.jpg", image) if image is not None else None,
            }
        )
    return {
        "threshold": limit,
        "compared": len(samples),
        "median_distance": round(statistics.median(d for _, d in samples), 3),
        "samples": rows,
    }


def identity_evidence(
    ctx: CheckContext,
    card_images: Mapping[float, Image],
    thumb: Callable[[float], Image | None],
    sink: _Sink,
) -> dict[str, Any]:
    """``{"id_card": [{side, time, frame, name, id_number, check_digit_valid}], "face_comparison":
    {threshold, compared, median_distance, samples: [{time, distance, similarity, match, frame}]} | None}``.
    """
    return {
        "id_card": _card_frames(ctx, card_images, sink),
        "face_comparison": _face_comparison(ctx, thumb, sink),
    }
