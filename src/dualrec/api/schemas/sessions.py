"""Request/response bodies of the customer's self-service session (H5)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CardOut",
    "ChunkAckOut",
    "Clock",
    "ConsentIn",
    "FinishIn",
    "FinishOut",
    "HelpIn",
    "OutcomeIn",
    "PromptIn",
    "SessionNodeOut",
    "SessionOut",
    "SpeechOut",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Clock(_In):
    t: float = Field(
        default=0.0, ge=0, le=24 * 3600, description="页面录像时钟（秒）/ the page's recording clock"
    )


class ConsentIn(Clock):
    agree: bool


class OutcomeIn(Clock):
    kind: Literal["answer", "no_answer", "passed", "failed"]
    text: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=300)


class PromptIn(Clock):
    node_id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000)


class HelpIn(Clock):
    note: str = Field(default="", max_length=300)


class FinishIn(Clock):
    final_seqs: dict[int, int] = Field(
        default_factory=dict, description="分段号 → 最后一个分片号 / segment → its last chunk number"
    )


class SessionNodeOut(BaseModel):
    id: str
    type: str
    title: str
    script: str
    subtitle: str
    answers: list[str]
    retries: int
    timeout_seconds: float
    params: dict[str, Any]


class SessionOut(BaseModel):
    session_id: str
    status: str
    segment: int
    resumed: bool
    ask: int
    reason: str
    recording_id: str | None
    node: SessionNodeOut | None
    nodes: list[dict[str, str]]
    customer: dict[str, str]
    identity: dict[str, Any]
    received: dict[int, list[int]]
    pages_read: dict[str, list[int]]
    documents: list[dict[str, Any]]
    tts_voice: str
    tts_rate: int


class ChunkAckOut(BaseModel):
    segment: int
    seq: int
    sha256: str
    size: int
    duplicate: bool


class SpeechOut(BaseModel):
    session: SessionOut
    transcript: str
    sensitive_words: list[str]


class FinishOut(BaseModel):
    session: SessionOut
    missing: dict[int, list[int]]


class CardOut(BaseModel):
    side: str
    passed: bool
    problems: list[str]
    name_matches: bool | None
    number_matches: bool | None
    number_valid: bool | None
    face_distance: float | None
    session: SessionOut
