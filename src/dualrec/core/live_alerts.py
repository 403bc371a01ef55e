"""Live compliance alerts: what is wrong in the picture, what to say about it, and when.

The live frame analyser reports, per frame, which conditions hold (no face, several faces, a face
that is not the verified customer, camera covered, too dark). A condition becomes an *alert* only
after it lasted ``raise_after_s`` (one missed detection is no reason to nag the customer), is said
again at most every ``repeat_s`` while it lasts, and clears after it has been gone
``clear_after_s``. At 2 frames/s and the default 1 s, a face that leaves the frame is prompted
within 1.5 s of the first frame without it.

Standard library only; times are seconds on the session's clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "ALERT_PRIORITY",
    "AlertCode",
    "AlertDebouncer",
    "AlertEvent",
    "AlertOptions",
]


class AlertCode(StrEnum):
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    NOT_CUSTOMER = "not_customer"
    COVERED = "covered"
    DARK = "dark"

    @property
    def prompt_zh(self) -> str:
        """Short enough to be spoken by TTS and shown on a phone."""
        return _TEXTS[self][0]

    @property
    def prompt_en(self) -> str:
        return _TEXTS[self][1]


_TEXTS: dict[AlertCode, tuple[str, str]] = {
    AlertCode.NO_FACE: ("请将面部移入框内", "Please move your face into the frame"),
    AlertCode.MULTIPLE_FACES: (
        "请确保画面中只有您本人",
        "Please make sure only you are in the picture",
    ),
    AlertCode.NOT_CUSTOMER: ("请由客户本人进行录制", "The recording must be done by the customer in person"),
    AlertCode.COVERED: ("摄像头被遮挡，请移开遮挡物", "The camera is covered; please uncover it"),
    AlertCode.DARK: ("光线太暗，请到明亮处", "It is too dark; please move somewhere brighter"),
}

# When several alerts are active, say the first of these (fixing it often fixes the others:
# a covered camera also shows no face).
ALERT_PRIORITY: tuple[AlertCode, ...] = (
    AlertCode.COVERED,
    AlertCode.DARK,
    AlertCode.NO_FACE,
    AlertCode.MULTIPLE_FACES,
    AlertCode.NOT_CUSTOMER,
)


@dataclass(frozen=True)
class AlertOptions:
    raise_after_s: float = 1.0  # a condition must last this long before it is an alert
    clear_after_s: float = 1.0  # ... and be gone this long before the alert clears
    repeat_s: float = 8.0  # an alert that lasts is said again at most this often


@dataclass(frozen=True)
class AlertEvent:
    """``raised``: say/show the prompt; ``repeated``: say it again; ``cleared``: hide it."""

    code: AlertCode
    kind: Literal["raised", "repeated", "cleared"]
    t: float
    since: float  # when the condition started (raised/repeated) or when it ended (cleared)

    @property
    def prompt_zh(self) -> str:
        return self.code.prompt_zh

    @property
    def prompt_en(self) -> str:
        return self.code.prompt_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "kind": self.kind,
            "t": round(self.t, 3),
            "since": round(self.since, 3),
            "prompt_zh": self.prompt_zh,
            "prompt_en": self.prompt_en,
        }


@dataclass
class _Track:
    since: float | None = None  # the condition holds since (None: it does not hold)
    active: bool = False
    said_at: float = -math.inf
    gone_since: float | None = None  # active, but the condition has not been seen since


class AlertDebouncer:
    """Fed the conditions of each frame in time order; returns the alert events they cause."""

    def __init__(self, options: AlertOptions | None = None) -> None:
        self.options = options or AlertOptions()
        self._tracks: dict[AlertCode, _Track] = {code: _Track() for code in AlertCode}
        self._last_t = -math.inf

    @property
    def active(self) -> tuple[AlertCode, ...]:
        """The active alerts, most important first (``ALERT_PRIORITY``)."""
        return tuple(code for code in ALERT_PRIORITY if self._tracks[code].active)

    def update(self, t: float, present: Iterable[AlertCode | str]) -> list[AlertEvent]:
        """``present``: the conditions that hold in the frame at ``t``. A frame older than the last
        one is taken as happening at the last one's time (the clock never goes back)."""
        if not math.isfinite(t):
            raise ValueError("the frame time must be a finite number")
        t = max(t, self._last_t)
        self._last_t = t
        now = {AlertCode(c) for c in present}
        o = self.options
        events: list[AlertEvent] = []
        for code in ALERT_PRIORITY:
            tr = self._tracks[code]
            if code in now:
                tr.gone_since = None
                if tr.since is None:
                    tr.since = t
                if not tr.active and t - tr.since >= o.raise_after_s:
                    tr.active, tr.said_at = True, t
                    events.append(AlertEvent(code, "raised", t, tr.since))
                elif tr.active and t - tr.said_at >= o.repeat_s:
                    tr.said_at = t
                    events.append(AlertEvent(code, "repeated", t, tr.since))
            elif tr.active:
                if tr.gone_since is None:
                    tr.gone_since = t
                if t - tr.gone_since >= o.clear_after_s:
                    events.append(AlertEvent(code, "cleared", t, tr.gone_since))
                    self._tracks[code] = _Track()
            else:
                tr.since = None  # a condition that did not last long enough starts over
        return events
