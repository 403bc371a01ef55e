"""Liveness challenge: a random sequence of 2–3 actions (blink / nod / shake), judged on head poses.

The live frame analyser (``pipeline.live``) turns each frame the customer's page streams into a
``PoseSample`` (yaw, pitch in degrees; eye aspect ratio). This module is the pure judgement on top:

- ``LivenessTracker`` watches ONE action for a time budget (default 8 s from its first sample);
  frames without a usable face (``no_face(t)``) only move the clock.
- **nod** / **shake** — an *out-and-back* movement on the action's axis (pitch / yaw): from some
  earlier pose (the start) the head moves at least ``nod_deg`` / ``shake_deg`` away, with the other
  axis moving less (``axis_ratio``), and then comes back at least ``return_fraction`` of the way. A
  shake is one side and back (left or right): both sides are not required, because a single
  excursion is what a 2 frames/s stream reliably catches and both prove the same thing. The start
  is any earlier pose of the attempt, so a customer who starts moving before the first frame
  still passes on the next cycle.
- **blink** — the eye aspect ratio drops below ``blink_closed_ratio`` × the open-eye baseline (the
  median of the earlier samples, adaptive to each face) while the head stays near its pose, then
  recovers above ``blink_open_ratio`` × that baseline. A closed phase lasts 100–300 ms, so blinks
  need more than 2 frames/s: stream 5 or more while a blink is asked.
- A still face never passes anything: every rule needs a change well above landmark noise.
- ``LivenessChallenge`` runs the actions one after another with a retry budget shared by the whole
  challenge (default 2): a failed action is asked again while retries are left.

Standard library only; times are seconds on any monotonic clock (the page's recording clock).
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "Action",
    "ActionResult",
    "LivenessChallenge",
    "LivenessEvent",
    "LivenessOptions",
    "LivenessTracker",
    "PoseSample",
    "State",
    "draw_actions",
]

State = Literal["pending", "passed", "failed"]


class Action(StrEnum):
    BLINK = "blink"
    NOD = "nod"
    SHAKE = "shake"

    @property
    def prompt_zh(self) -> str:
        return _PROMPTS[self][0]

    @property
    def prompt_en(self) -> str:
        return _PROMPTS[self][1]

    @property
    def name_zh(self) -> str:
        return _NAMES[self][0]

    @property
    def name_en(self) -> str:
        return _NAMES[self][1]


_PROMPTS: dict[Action, tuple[str, str]] = {
    Action.BLINK: ("请眨眨眼", "Please blink"),
    Action.NOD: ("请缓慢点头", "Please nod slowly"),
    Action.SHAKE: ("请缓慢摇头", "Please shake your head slowly"),
}
_NAMES: dict[Action, tuple[str, str]] = {
    Action.BLINK: ("眨眼", "blink"),
    Action.NOD: ("点头", "nod"),
    Action.SHAKE: ("摇头", "head shake"),
}


def draw_actions(seed: str, count: int | None = None, *, include_blink: bool = True) -> tuple[Action, ...]:
    """A random sequence of ``count`` (2 or 3; drawn from the seed when None) actions, the same for
    the same seed, never the same action twice in a row. With ``include_blink`` every sequence
    contains a blink: a printed photo can be tilted to fake a nod or a shake, it cannot blink."""
    rng = random.Random(f"dualrec-liveness:{seed}")
    n = rng.choice((2, 3)) if count is None else count
    if n not in (2, 3):
        raise ValueError(f"a liveness challenge has 2 or 3 actions, not {n}")
    actions = list(Action)
    while True:
        seq = [rng.choice(actions)]
        while len(seq) < n:
            seq.append(rng.choice([a for a in actions if a != seq[-1]]))
        if not include_blink or Action.BLINK in seq:
            return tuple(seq)


@dataclass(frozen=True)
class PoseSample:
    """The customer's head in one frame: yaw (+ = turned to the image's right) and pitch (+ = chin
    down) in degrees relative to looking straight at the camera; ``ear`` the eye aspect ratio (mean
    of both eyes, open ≈ 0.25–0.35), None when the eyes could not be measured."""

    t: float
    yaw: float
    pitch: float
    ear: float | None = None


@dataclass(frozen=True)
class LivenessOptions:
    timeout_s: float = 8.0  # per attempt of one action, from its first sample
    nod_deg: float = 10.0  # pitch excursion of a nod
    shake_deg: float = 10.0  # yaw excursion of a shake (one side)
    return_fraction: float = 0.5  # how far back towards the start the head must come
    axis_ratio: float = 1.0  # at the peak, the other axis moved at most this × the action's axis
    smooth_s: float = 0.25  # yaw/pitch are averaged over the samples of this last stretch of time
    blink_closed_ratio: float = 0.6  # EAR below this × the open-eye baseline: eyes closed ...
    blink_noise_sigmas: float = 5.0  # ... and below the baseline by this many × its noise (MAD σ)
    blink_open_ratio: float = 0.85  # ... and above this × the baseline again: reopened
    blink_baseline_samples: int = 2  # earlier samples needed before a closing counts
    blink_max_pose_deg: float = 8.0  # head within this of its usual pose (looking down lowers EAR)
    min_open_ear: float = 0.15  # a baseline below this is no open eye (bad landmarks): no blink
    max_samples: int = 600  # samples kept per attempt (a stream at 30 frames/s for 20 s)


@dataclass(frozen=True)
class ActionResult:
    action: Action
    attempt: int  # 1 for the first try of this action in the challenge
    passed: bool
    seconds: float  # from the attempt's first sample to the decision
    excursion: float  # nod/shake: largest peak-to-peak movement (deg); blink: deepest EAR drop (0..1)
    unit: str  # "deg" | "ear_drop"
    samples: int  # frames with a face
    missed: int  # frames without a usable face
    reason: str = ""  # "中文 / English" when not passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": str(self.action),
            "attempt": self.attempt,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "excursion": round(self.excursion, 3),
            "unit": self.unit,
            "samples": self.samples,
            "missed": self.missed,
            "reason": self.reason,
        }


def _finite(sample: PoseSample) -> bool:
    values = (sample.t, sample.yaw, sample.pitch)
    return all(math.isfinite(v) for v in values) and abs(sample.yaw) <= 90 and abs(sample.pitch) <= 90


@dataclass
class _Start:
    """A candidate start of an out-and-back movement and the farthest point reached after it."""

    main: float
    other: float
    peak_main: float = 0.0  # signed excursion from the start at the peak
    peak_other: float = 0.0


class LivenessTracker:
    """Judges one action; ``feed`` the poses of the frames in time order."""

    def __init__(self, action: Action, options: LivenessOptions | None = None, *, attempt: int = 1) -> None:
        self.action = Action(action)
        self.options = options or LivenessOptions()
        self.attempt = attempt
        self._state: State = "pending"
        self._reason = ""
        self._start: float | None = None
        self._last_t: float | None = None
        self._decided_at: float | None = None
        self._samples = 0
        self._missed = 0
        # nod / shake
        self._recent: list[tuple[float, float, float]] = []  # (t, yaw, pitch) within smooth_s
        self._starts: list[_Start] = []
        self._lo = math.inf
        self._hi = -math.inf
        # blink
        self._ears: list[float] = []
        self._yaws: list[float] = []
        self._pitches: list[float] = []
        self._closed_base: float | None = None
        self._deepest = 0.0

    # ---- reading

    @property
    def state(self) -> State:
        return self._state

    @property
    def reason(self) -> str:
        """Why it failed ("中文 / English"); empty while pending or when passed."""
        return self._reason

    @property
    def excursion(self) -> float:
        if self.action is Action.BLINK:
            return self._deepest
        return self._hi - self._lo if self._hi >= self._lo else 0.0

    def result(self) -> ActionResult:
        end = self._decided_at if self._decided_at is not None else self._last_t
        seconds = (end - self._start) if end is not None and self._start is not None else 0.0
        return ActionResult(
            action=self.action,
            attempt=self.attempt,
            passed=self._state == "passed",
            seconds=seconds,
            excursion=self.excursion,
            unit="ear_drop" if self.action is Action.BLINK else "deg",
            samples=self._samples,
            missed=self._missed,
            reason=self._reason,
        )

    # ---- feeding

    def feed(self, sample: PoseSample) -> None:
        """One frame with the customer's face. Samples after the decision are ignored."""
        if not _finite(sample):
            self.no_face(sample.t)
            return
        if not self._clock(sample.t):
            return
        self._samples += 1
        if self.action is Action.BLINK:
            self._feed_blink(sample)
        else:
            self._feed_turn(sample)
        if self._state == "passed":
            self._decided_at = sample.t

    def no_face(self, t: float) -> None:
        """A frame without a usable face (none, or not analysable); also a plain clock tick."""
        if math.isfinite(t) and self._clock(t):
            self._missed += 1

    def _clock(self, t: float) -> bool:
        """Advance the clock to ``t``; False when the sample must not be judged."""
        if self._state != "pending":
            return False
        if self._start is None:
            self._start = t
        if self._last_t is not None and t < self._last_t:
            return False  # out of order: the page's clock never goes back
        self._last_t = t
        if t - self._start > self.options.timeout_s:
            self._fail(t)
            return False
        return True

    def _fail(self, t: float) -> None:
        self._state = "failed"
        start = t if self._start is None else self._start
        self._decided_at = min(t, start + self.options.timeout_s)
        secs = f"{self.options.timeout_s:g}"
        zh, en = _NAMES[self.action]
        if self._samples == 0:
            self._reason = f"{secs} 秒内未检测到人脸 / no face was seen within {secs} s"
        else:
            self._reason = f"{secs} 秒内未检测到{zh}动作 / no {en} was seen within {secs} s"

    def _feed_turn(self, s: PoseSample) -> None:
        o = self.options
        # landmark jitter is ~0.5–0.8° per frame; at high frame rates it is averaged out over
        # smooth_s (at 2 frames/s there is one sample in the window: nothing is averaged)
        self._recent = [r for r in self._recent if s.t - r[0] < o.smooth_s]
        self._recent.append((s.t, s.yaw, s.pitch))
        yaw = sum(r[1] for r in self._recent) / len(self._recent)
        pitch = sum(r[2] for r in self._recent) / len(self._recent)
        if self.action is Action.NOD:
            main, other, need = pitch, yaw, o.nod_deg
        else:
            main, other, need = yaw, pitch, o.shake_deg
        self._lo, self._hi = min(self._lo, main), max(self._hi, main)
        for start in self._starts:
            d_main, d_other = main - start.main, other - start.other
            if abs(d_main) > abs(start.peak_main):
                start.peak_main, start.peak_other = d_main, d_other
            peak = abs(start.peak_main)
            if (
                peak >= need
                and abs(start.peak_other) <= o.axis_ratio * peak
                # back at least return_fraction of the way, on the start's side of the peak
                and d_main * start.peak_main <= (1 - o.return_fraction) * peak * peak
            ):
                self._state = "passed"
                return
        self._starts.append(_Start(main, other))
        if len(self._starts) > o.max_samples:
            del self._starts[0]

    def _feed_blink(self, s: PoseSample) -> None:
        o = self.options
        if s.ear is None or not math.isfinite(s.ear):
            return
        ear = s.ear
        if self._closed_base is not None:
            if ear >= o.blink_open_ratio * self._closed_base:
                self._state = "passed"
                return
        elif len(self._ears) >= o.blink_baseline_samples:
            base = statistics.median(self._ears)
            sigma = 1.4826 * statistics.median(abs(e - base) for e in self._ears)
            steady = (
                abs(s.yaw - statistics.median(self._yaws)) <= o.blink_max_pose_deg
                and abs(s.pitch - statistics.median(self._pitches)) <= o.blink_max_pose_deg
            )
            if base >= o.min_open_ear and steady:
                self._deepest = max(self._deepest, 1.0 - ear / base)
                if ear < o.blink_closed_ratio * base and base - ear > o.blink_noise_sigmas * sigma:
                    self._closed_base = base
        self._ears.append(ear)
        self._yaws.append(s.yaw)
        self._pitches.append(s.pitch)
        if len(self._ears) > o.max_samples:
            del self._ears[0], self._yaws[0], self._pitches[0]


@dataclass(frozen=True)
class LivenessEvent:
    """What changed with a sample: ``action_passed`` (``next_action`` is asked now),
    ``action_retry`` (the same action is asked again), ``passed`` or ``failed`` (the challenge)."""

    kind: Literal["action_passed", "action_retry", "passed", "failed"]
    result: ActionResult
    next_action: Action | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "result": self.result.to_dict(),
            "next_action": None if self.next_action is None else str(self.next_action),
        }


@dataclass
class LivenessChallenge:
    """2–3 actions asked one by one; a failed action is asked again while retries are left."""

    actions: tuple[Action, ...]
    options: LivenessOptions = field(default_factory=LivenessOptions)
    retries: int = 2

    def __post_init__(self) -> None:
        self.actions = tuple(Action(a) for a in self.actions)
        if not self.actions:
            raise ValueError("a liveness challenge needs at least one action")
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
        self._index = 0
        self._retries_used = 0
        self._attempts: dict[Action, int] = {}
        self._results: list[ActionResult] = []
        self._state: State = "pending"
        self._tracker: LivenessTracker | None = self._new_tracker()

    @classmethod
    def from_seed(
        cls,
        seed: str,
        count: int | None = None,
        options: LivenessOptions | None = None,
        retries: int = 2,
        *,
        include_blink: bool = True,
    ) -> LivenessChallenge:
        actions = draw_actions(seed, count, include_blink=include_blink)
        return cls(actions, options or LivenessOptions(), retries)

    def _new_tracker(self) -> LivenessTracker:
        action = self.actions[self._index]
        self._attempts[action] = self._attempts.get(action, 0) + 1
        return LivenessTracker(action, self.options, attempt=self._attempts[action])

    @property
    def state(self) -> State:
        return self._state

    @property
    def current_action(self) -> Action | None:
        return self._tracker.action if self._tracker is not None else None

    @property
    def retries_left(self) -> int:
        return self.retries - self._retries_used

    @property
    def results(self) -> tuple[ActionResult, ...]:
        """Every decided attempt, in order (failed attempts that were retried included)."""
        return tuple(self._results)

    def feed(self, sample: PoseSample) -> LivenessEvent | None:
        if self._tracker is None:
            return None
        self._tracker.feed(sample)
        return self._after()

    def no_face(self, t: float) -> LivenessEvent | None:
        if self._tracker is None:
            return None
        self._tracker.no_face(t)
        return self._after()

    def _after(self) -> LivenessEvent | None:
        tracker = self._tracker
        assert tracker is not None
        if tracker.state == "pending":
            return None
        result = tracker.result()
        self._results.append(result)
        if result.passed:
            self._index += 1
            if self._index == len(self.actions):
                self._tracker, self._state = None, "passed"
                return LivenessEvent("passed", result)
            self._tracker = self._new_tracker()
            return LivenessEvent("action_passed", result, self._tracker.action)
        if self.retries_left > 0:
            self._retries_used += 1
            self._tracker = self._new_tracker()
            return LivenessEvent("action_retry", result, self._tracker.action)
        self._tracker, self._state = None, "failed"
        return LivenessEvent("failed", result)

    def snapshot(self) -> dict[str, Any]:
        """What survives a restart (JSON): the actions, which are passed, the decided attempts and
        the retries used. The samples of the action being asked are not kept: ``restore`` asks that
        action again from its first frame (its clock restarts)."""
        return {
            "actions": [str(a) for a in self.actions],
            "retries": self.retries,
            "index": self._index,
            "retries_used": self._retries_used,
            "attempts": {str(k): v for k, v in self._attempts.items()},
            "results": [r.to_dict() for r in self._results],
            "state": self._state,
        }

    @classmethod
    def restore(cls, snap: dict[str, Any], options: LivenessOptions | None = None) -> LivenessChallenge:
        """The challenge of ``snapshot()``; ``ValueError`` for a snapshot that does not fit."""
        c = cls(tuple(Action(a) for a in snap["actions"]), options or LivenessOptions(), int(snap["retries"]))
        index, used = int(snap["index"]), int(snap["retries_used"])
        state = snap["state"]
        if (
            not 0 <= index <= len(c.actions)
            or not 0 <= used <= c.retries
            or state not in ("pending", "passed", "failed")
        ):
            raise ValueError("liveness snapshot out of range")
        c._index, c._retries_used, c._state = index, used, state
        c._attempts = {Action(k): int(v) for k, v in dict(snap.get("attempts") or {}).items()}
        c._results = [
            ActionResult(
                action=Action(r["action"]),
                attempt=int(r["attempt"]),
                passed=bool(r["passed"]),
                seconds=float(r["seconds"]),
                excursion=float(r["excursion"]),
                unit=str(r["unit"]),
                samples=int(r["samples"]),
                missed=int(r["missed"]),
                reason=str(r.get("reason", "")),
            )
            for r in snap.get("results") or []
        ]
        if state != "pending" or index == len(c.actions):
            c._tracker = None
        else:  # the interrupted attempt is asked again with the same attempt number
            action = c.actions[index]
            c._tracker = LivenessTracker(action, c.options, attempt=max(1, c._attempts.get(action, 1)))
        return c

    def to_dict(self) -> dict[str, Any]:
        """For markers and the audit trail (JSON-serialisable)."""
        return {
            "actions": [str(a) for a in self.actions],
            "state": self._state,
            "current_action": None if self.current_action is None else str(self.current_action),
            "retries": self.retries,
            "retries_left": self.retries_left,
            "results": [r.to_dict() for r in self._results],
        }
