"""What a self-service session proved live, as the QC of its recording takes it.

During the session the server itself checked the customer: the liveness challenge on the streamed
frames, the ID card's two sides read by OCR (camera snapshot or photo album) and the card's portrait
compared with the face from the liveness frames. That proof is evidence of the attempt: QC reports it
as the identity node's result (source ``live_session``, with the time it was captured) and checks
that the recording agrees with it. Card text is kept masked (JR/T 0171); images are blob keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["LIVE_SOURCE", "Captured", "CardProof", "FaceMatchProof", "LiveProof", "LivenessProof"]

LIVE_SOURCE = "live_session"


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass(frozen=True)
class Captured:
    """When a proof was taken: the wall clock, and the time on the recording's timeline (None when
    that moment is not in the recording, e.g. its segment was lost)."""

    at: str = ""  # ISO 8601
    time: float | None = None


@dataclass(frozen=True)
class LivenessProof:
    passed: bool
    actions: tuple[str, ...]  # the actions asked (Action values: shake, nod, blink)
    captured: Captured
    frame_key: str | None = None  # the most frontal frame of the challenge (the face kept)
    reason: str = ""


@dataclass(frozen=True)
class CardProof:
    side: str  # front | back
    passed: bool
    captured: Captured
    problems: tuple[str, ...] = ()
    name_matches: bool | None = None
    number_matches: bool | None = None
    number_valid: bool | None = None
    name: str = ""  # masked
    id_number: str = ""  # masked
    image_key: str | None = None


@dataclass(frozen=True)
class FaceMatchProof:
    passed: bool
    distance: float | None
    threshold: float
    captured: Captured


@dataclass(frozen=True)
class LiveProof:
    session_id: str
    node_id: str = ""
    id_card_required: bool = True  # False: the identity node asks for liveness only
    liveness: LivenessProof | None = None
    front: CardProof | None = None
    back: CardProof | None = None
    face_match: FaceMatchProof | None = None

    @property
    def covers_id_card(self) -> bool:
        """The session read the card (or its identity node did not ask for one)."""
        return self.front is not None or not self.id_card_required

    def image_keys(self) -> dict[str, str]:
        """The blob keys of the proof's images by name: ``liveness`` (the challenge's frame),
        ``front`` and ``back`` (the card's sides), where the session kept them."""
        keys = {
            "liveness": self.liveness.frame_key if self.liveness else None,
            "front": self.front.image_key if self.front else None,
            "back": self.back.image_key if self.back else None,
        }
        return {name: key for name, key in keys.items() if key}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LiveProof:
        def captured(d: Mapping[str, Any]) -> Captured:
            c = d.get("captured") or {}
            return Captured(str(c.get("at") or ""), _float(c.get("time")))

        def card(d: Any, side: str) -> CardProof | None:
            if not isinstance(d, Mapping):
                return None
            return CardProof(
                side=side,
                passed=d.get("passed") is True,
                captured=captured(d),
                problems=tuple(str(p) for p in d.get("problems") or ()),
                name_matches=_bool(d.get("name_matches")),
                number_matches=_bool(d.get("number_matches")),
                number_valid=_bool(d.get("number_valid")),
                name=str(d.get("name") or ""),
                id_number=str(d.get("id_number") or ""),
                image_key=str(d["image_key"]) if d.get("image_key") else None,
            )

        live = data.get("liveness")
        face = data.get("face_match")
        return cls(
            session_id=str(data.get("session_id") or ""),
            node_id=str(data.get("node_id") or ""),
            id_card_required=data.get("id_card_required") is not False,
            liveness=LivenessProof(
                passed=live.get("passed") is True,
                actions=tuple(str(a) for a in live.get("actions") or ()),
                captured=captured(live),
                frame_key=str(live["frame_key"]) if live.get("frame_key") else None,
                reason=str(live.get("reason") or ""),
            )
            if isinstance(live, Mapping)
            else None,
            front=card(data.get("front"), "front"),
            back=card(data.get("back"), "back"),
            face_match=FaceMatchProof(
                passed=face.get("passed") is True,
                distance=_float(face.get("distance")),
                threshold=_float(face.get("threshold")) or 0.6,
                captured=captured(face),
            )
            if isinstance(face, Mapping)
            else None,
        )
