"""The check interface: a ``Check`` is a cheap function of a frozen ``CheckContext``.

All heavy analysis (decode, face detection, ASR, OCR) happens once in the pipeline's analysers; the
context carries the results, and each check only reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from dualrec.core.call_quality import CallQuality
from dualrec.core.flow import Flow, Marker
from dualrec.core.idcard import IdCardFields
from dualrec.core.live_proof import LiveProof
from dualrec.core.live_record import LiveCallRecord
from dualrec.core.qc import CheckResult, CheckStatus, Evidence, Finding, Measure, QcTask, Severity
from dualrec.i18n import Message
from dualrec.media.ports import ChatModel, DecodeReport, Image, MediaInfo, TranscriptSegment

__all__ = [
    "Check",
    "CheckContext",
    "FaceObservation",
    "FrameAnalysis",
    "FunctionCheck",
    "NodeSpan",
    "OcrObservation",
    "PortraitCandidate",
    "finding",
    "not_run",
    "result",
]


@dataclass(frozen=True)
class FaceObservation:
    box: tuple[int, int, int, int]  # in the analysed frame's pixels
    area_ratio: float  # face area / frame area
    embedding: tuple[float, ...] | None = None  # 128-D when computed for this frame
    frontal: float = 1.0  # 0..1, 1 = looking straight at the camera (1 when unknown)
    eyes_open: bool = True


@dataclass(frozen=True)
class FrameAnalysis:
    t: float
    luma: float  # mean 0..255
    contrast: float  # std of luma 0..255
    motion: float | None  # mean |Δluma| to the previous sample; None for the first
    faces: tuple[FaceObservation, ...] | None = None  # None: face detection not run on this frame

    def is_dark_or_covered(self, luma_max: float, contrast_max: float) -> bool:
        return self.luma < luma_max or self.contrast < contrast_max


@dataclass(frozen=True)
class NodeSpan:
    node_id: str
    node_type: str
    start: float
    end: float
    inferred: bool  # True: aligned from the transcript; False: from markers
    score: float = 1.0


@dataclass(frozen=True)
class OcrObservation:
    t: float
    lines: tuple[str, ...]
    fields: IdCardFields
    confidence: float | None = None  # the OCR engine's mean score for these lines; None: not given


@dataclass(frozen=True)
class PortraitCandidate:
    t: float
    score: float
    image: Image = field(compare=False, repr=False)
    face: int = 0  # which face of the frame's faces (FrameAnalysis.faces at ``t``) it shows


@dataclass(frozen=True)
class CheckContext:
    path: str
    task: QcTask = field(default_factory=QcTask)
    info: MediaInfo | None = None
    probe_error: str | None = None
    video: DecodeReport | None = None
    video_error: str | None = None
    audio: DecodeReport | None = None
    audio_error: str | None = None
    frames: tuple[FrameAnalysis, ...] = ()
    frame_interval: float = 0.5
    levels: tuple[float, ...] = ()  # dBFS per level_window
    level_window: float = 0.5
    speech: tuple[tuple[float, float], ...] = ()
    transcript: tuple[TranscriptSegment, ...] | None = None  # Mandarin only
    other_language: tuple[TranscriptSegment, ...] = ()  # heard, but not in Mandarin
    asr_error: str | None = None
    faces_error: str | None = None
    flow: Flow | None = None
    markers: tuple[Marker, ...] = ()
    nodes: tuple[NodeSpan, ...] = ()
    id_photo: tuple[float, ...] | None = None
    id_photo_error: str | None = "未提供身份证照片 / no ID photo supplied"
    ocr: tuple[OcrObservation, ...] | None = None
    ocr_error: str | None = None
    portrait: PortraitCandidate | None = None  # the best of the largest face's
    # the best of each of the largest faces (``face`` 0, 1, …): the portrait check keeps the customer's
    portraits: tuple[PortraitCandidate, ...] = ()
    sensitive_words: tuple[str, ...] = ()
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # input (as in CheckSpec.needs: probe, video, audio, faces, asr, ocr, id_photo) → the
    # engine error that spoiled it. A check that needs such an input ends ``error`` (the pipeline
    # sees to it): an engine error is never a finding against the recording.
    engine_errors: Mapping[str, str] = field(default_factory=dict)
    # what a self-service session proved live (None for other recordings): the identity node's
    # result; the recording is checked against the face verified live (``live_face``, from the
    # liveness frame); the images (liveness frame, card sides) are the report's evidence
    live_proof: LiveProof | None = None
    live_face: tuple[float, ...] | None = None
    live_face_error: str | None = None
    live_images: Mapping[str, Image] = field(default_factory=dict, compare=False, repr=False)
    # the LLM checker's model (None: not configured) and, for a check that runs after the others
    # (``after_others``), their results
    llm: ChatModel | None = field(default=None, compare=False, repr=False)
    prior_results: tuple[CheckResult, ...] = ()
    # a remote interview's call quality (what both browsers received, on the recording's timeline)
    # and the gaps of the server's recording; None for other recordings
    call_quality: CallQuality | None = None
    # a remote interview's live analysis (subtitles and alerts raised during the call, whether the
    # interviewer acknowledged them), on the recording's timeline; None for other recordings
    live_call: LiveCallRecord | None = None

    def threshold(self, check_id: str, name: str) -> float:
        return self.thresholds[check_id][name]

    @property
    def duration(self) -> float:
        candidates = [
            self.video.last_pts if self.video else None,
            self.audio.last_pts if self.audio else None,
            self.info.duration if self.info else None,
        ]
        return max((c for c in candidates if c is not None), default=0.0)

    @property
    def mode(self) -> str:
        return self.task.mode or (self.flow.mode if self.flow else "self_service")

    def node_at(self, t: float | None) -> str | None:
        if t is None:
            return None
        for span in self.nodes:
            if span.start <= t < span.end:
                return span.node_id
        return None


@runtime_checkable
class Check(Protocol):
    @property
    def id(self) -> str: ...

    def run(self, ctx: CheckContext) -> CheckResult: ...


@dataclass(frozen=True)
class FunctionCheck:
    """A check made of an id and a plain function (how the built-ins are written)."""

    id: str
    fn: Callable[[CheckContext], CheckResult]
    # None: always in the report; otherwise the check is left out of a report it does not apply to
    # (e.g. call quality of a recording that is no remote-interview call)
    applies: Callable[[CheckContext], bool] | None = None

    def run(self, ctx: CheckContext) -> CheckResult:
        return self.fn(ctx)

    def enabled(self, ctx: CheckContext) -> bool:
        return self.applies is None or self.applies(ctx)


def not_run(check_id: str, reason: str) -> CheckResult:
    return CheckResult(check_id, CheckStatus.NOT_RUN, reason=reason)


def finding(
    ctx: CheckContext,
    check_id: str,
    severity: Severity,
    message: str | Message,
    *,
    start: float | None = None,
    end: float | None = None,
    frame_time: float | None = None,
    quote: str | None = None,
    quote_start: float | None = None,
    quote_end: float | None = None,
    node_id: str | None = None,
    confidence: float | None = None,
    measure: Measure | None = None,
) -> Finding:
    """A finding attributed to the node it happened in (by its start time when not given)."""
    return Finding(
        check_id=check_id,
        severity=severity,
        message=str(message),
        key=message.key if isinstance(message, Message) else None,
        params=dict(message.params) if isinstance(message, Message) else {},
        start=None if start is None else round(start, 2),
        end=None if end is None else round(end, 2),
        node_id=node_id or ctx.node_at(start if start is not None else quote_start),
        evidence=Evidence(
            frame_time=None if frame_time is None else round(frame_time, 2),
            quote=quote,
            quote_start=None if quote_start is None else round(quote_start, 2),
            quote_end=None if quote_end is None else round(quote_end, 2),
        ),
        confidence=confidence,
        measure=measure,
    )


def result(
    check_id: str,
    findings: list[Finding],
    metrics: Mapping[str, object] | None = None,
    *,
    confidence: float | None = None,
) -> CheckResult:
    status = (
        CheckStatus.FAILED if any(f.severity is not Severity.INFO for f in findings) else CheckStatus.PASSED
    )
    return CheckResult(check_id, status, tuple(findings), metrics=metrics or {}, confidence=confidence)
