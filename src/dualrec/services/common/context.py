"""Values every use case receives: who is acting and from where."""

from __future__ import annotations

from dataclasses import dataclass

from dualrec.core.identity import Principal

__all__ = ["Actor", "RequestMeta"]


@dataclass(frozen=True)
class RequestMeta:
    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


@dataclass(frozen=True)
class Actor:
    principal: Principal | None
    meta: RequestMeta

    @property
    def name(self) -> str:
        return self.principal.name if self.principal else "anonymous"

    @property
    def id(self) -> int | None:
        return self.principal.id if self.principal and self.principal.kind == "user" else None


SYSTEM = Actor(principal=None, meta=RequestMeta(ip="", user_agent="system"))
