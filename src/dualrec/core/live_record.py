"""A remote interview's live analysis (subtitles, risk alerts, live face checks) on the composite
recording's timeline. Pure: no I/O.

The live worker stamps what it hears on each party's *audio clock* (seconds of decoded samples
since its forward of that party started: another origin per party, and lost packets shorten it),
and with the wall clock of the packet that closed the speech segment (``spoken_until``). The
composite's t = 0 is the wall clock of the first media packet Janus recorded (``compose.py``),
so an event is placed by wall clock, as the node marks and the quality reports are:

- a subtitle (or the alert it raised) ends where the speech ended: ``spoken_until`` less the
  silence that closed the segment (``close_s``, the segmenter's 600 ms; none for a segment cut at
  its length limit), and starts its spoken length (``t_end − t_start``: only the durations of the
  party's clock are used, never its origin) before that;
- a face alert lies at the time it was stored (the analyser raises a condition after it lasted
  ``raise_after_s``, so the condition began about that long before);
- an acknowledgement lies at its wall clock.

Times are clamped to the recording (0 … duration). The error is the network and decoding delay
between Janus and the worker (tens of milliseconds on one host) plus the VAD's 30 ms frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = [
    "FACE_CODES",
    "SPEECH_CODES",
    "LiveCallRecord",
    "LiveItem",
    "LiveRow",
    "live_record",
    "speech_span",
    "wall_to_recording",
]

SPEECH_CODES = ("sensitive_word", "contradiction")
FACE_CODES = ("no_face", "multiple_faces", "not_customer", "covered", "dark")
CLOSE_S = 0.6  # the segmenter's closing silence (live_rules.Segmenter.close_ms)
MAX_ITEMS = 5000  # a very long call keeps its first items (the rest is counted)


class LiveRow(Protocol):
    """What a stored live event (``rtc_live_events``) offers."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def speaker(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def node_id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def t_start(self) -> float | None: ...
    @property
    def t_end(self) -> float | None: ...
    @property
    def spoken_until(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def details(self) -> Mapping[str, Any] | None: ...
    @property
    def acked_at(self) -> datetime | None: ...
    @property
    def acked_by(self) -> str: ...


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def wall_to_recording(at: datetime, t0: datetime) -> float:
    """Seconds from the composite's start ``t0`` (its first media packet) to the wall clock ``at``."""
    return (_aware(at) - _aware(t0)).total_seconds()


def speech_span(
    t_start: float,
    t_end: float,
    spoken_until: datetime,
    t0: datetime,
    *,
    cut: bool = False,
    close_s: float = CLOSE_S,
) -> tuple[float, float]:
    """(start, end) on the composite of a speech segment the worker stamped ``t_start``–``t_end`` on
    the party's audio clock and closed at the wall clock ``spoken_until``."""
    end = wall_to_recording(spoken_until, t0) - (0.0 if cut else close_s)
    return end - max(0.0, t_end - t_start), end


@dataclass(frozen=True)
class LiveItem:
    """A subtitle or an alert on the recording's timeline."""

    id: int
    kind: str  # subtitle | alert
    speaker: str  # customer | agent
    start: float
    end: float | None = None
    text: str = ""
    code: str = ""  # alert: sensitive_word | contradiction | no_face | multiple_faces | not_customer | …
    node_id: str = ""
    reason: str = ""
    words: tuple[str, ...] = ()
    acked_t: float | None = None  # alert: when the interviewer acknowledged it (recording's seconds)
    acked_by: str = ""

    @property
    def acked(self) -> bool:
        return self.acked_t is not None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["words"] = list(self.words)
        out["acked"] = self.acked
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LiveItem:
        return cls(
            id=int(raw.get("id") or 0),
            kind=str(raw.get("kind") or ""),
            speaker=str(raw.get("speaker") or ""),
            start=float(raw.get("start") or 0.0),
            end=None if raw.get("end") is None else float(raw["end"]),
            text=str(raw.get("text") or ""),
            code=str(raw.get("code") or ""),
            node_id=str(raw.get("node_id") or ""),
            reason=str(raw.get("reason") or ""),
            words=tuple(str(w) for w in raw.get("words") or ()),
            acked_t=None if raw.get("acked_t") is None else float(raw["acked_t"]),
            acked_by=str(raw.get("acked_by") or ""),
        )


@dataclass(frozen=True)
class LiveCallRecord:
    """What the live analysis left of a call, on its recording's timeline: the subtitles and the
    alerts, and what the worker said about itself (the speech recogniser or the face engine
    missing, whether a verified face was compared, segments it dropped)."""

    items: tuple[LiveItem, ...] = ()
    duration: float = 0.0
    asr_available: bool = True
    faces_available: bool = True
    video_decoded: bool = True  # False: the customer's video arrived but could not be decoded live
    identity_reference: bool = False  # the customer's face was compared with the one verified before
    segments_dropped: int = 0  # speech the recogniser had no time for (no subtitle, no alert)
    truncated: int = 0  # items beyond MAX_ITEMS left out
    status_seen: bool = False  # the worker ran (it stores its status at the start)

    @property
    def subtitles(self) -> tuple[LiveItem, ...]:
        return tuple(i for i in self.items if i.kind == "subtitle")

    @property
    def alerts(self) -> tuple[LiveItem, ...]:
        return tuple(i for i in self.items if i.kind == "alert")

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [i.to_dict() for i in self.items],
            "duration": self.duration,
            "asr_available": self.asr_available,
            "faces_available": self.faces_available,
            "identity_reference": self.identity_reference,
            "segments_dropped": self.segments_dropped,
            "truncated": self.truncated,
            "status_seen": self.status_seen,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LiveCallRecord:
        return cls(
            items=tuple(LiveItem.from_dict(i) for i in raw.get("items") or () if isinstance(i, Mapping)),
            duration=float(raw.get("duration") or 0.0),
            asr_available=bool(raw.get("asr_available", True)),
            faces_available=bool(raw.get("faces_available", True)),
            identity_reference=bool(raw.get("identity_reference", False)),
            segments_dropped=int(raw.get("segments_dropped") or 0),
            truncated=int(raw.get("truncated") or 0),
            status_seen=bool(raw.get("status_seen", False)),
        )


def _clamp(t: float, duration: float) -> float:
    return round(min(max(0.0, t), duration), 2)


def _speech_key(row: LiveRow) -> tuple[str, float | None, datetime | None]:
    return row.speaker, row.t_start, row.spoken_until


def _item(row: LiveRow, t0: datetime, duration: float, cut_of: Mapping[Any, bool]) -> LiveItem:
    details = dict(row.details or {})
    if row.t_start is not None and row.t_end is not None and row.spoken_until is not None:
        # an alert shares its subtitle's segment (workers before 2026-12-06 did not store "cut"
        # with the alert: the subtitle's flag is used)
        cut = bool(details["cut"]) if "cut" in details else cut_of.get(_speech_key(row), False)
        start, end = speech_span(row.t_start, row.t_end, row.spoken_until, t0, cut=cut)
        span: tuple[float, float | None] = (_clamp(start, duration), _clamp(end, duration))
    else:
        span = (_clamp(wall_to_recording(row.created_at, t0), duration), None)
    words = details.get("words") or ()
    return LiveItem(
        id=int(row.id),
        kind=row.kind,
        speaker=row.speaker,
        start=span[0],
        end=span[1],
        text=row.text,
        code=row.code,
        node_id=row.node_id,
        reason=row.reason,
        words=tuple(str(w) for w in words) if isinstance(words, list | tuple) else (),
        acked_t=None if row.acked_at is None else round(wall_to_recording(row.acked_at, t0), 2),
        acked_by=row.acked_by or "",
    )


def live_record(rows: Iterable[LiveRow], t0: datetime, duration: float) -> LiveCallRecord:
    """The call's stored live events on the recording that starts at ``t0`` and lasts ``duration``.
    The worker's status rows become the record's flags; subtitles and alerts its items, by time."""
    rows = list(rows)
    cut_of = {_speech_key(r): bool((r.details or {}).get("cut")) for r in rows if r.kind == "subtitle"}
    items: list[LiveItem] = []
    asr, faces, reference, seen, video = True, True, False, False, True
    dropped = 0
    for row in rows:
        if row.kind == "status":
            seen = True
            if row.code == "asr_unavailable":
                asr = False
            elif row.code == "faces_unavailable":
                faces = False
            elif row.code == "video_undecodable":
                video = False
            elif row.code == "identity_reference":
                reference = True
            elif row.code == "stats":
                dropped = max(dropped, int((row.details or {}).get("segments_dropped") or 0))
        elif row.kind in ("subtitle", "alert"):
            items.append(_item(row, t0, duration, cut_of))
    items.sort(key=lambda i: (i.start, i.id))
    return LiveCallRecord(
        items=tuple(items[:MAX_ITEMS]),
        duration=round(duration, 2),
        asr_available=asr,
        faces_available=faces,
        video_decoded=video,
        identity_reference=reference,
        segments_dropped=dropped,
        truncated=max(0, len(items) - MAX_ITEMS),
        status_seen=seen,
    )
