"""Bodies of remote interviews (services/rtc): what a participant needs to join its room."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


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


class RtcEntryOut(BaseModel):
    human: bool  # the link's customer talks to a human agent (remote interview), not the AI flow
    status: str
    business_type: str


class HangupOut(BaseModel):
    job_id: str
