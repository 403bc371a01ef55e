"""What a QC run is given: the engines, the request (file, task, flow, markers…) and the options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dualrec.core.call_quality import CallQuality
from dualrec.core.flow import Flow, Marker
from dualrec.core.live_proof import LiveProof
from dualrec.core.live_record import LiveCallRecord
from dualrec.core.qc import QcTask
from dualrec.core.sensitive_words import DEFAULT_SENSITIVE_WORDS
from dualrec.media.ports import (
    AudioSource,
    ChatModel,
    FaceAnalyzer,
    FrameSource,
    Image,
    MediaProbe,
    SpeechRecognizer,
    TextRecognizer,
    VoiceActivityDetector,
)
from dualrec.pipeline.visual import VisualOptions

__all__ = ["QcEngines", "QcOptions", "QcRequest"]


@dataclass(frozen=True)
class QcEngines:
    probe: MediaProbe
    frames: FrameSource
    audio: AudioSource
    asr: SpeechRecognizer | None = None
    vad: VoiceActivityDetector | None = None
    faces: FaceAnalyzer | None = None
    ocr: TextRecognizer | None = None
    unavailable: Mapping[str, str] = field(default_factory=dict)  # engine → why it is None
    llm: ChatModel | None = None  # the LLM checker's model (DUALREC_QC_LLM_URL); None: off
    # checks the operator requires of every recording (check id → why), beside the flow's
    required: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QcRequest:
    path: Path
    task: QcTask = field(default_factory=QcTask)
    flow: Flow | None = None
    markers: tuple[Marker, ...] = ()
    id_photo: Image | None = None
    # a self-service session's proof (the identity node's result) and its images by name:
    # "liveness" (the challenge's frame), "front" and "back" (the card's sides)
    live_proof: LiveProof | None = None
    live_images: Mapping[str, Image] = field(default_factory=dict)
    # a remote interview's call-quality series and recording gaps (None for other recordings)
    call_quality: CallQuality | None = None
    # a remote interview's live analysis (subtitles, alerts on the recording's timeline; None for others)
    live_call: LiveCallRecord | None = None
    sensitive_words: tuple[str, ...] = DEFAULT_SENSITIVE_WORDS
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class QcOptions:
    visual: VisualOptions = field(default_factory=VisualOptions)
    level_window: float = 0.5
    sample_rate: int = 16000
    language: str = "zh"
    asr_chunk_seconds: float = 15.0  # transcribe speech in chunks of at most this span (0: all at once)
    # chunks transcribed at a time: the recogniser must take calls from several threads (the
    # faster-whisper adapter runs WhisperOptions.workers at once); 1 for one that cannot
    asr_parallel: int = 2
    fail_score: int = 60
    max_evidence_per_check: int = 8
    keyframes: int = 6
