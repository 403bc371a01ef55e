"""The session's identity proof as the QC of its recording takes it (``core.live_proof``).

The monitor stored each proof in the session (``identity``: liveness, the card's two sides, the face
comparison) with the segment and the time in it when it was taken; here each is placed on the
assembled recording's timeline (segment *k* starts after segments 0..k−1) and reduced to what QC
and the reports need: results, masked card text, and the blob keys of the frame and card images.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dualrec.core.flow import Flow
from dualrec.core.live_proof import Captured, CardProof, FaceMatchProof, LivenessProof, LiveProof

__all__ = ["live_proof"]

_KEYS = ("liveness", "id_card_front", "id_card_back", "face_match")


def _timeline(durations: Mapping[int, float]) -> dict[int, float]:
    offsets, total = {}, 0.0
    for seg in sorted(durations):
        offsets[seg] = total
        total += durations[seg]
    return offsets


def _captured(value: Mapping[str, Any], durations: Mapping[int, float]) -> Captured:
    c = value.get("captured") or {}
    seg, t = c.get("segment"), c.get("t")
    offsets = _timeline(durations)
    time = None
    if isinstance(seg, int) and seg in offsets and isinstance(t, (int, float)):
        time = round(offsets[seg] + max(0.0, min(float(t), durations[seg])), 2)
    return Captured(str(c.get("at") or ""), time)


def _reason(liveness: Mapping[str, Any]) -> str:
    failed = [r for r in liveness.get("results") or () if isinstance(r, Mapping) and not r.get("passed")]
    return str(failed[-1].get("reason") or "") if failed else ""


def live_proof(
    identity: Mapping[str, Any], session_id: str, flow: Flow, durations: Mapping[int, float]
) -> dict[str, Any] | None:
    """The proof of a session's identity node for its recording's QC; None when the session proved
    nothing live (no identity node reached): QC then looks for the card in the video as for any upload."""
    if not any(isinstance(identity.get(k), Mapping) for k in _KEYS):
        return None
    node = next((n for n in flow.nodes if n.type == "identity"), None)
    live = identity.get("liveness")
    front, back, face = (identity.get(k) for k in _KEYS[1:])

    def card(value: Any, side: str) -> CardProof | None:
        if not isinstance(value, Mapping):
            return None
        return CardProof(
            side=side,
            passed=value.get("passed") is True,
            captured=_captured(value, durations),
            problems=tuple(str(p) for p in value.get("problems") or ()),
            name_matches=value.get("name_matches"),
            number_matches=value.get("number_matches"),
            number_valid=value.get("number_valid"),
            name=str(value.get("name_masked") or ""),
            id_number=str(value.get("id_number_masked") or ""),
            image_key=value.get("blob_key"),
        )

    proof = LiveProof(
        session_id=session_id,
        node_id=node.id if node is not None else "",
        id_card_required=not (node is not None and node.params.get("id_card") is False),
        liveness=LivenessProof(
            passed=live.get("passed") is True,
            actions=tuple(str(a) for a in live.get("actions") or ()),
            captured=_captured(live, durations),
            frame_key=live.get("blob_key"),
            reason=_reason(live),
        )
        if isinstance(live, Mapping)
        else None,
        front=card(front, "front"),
        back=card(back, "back"),
        face_match=FaceMatchProof(
            passed=face.get("passed") is True,
            distance=face.get("distance"),
            threshold=float(face.get("threshold") or 0.6),
            captured=_captured(face, durations),
        )
        if isinstance(face, Mapping)
        else None,
    )
    return proof.to_dict()
