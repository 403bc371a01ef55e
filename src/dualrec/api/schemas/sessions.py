"""Request/response bodies of the customer's self-service session (H5)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CardOut",
    "ChunkAckOut",
    "Clock",
    "ConsentIn",
    "CopyOut",
    "FinishIn",
    "FinishOut",
    "HelpIn",
    "OutcomeIn",
    "PromptIn",
    "ScoredOut",
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
    choices: list[str] = Field(
        description="可点选的回答（全部选项，顺序随机）；跟读/抄录环节为空 / the answers the customer may "
        "tap (every option, neutral order); empty where the node is passed only by reading or copying"
    )
    mode: Literal["answer", "read_along", "copy", ""] = Field(
        description="意愿确认方式 / how a willingness node is confirmed (empty for other nodes)"
    )
    sentence: str = Field(description="跟读/抄录的文字 / the sentence to read aloud or copy")
    accuracy: float | None = Field(description="跟读/抄录需达到的准确率 / the accuracy the server requires")
    min_page_seconds: float = Field(description="文件每页最少阅读秒数 / minimum seconds per document page")
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


class ScoredOut(BaseModel):
    """A read-along or copy attempt as the server judged it."""

    mode: str
    text: str = Field(description="听到/识别到的文字 / what was heard or read")
    score: float
    accuracy: float
    passed: bool
    review: str = Field(description="转人工复核的原因（流程继续）/ marked for human review, why")
    retry: str = Field(description="需要重做的原因 / why it is asked again")


class SpeechOut(BaseModel):
    session: SessionOut
    transcript: str
    sensitive_words: list[str]
    attempt: ScoredOut | None = None


class CopyOut(BaseModel):
    session: SessionOut
    attempt: ScoredOut


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
