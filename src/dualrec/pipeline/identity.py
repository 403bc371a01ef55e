"""Identity evidence for playback and the litigation report: the ID card frames the OCR read, and the
face frames that were compared with the ID photo, each with its distance. For a self-service session
the identity node's proof comes from the session (``core.live_proof``): the liveness frame and its
actions, the card's sides as read live, the live face comparison; the recording's face frames are then
compared with the face verified live.

The checks decide (``id_card``, ``identity_match``); this module only keeps the pictures they looked at
so that a reviewer or a court can see them. Text read from the card is stored masked (JR/T 0171).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from dualrec.checks.base import CheckContext, OcrObservation
from dualrec.checks.faces import distance, face_frames
from dualrec.core.live_proof import LIVE_SOURCE, FaceMatchProof
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


def _live_cards(ctx: CheckContext, sink: _Sink) -> list[dict[str, Any]]:
    """The card's sides as the session read them (camera snapshot or photo album)."""
    proof = ctx.live_proof
    assert proof is not None
    out: list[dict[str, Any]] = []
    for card in (proof.front, proof.back):
        if card is None:
            continue
        image = ctx.live_images.get(card.side)
        out.append(
            {
                "side": card.side,
                "time": card.captured.time,
                "frame": sink.put(f"idcard_{card.side}_live.jpg", image) if image is not None else None,
                "name": card.name or None,
                "id_number": card.id_number or None,
                "check_digit_valid": card.number_valid,
                "passed": card.passed,
                "source": LIVE_SOURCE,
                "captured_at": card.captured.at,
            }
        )
    return out


def _liveness(ctx: CheckContext, sink: _Sink) -> dict[str, Any] | None:
    proof = ctx.live_proof
    if proof is None or proof.liveness is None:
        return None
    live = proof.liveness
    image = ctx.live_images.get("liveness")
    return {
        "passed": live.passed,
        "actions": list(live.actions),
        "reason": live.reason,
        "time": live.captured.time,
        "frame": sink.put("live_liveness.jpg", image) if image is not None else None,
        "source": LIVE_SOURCE,
        "captured_at": live.captured.at,
    }


def _card_frames(ctx: CheckContext, images: Mapping[float, Image], sink: _Sink) -> list[dict[str, Any]]:
    if ctx.live_proof is not None and ctx.live_proof.covers_id_card:
        return _live_cards(ctx, sink)
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
    live = ctx.live_proof.face_match if ctx.live_proof is not None else None
    ref = ctx.live_face if live is not None else ctx.id_photo
    if ref is None or ctx.faces_error is not None:
        return _live_only(live)
    samples = [
        (f.t, min(distance(ref, o.embedding) for o in f.faces or () if o.embedding is not None))
        for f in face_frames(ctx)
        if any(o.embedding is not None for o in f.faces or ())
    ]
    if not samples:
        return _live_only(live)
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
        **(_live_only(live) or {}),
        "reference": "live_session" if live is not None else "id_photo",
        "threshold": limit,
        "compared": len(samples),
        "median_distance": round(statistics.median(d for _, d in samples), 3),
        "samples": rows,
    }


def _live_only(live: FaceMatchProof | None) -> dict[str, Any] | None:
    """The session's own comparison (the card's portrait ↔ the liveness face)."""
    if live is None:
        return None
    return {
        "reference": "live_session",
        "live": {
            "passed": live.passed,
            "distance": live.distance,
            "threshold": live.threshold,
            "time": live.captured.time,
            "source": LIVE_SOURCE,
            "captured_at": live.captured.at,
        },
    }


def identity_evidence(
    ctx: CheckContext,
    card_images: Mapping[float, Image],
    thumb: Callable[[float], Image | None],
    sink: _Sink,
) -> dict[str, Any]:
    """``{"id_card": [{side, time, frame, name, id_number, check_digit_valid[, passed, source,
    captured_at]}], "face_comparison": {reference, [live: {passed, distance, threshold, time, source,
    captured_at}], threshold, compared, median_distance, samples: [{time, distance, similarity, match,
    frame}]} | None, "liveness": {passed, actions, reason, time, frame, source, captured_at} | None}``.
    """
    return {
        "id_card": _card_frames(ctx, card_images, sink),
        "face_comparison": _face_comparison(ctx, thumb, sink),
        "liveness": _liveness(ctx, sink),
    }
