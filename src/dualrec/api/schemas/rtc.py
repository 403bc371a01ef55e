"""Bodies of remote interviews (services/rtc): what a participant needs to join its room."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from dualrec.api.schemas.common import StrictModel


class JoinOut(BaseModel):
    role: Literal["agent", "customer"]
    task_id: str
    attempt: int
    room: int
    feed_id: int
    peer_feed_id: int
    display: str
    core_token: str  # Janus session/attach token (expires with the grant)
    room_token: str  # this room only
    expires_at: int  # Unix seconds
    janus_path: str  # the Janus API the page talks to (the app's proxy unless configured)
    ice_servers: list[dict[str, Any]]
    business_no: str = ""
    screen_feed_id: int = 0  # the agent's screen share (both subscribe/publish by it)
    screen_room_token: str = ""  # the agent only: lets it publish the screen feed
    node: str = ""  # the media node (Janus instance) the call runs on (DUALREC_RTC_NODES)
    ice_transport_policy: Literal["all", "relay"] = "all"  # relay: the page sends media via TURN only


class RtcEntryOut(BaseModel):
    human: bool  # the link's customer talks to a human agent (remote interview), not the AI flow
    status: str
    business_type: str
    calls: bool = False  # remote interviews are on: a hand-over continues here with an interviewer


class HangupOut(BaseModel):
    job_id: str


# ---- the queue (SPEC §3.2) and the agent desk ------------------------------------------------------


class CustomerQueueOut(BaseModel):
    status: Literal["none", "waiting", "accepted", "done", "abandoned", "timeout"]
    position: int  # 1 = next; 0 when not waiting
    eta_seconds: int  # estimated wait
    agents_online: int  # free interviewers of this customer's skill group now
    reason: str = ""


class QueueEntryOut(BaseModel):
    id: int
    task_id: str
    attempt: int
    status: str
    source: Literal["routing", "handover"]
    vip_level: int
    skill_group: str
    business_type: str
    enqueued_at: datetime
    accepted_by_name: str
    accepted_at: datetime | None
    summary: dict[str, Any]  # the AI session's hand-over summary (node, reason, last exchange)
    reason: str


class AgentQueueRow(QueueEntryOut):
    position: int
    customer_name: str  # masked
    business_no: str
    product: str
    customer_type: str


class AgentQueueOut(BaseModel):
    entries: list[AgentQueueRow]
    agents_online: int  # taking customers, in the caller's branch scope
    average_handling_seconds: int
    skill_groups: list[str]  # the caller's; empty: every group
    agents_away: int  # online but 示忙
    away_since: datetime | None  # the caller's 示忙; null: taking customers


class AwayIn(StrictModel):
    away: bool  # true: 示忙 (pause taking customers); false: 示闲


class DeskNode(BaseModel):
    id: str
    type: str
    title: str
    script: str
    compliance_points: list[str]  # clauses that must be read
    questions: list[str]  # expected answers


class DeskMark(BaseModel):
    node_id: str
    kind: Literal["start", "end"]
    at: datetime


class DeskOut(BaseModel):
    task: dict[str, Any]  # personal data masked unless the caller holds sensitive:unmask
    entry: QueueEntryOut | None
    nodes: list[DeskNode]
    completed_nodes: list[str]  # passed in the AI session before the hand-over
    proofs: list[dict[str, Any]]  # identity proofs of the AI session (kind, passed, at, …)
    marks: list[DeskMark]


class MarkIn(StrictModel):
    node_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    kind: Literal["start", "end"]


class SkillsIn(StrictModel):
    skill_groups: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=20)]


class SkillsOut(BaseModel):
    user_id: int
    skill_groups: list[str]


# ---- the shared desk (document page + highlights, screen share, signature) -----------------------


class DeskMarkShape(StrictModel):
    """A highlight or an underline as fractions of the page (0..1 from its top-left corner)."""

    kind: Literal["highlight", "underline"]
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(ge=0, le=1)
    h: float = Field(ge=0, le=1)


class DeskEventIn(StrictModel):
    """One change of the shared desk. The interviewer: ``doc.show`` (document, page),
    ``doc.marks`` (document, page, marks: the page's whole set), ``doc.close``, ``screen`` (on),
    ``sign.request`` (document; none when the task has no documents), ``sign.cancel``. The
    customer: ``seen`` (document, page: its page shows it)."""

    kind: str = Field(min_length=1, max_length=24)
    document: int | None = Field(default=None, ge=0, le=100)
    page: int | None = Field(default=None, ge=0, le=10_000)
    marks: list[DeskMarkShape] | None = Field(default=None, max_length=200)
    on: bool | None = None

    def payload(self) -> dict[str, Any]:
        out = self.model_dump(exclude={"kind"}, exclude_none=True)
        return out


class DeskStateOut(BaseModel):
    seq: int
    document: int | None
    page: int
    pages: int
    name: str
    marks: list[dict[str, Any]]
    screen: bool
    sign_request: int | None  # the document to sign (-1: a signature alone)
    sign_name: str  # its name
    signed: list[dict[str, Any]]
    seen: dict[str, Any] | None
