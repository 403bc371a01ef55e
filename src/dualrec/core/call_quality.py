"""Call quality of a remote interview (SPEC §8): an audio MOS estimate from the E-model, a video
grade, and what "below the §8 minimum" means. Pure functions, no I/O.

Audio: the E-model of ITU-T G.107 reduced to the network terms a browser measures (the simplified
form commonly used for VoIP monitoring):

    R = R0 − Is − Id − Ie,eff + A      with R0 − Is = 93.2 (default room noise, no echo), A = 0
    d      = one-way delay = RTT / 2 + jitter buffer (2 × jitter) + codec delay
    Id     = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)            (H: step function)
    Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)         (Ppl: packet loss in %)
    MOS    = 1                                            R ≤ 0
           = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶     0 < R < 100
           = 4.5                                          R ≥ 100

Opus has no Ie/Bpl in G.113; we take Ie = 0 (no coding impairment on the narrowband scale) and
Bpl = 25.1 (the value G.113 gives a codec with packet-loss concealment, G.711 + PLC), BurstR = 1
(random loss). The loss is the receiver's packet loss before FEC, so the estimate is conservative
for Opus with in-band FEC.

Video grade (what the receiver decodes, over one report interval):
    A  ≥ 1280×720 side ≥ 720, ≥ 20 fps, no freeze      (§8 normal network)
    B  short side ≥ 480, ≥ 15 fps
    C  short side ≥ 240, ≥ 15 fps                       (§8 weak-network minimum: 320×240 at 15 fps)
    D  a picture, but below C
    F  no picture (nothing decoded)
    A freeze of ≥ 1 s in the interval lowers the grade one step (never below D).

§8 minimum: audio MOS > 3 and video grade C or better; a sample under either is below minimum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "GRADES",
    "MIN_GRADE",
    "MIN_MOS",
    "CallQuality",
    "QualitySample",
    "RecordingGap",
    "below_minimum",
    "coverage_gaps",
    "e_model_r",
    "mos_estimate",
    "mos_from_r",
    "summarise",
    "video_grade",
]

GRADES = ("A", "B", "C", "D", "F")
MIN_MOS = 3.0  # §8 weak network: MOS > 3
MIN_GRADE = "C"  # §8 weak network: 320×240 at 15 fps
OPUS_IE = 0.0
OPUS_BPL = 25.1
CODEC_DELAY_MS = 20.0  # one Opus frame + look-ahead
R0_MINUS_IS = 93.2


def e_model_r(
    *,
    loss_pct: float,
    jitter_ms: float,
    rtt_ms: float,
    ie: float = OPUS_IE,
    bpl: float = OPUS_BPL,
    burst_r: float = 1.0,
    codec_delay_ms: float = CODEC_DELAY_MS,
    jitter_buffer_ms: float | None = None,
) -> float:
    """The E-model's transmission rating R from the network figures (see the module docstring).
    ``jitter_buffer_ms``: the receiver's own jitter-buffer delay when it reports one (it replaces
    the 2 × jitter guess)."""
    loss = min(max(_finite(loss_pct), 0.0), 100.0)
    buffer = (
        2 * max(_finite(jitter_ms), 0.0) if jitter_buffer_ms is None else max(_finite(jitter_buffer_ms), 0.0)
    )
    d = max(_finite(rtt_ms), 0.0) / 2 + buffer + codec_delay_ms
    i_d = 0.024 * d + (0.11 * (d - 177.3) if d > 177.3 else 0.0)
    ie_eff = ie + (95 - ie) * loss / (loss / burst_r + bpl) if loss > 0 else ie
    return R0_MINUS_IS - i_d - ie_eff


def mos_from_r(r: float) -> float:
    """G.107 Annex B: the mean opinion score (1..4.5) a rating R predicts."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


def mos_estimate(
    *, loss_pct: float, jitter_ms: float, rtt_ms: float, jitter_buffer_ms: float | None = None
) -> float:
    """Audio MOS estimate (1.0..4.5, two decimals) for Opus over a network with these figures."""
    r = e_model_r(loss_pct=loss_pct, jitter_ms=jitter_ms, rtt_ms=rtt_ms, jitter_buffer_ms=jitter_buffer_ms)
    return round(mos_from_r(r), 2)


def video_grade(*, width: int, height: int, fps: float, freeze_s: float = 0.0) -> str:
    """The grade A..F of the received picture over one interval (see the module docstring)."""
    short = min(width, height)
    if short <= 0 or fps <= 0:
        return "F"
    if short >= 720 and fps >= 20:
        grade = "A"
    elif short >= 480 and fps >= 15:
        grade = "B"
    elif short >= 240 and fps >= 15:
        grade = "C"
    else:
        grade = "D"
    if freeze_s >= 1.0 and grade in ("A", "B", "C"):
        grade = GRADES[GRADES.index(grade) + 1]
    return grade


def below_minimum(mos: float | None, grade: str | None, *, min_mos: float = MIN_MOS) -> list[str]:
    """What of a sample is under the §8 weak-network minimum: ``audio``, ``video`` (or nothing).
    A sample without audio (mos None) or video (grade None) is judged on what it has."""
    out = []
    if mos is not None and mos <= min_mos:
        out.append("audio")
    if grade is not None and GRADES.index(grade) > GRADES.index(MIN_GRADE):
        out.append("video")
    return out


def _finite(x: float) -> float:
    return x if isinstance(x, (int, float)) and math.isfinite(x) else 0.0


@dataclass(frozen=True)
class QualitySample:
    """One report of one participant's browser (what it received over the last interval), or of
    Janus (``role`` ``janus-<party>``: what the server received from that party), placed at ``t``
    seconds on the recording's timeline."""

    t: float
    role: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    video_kbps: float = 0.0
    audio_kbps: float = 0.0
    loss_pct: float = 0.0  # audio packets lost / expected in the interval
    video_loss_pct: float = 0.0
    jitter_ms: float = 0.0
    rtt_ms: float = 0.0
    freezes: int = 0  # in the interval
    freeze_s: float = 0.0
    concealed_pct: float = 0.0  # audio samples concealed (not received in time) in the interval
    mos: float | None = None
    grade: str | None = None
    nacks: int = 0  # Janus' rows: NACKs it sent the party's publisher in the interval (video)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> QualitySample:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in raw.items() if k in names})


@dataclass(frozen=True)
class RecordingGap:
    """A stretch of the call where the server recorded nothing of a party's stream."""

    party: str  # customer | agent
    kind: str  # audio | video
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CallQuality:
    """What QC gets of a call: the quality series on the recording's timeline, the gaps of the
    server's recording, and the call's length."""

    samples: tuple[QualitySample, ...] = ()
    gaps: tuple[RecordingGap, ...] = ()
    duration: float = 0.0
    interval: float = 2.0
    parties: tuple[str, ...] = field(default=("customer", "agent"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": [s.to_dict() for s in self.samples],
            "gaps": [g.to_dict() for g in self.gaps],
            "duration": self.duration,
            "interval": self.interval,
            "parties": list(self.parties),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CallQuality:
        return cls(
            samples=tuple(QualitySample.from_dict(s) for s in raw.get("samples") or ()),
            gaps=tuple(RecordingGap(**g) for g in raw.get("gaps") or ()),
            duration=float(raw.get("duration") or 0.0),
            interval=float(raw.get("interval") or 2.0),
            parties=tuple(raw.get("parties") or ("customer", "agent")),
        )


def coverage_gaps(
    spans: Iterable[tuple[float, float]], duration: float, *, min_gap: float = 2.0
) -> list[tuple[float, float]]:
    """The stretches of [0, duration] that no span covers, at least ``min_gap`` seconds long."""
    out: list[tuple[float, float]] = []
    cursor = 0.0
    for start, end in sorted(spans):
        if start - cursor >= min_gap:
            out.append((round(cursor, 2), round(start, 2)))
        cursor = max(cursor, end)
    if duration - cursor >= min_gap:
        out.append((round(cursor, 2), round(duration, 2)))
    return out


def summarise(samples: Sequence[QualitySample]) -> dict[str, Any]:
    """Min/mean MOS, worst grade, the share of samples under the minimum."""
    mos = [s.mos for s in samples if s.mos is not None]
    grades = [s.grade for s in samples if s.grade is not None]
    below = [s for s in samples if below_minimum(s.mos, s.grade)]
    return {
        "samples": len(samples),
        "mos_min": min(mos) if mos else None,
        "mos_mean": round(sum(mos) / len(mos), 2) if mos else None,
        "grade_worst": max(grades, key=GRADES.index) if grades else None,
        "below_minimum_ratio": round(len(below) / len(samples), 3) if samples else None,
    }
