"""Bodies of the call-quality reports (services/rtc/quality.py): bounded numbers only, nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_REPORT_BYTES = 4096  # a report is ~400 bytes of JSON


class QualityReportIn(BaseModel):
    """What this browser received over the last interval (getStats deltas), and what it sends."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    width: int = Field(0, ge=0, le=8192)
    height: int = Field(0, ge=0, le=8192)
    fps: float = Field(0, ge=0, le=240)
    video_kbps: float = Field(0, ge=0, le=100_000)
    audio_kbps: float = Field(0, ge=0, le=10_000)
    loss_pct: float = Field(0, ge=0, le=100, description="audio packets lost / expected, %")
    video_loss_pct: float = Field(0, ge=0, le=100)
    jitter_ms: float = Field(0, ge=0, le=60_000, description="audio inter-arrival jitter")
    jitter_buffer_ms: float | None = Field(None, ge=0, le=60_000)
    rtt_ms: float = Field(0, ge=0, le=60_000, description="round-trip time to the media server")
    freezes: int = Field(0, ge=0, le=1000)
    freeze_s: float = Field(0, ge=0, le=3600)
    concealed_pct: float = Field(0, ge=0, le=100, description="audio samples concealed, %")
    send_width: int = Field(0, ge=0, le=8192)
    send_height: int = Field(0, ge=0, le=8192)
    send_fps: float = Field(0, ge=0, le=240)
    limitation: Literal["", "none", "cpu", "bandwidth", "other"] = ""
    has_audio: bool = True
    has_video: bool = True


class QualityScoreOut(BaseModel):
    role: str
    at: datetime
    mos: float | None  # audio MOS estimate 1..4.5 (E-model)
    grade: str | None  # video grade A..F
    below: list[str]  # what is under the SPEC §8 minimum: audio, video
    width: int
    height: int
    fps: float
    loss_pct: float
    jitter_ms: float
    rtt_ms: float
    video_kbps: float
    audio_kbps: float
    freezes: int
    concealed_pct: float


class QualityReportOut(BaseModel):
    own: QualityScoreOut  # this report, scored
    peer: QualityScoreOut | None  # the other party's last report (within 10 s)
    min_mos: float  # the alarm thresholds (SPEC §8 weak-network minimum)
    min_grade: str


class ServerViewOut(BaseModel):
    """Janus' own view of one party (服务器视角 / server view): what the server received from the
    party's browser — the recording's input — and what it sent to it, over the last interval."""

    party: str
    at: datetime
    audio_kbps: float
    video_kbps: float
    loss_pct: float  # audio packets lost on the way to Janus
    video_loss_pct: float
    jitter_ms: float  # of the party's audio as Janus received it
    rtt_ms: float
    details: dict[str, Any]  # per direction and medium: packets, lost, NACKs, retransmissions, kbit/s


class QualityLatestOut(BaseModel):
    parties: list[QualityScoreOut]
    min_mos: float
    min_grade: str
    server: list[ServerViewOut] = []
