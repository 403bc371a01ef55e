"""The shared desk of a remote interview (issue 17): what the interviewer puts in front of the
customer besides the video — a page of one of the task's documents with highlights and underlines
on it, the screen share switched on or off, a request to sign a document — and the customer's
signature given in the call.

Transport: held requests through dualrec (``GET …/desk/state?after=<seq>&wait=5`` by both pages:
answered as soon as the desk has an event after ``seq``, else after ``wait``), so no extra port,
proxy rule or connection state: the agent authenticates with its console session (and
must be the interviewer who took this attempt's customer), the customer with the attempt's own
link token. Every change is a row of ``rtc_desk_events`` (party, kind, payload, wall-clock time):
both pages derive the same state from them, and after the hang-up the ``rtc.compose`` job lays
them on the recording's timeline (the composite shows the shared page while it was shared, and the
events go into the recording's evidence).

Limits (an interviewer's page that misbehaves must not flood the database or the customer's
phone): at most ``MAX_MARKS`` marks per page, ``MAX_EVENTS`` events per call, ``RATE_PER_SECOND``
events per second per call (burst ``RATE_BURST``). The customer may post only ``seen`` (its page
shows the shared page: proof of display); every other kind is the interviewer's.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dualrec.core.rtc_queue import QueueStatus
from dualrec.core.tasks import Task, TaskStatus, mask_name
from dualrec.db.repositories.rtc import DeskEvent
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from dualrec.i18n import msg
from dualrec.services.common.context import Actor
from dualrec.services.pdf.pages import Watermark, render_page
from dualrec.services.pdf.signature_stamp import signature_ink
from dualrec.services.rtc.signals import ChangeSignals
from dualrec.services.tasks.documents import DocumentRef, read_document, sign_task_document
from dualrec.services.tasks.service import TaskService
from dualrec.storage.ports import BlobStore

__all__ = [
    "AGENT_KINDS",
    "CUSTOMER_KINDS",
    "MAX_EVENTS",
    "MAX_MARKS",
    "DeskShare",
    "DeskState",
    "desk_state",
]

logger = logging.getLogger(__name__)

AGENT_KINDS = frozenset({"doc.show", "doc.marks", "doc.close", "screen", "sign.request", "sign.cancel"})
CUSTOMER_KINDS = frozenset({"seen"})
MAX_MARKS = 50  # per page
MAX_EVENTS = 2000  # per call
RATE_PER_SECOND = 10.0
RATE_BURST = 20.0
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
MARK_KINDS = ("highlight", "underline")


@dataclass
class DeskState:
    """What both pages show, derived from the call's events (``seq``: the last event's id)."""

    seq: int = 0
    document: int | None = None
    page: int = 0
    pages: int = 0
    name: str = ""
    marks: list[dict[str, Any]] = field(default_factory=list)
    screen: bool = False
    sign_request: int | None = None  # the document asked to be signed (-1: a signature alone)
    sign_name: str = ""  # that document's name
    signed: list[dict[str, Any]] = field(default_factory=list)  # name, sha256, document, at
    seen: dict[str, Any] | None = None  # the page the customer's page last confirmed showing


def _documents(task: Task) -> list[DocumentRef]:
    return [DocumentRef.from_dict(d) for d in task.documents]


def desk_state(task: Task, events: list[DeskEvent]) -> DeskState:
    """Replays the events: the page shown and its marks, the screen share, the signature asked."""
    docs = _documents(task)
    s = DeskState()
    for e in events:
        s.seq = e.id
        p = e.payload
        if e.kind == "doc.show":
            s.document, s.page, s.marks = int(p["document"]), int(p["page"]), []
            s.pages, s.name = docs[s.document].pages, docs[s.document].name
        elif e.kind == "doc.marks" and s.document == p.get("document") and s.page == p.get("page"):
            s.marks = list(p.get("marks") or [])
        elif e.kind == "doc.close":
            s.document, s.page, s.pages, s.name, s.marks = None, 0, 0, "", []
        elif e.kind == "screen":
            s.screen = bool(p.get("on"))
        elif e.kind == "sign.request":
            s.sign_request = int(p["document"])
            s.sign_name = docs[s.sign_request].name if s.sign_request >= 0 else ""
        elif e.kind == "sign.cancel":
            s.sign_request, s.sign_name = None, ""
        elif e.kind == "signed":
            s.sign_request, s.sign_name = None, ""
            s.signed.append({k: p.get(k) for k in ("document", "name", "sha256")} | {"at": _iso(e.at)})
        elif e.kind == "seen":
            s.seen = {"document": p.get("document"), "page": p.get("page"), "at": _iso(e.at)}
    return s


def _iso(at: datetime) -> str:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()


class _Rate:
    """A token bucket per call (per process: enough to stop a runaway page)."""

    def __init__(self) -> None:
        self.clock = time.monotonic
        self._buckets: dict[tuple[str, int], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[str, int]) -> bool:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (RATE_BURST, now))
            tokens = min(RATE_BURST, tokens + (now - last) * RATE_PER_SECOND)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 10_000:  # forget idle calls
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}
            return True


class DeskShare:
    def __init__(self, uows: UnitOfWorkFactory, tasks: TaskService, blobs: BlobStore) -> None:
        self._uows = uows
        self._tasks = tasks
        self._blobs = blobs
        self._rate = _Rate()
        self.signals = ChangeSignals()  # the desk changed: the pages' held requests read it

    # ---- who is in the call --------------------------------------------------------------------

    def _agent_call(self, actor: Actor, task_id: str) -> Task:
        task = self._tasks.get(actor=actor, task_id=task_id)  # 404 outside the branch scope
        self._in_call(task, agent_id=actor.id)
        return task

    def _customer_call(self, token: str) -> Task:
        task, _flow = self._tasks.resolve_entry(token)  # forged, expired, superseded: 401
        self._in_call(task, agent_id=None)
        return task

    def _in_call(self, task: Task, *, agent_id: int | None) -> None:
        if task.status not in (TaskStatus.IN_PROGRESS, TaskStatus.HANDOVER, TaskStatus.CREATED):
            raise ConflictError(
                msg("rtc.desk_no_call_status", status=str(task.status)),
                details={"status": task.status},
            )
        with self._uows.read() as uow:
            e = uow.rtc.entry(task.id, task.attempt_no)
        if e is None or e.status != QueueStatus.ACCEPTED:
            raise ConflictError(msg("rtc.desk_no_call"))
        if agent_id is not None and e.accepted_by != agent_id:
            raise ConflictError(msg("rtc.desk_not_in_call"))

    # ---- state ---------------------------------------------------------------------------------

    def agent_state(self, actor: Actor, task_id: str) -> DeskState:
        return self.agent_state_keyed(actor, task_id)[0]

    def customer_state(self, token: str) -> DeskState:
        return self.customer_state_keyed(token)[0]

    def agent_state_keyed(self, actor: Actor, task_id: str) -> tuple[DeskState, tuple[str, int]]:
        """The state and the call it is of (task id, attempt): what a held request waits on."""
        task = self._agent_call(actor, task_id)
        return self._state(task), (task.id, task.attempt_no)

    def customer_state_keyed(self, token: str) -> tuple[DeskState, tuple[str, int]]:
        task = self._customer_call(token)
        return self._state(task), (task.id, task.attempt_no)

    def seq(self, task_id: str, attempt: int) -> int:
        """The call's last desk event id (0: none): one indexed read for a waiting request."""
        with self._uows.read() as uow:
            return uow.rtc.last_desk_event_id(task_id, attempt)

    def _state(self, task: Task) -> DeskState:
        with self._uows.read() as uow:
            events = uow.rtc.desk_events(task.id, task.attempt_no)
        return desk_state(task, events)

    # ---- events --------------------------------------------------------------------------------

    def agent_post(self, actor: Actor, task_id: str, kind: str, payload: dict[str, Any]) -> DeskState:
        if kind not in AGENT_KINDS:
            raise InvalidInputError(msg("rtc.desk_unknown_event"), details={"kind": kind[:24]})
        task = self._agent_call(actor, task_id)
        return self._add(task, "agent", kind, self._checked(task, kind, payload))

    def customer_post(self, token: str, kind: str, payload: dict[str, Any]) -> DeskState:
        if kind not in CUSTOMER_KINDS:
            raise PermissionDeniedError(
                msg("rtc.desk_customer_event_refused"),
                details={"kind": kind[:24]},
            )
        task = self._customer_call(token)
        return self._add(task, "customer", kind, self._checked(task, kind, payload))

    def _checked(self, task: Task, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The event's payload, checked and reduced to the fields its kind has."""
        docs = _documents(task)

        def document(allow_none: bool = False) -> int:
            d = payload.get("document")
            if d is None and allow_none and not docs:
                return -1  # a task without documents: a signature alone, as in self-service
            if not isinstance(d, int) or not 0 <= d < len(docs):
                raise NotFoundError(msg("rtc.desk_no_document"), details={"document": d})
            return d

        def page(d: int) -> int:
            p = payload.get("page")
            if not isinstance(p, int) or not 0 <= p < docs[d].pages:
                raise NotFoundError(msg("rtc.desk_no_page"), details={"pages": docs[d].pages})
            return p

        if kind in ("doc.show", "seen"):
            d = document()
            return {"document": d, "page": page(d)}
        if kind == "doc.marks":
            d = document()
            return {"document": d, "page": page(d), "marks": _marks(payload.get("marks"))}
        if kind == "screen":
            return {"on": bool(payload.get("on"))}
        if kind == "sign.request":
            return {"document": document(allow_none=True)}
        return {}

    def _add(self, task: Task, party: str, kind: str, payload: dict[str, Any]) -> DeskState:
        if not self._rate.take((task.id, task.attempt_no)):
            raise RateLimitedError(msg("rtc.desk_too_fast"))
        with self._uows() as uow:
            events = uow.rtc.desk_events(task.id, task.attempt_no)
            if len(events) >= MAX_EVENTS:
                raise ConflictError(msg("rtc.desk_too_many_events", limit=MAX_EVENTS))
            if kind == "doc.marks":
                now_state = desk_state(task, events)
                if (now_state.document, now_state.page) != (payload["document"], payload["page"]):
                    raise ConflictError(msg("rtc.desk_page_not_shown"))
            events.append(
                uow.rtc.add_desk_event(task.id, task.attempt_no, party, kind, payload, datetime.now(UTC))
            )
            uow.commit()
        self.signals.bump(task.id, task.attempt_no)
        return desk_state(task, events)

    # ---- pages ---------------------------------------------------------------------------------

    def agent_page(self, actor: Actor, task_id: str, index: int, page: int, *, width: int) -> bytes:
        """Any page of the task's documents (the agent chooses what to show); the watermark names
        the customer masked, as the rest of the desk does."""
        task = self._agent_call(actor, task_id)
        return self._render(task, index, page, width=width, name=mask_name(task.customer_name))

    def customer_page(self, token: str, index: int, page: int, *, width: int) -> bytes:
        """Only the page being shown, or the document the customer is asked to sign."""
        task = self._customer_call(token)
        s = self._state(task)
        shown = s.document == index and s.page == page
        if not shown and s.sign_request != index:
            raise PermissionDeniedError(msg("rtc.desk_page_not_shown_to_you"))
        return self._render(task, index, page, width=width, name=task.customer_name)

    def _render(self, task: Task, index: int, page: int, *, width: int, name: str) -> bytes:
        docs = _documents(task)
        if not 0 <= index < len(docs):
            raise NotFoundError(msg("rtc.desk_no_document"), details={"index": index})
        ref = docs[index]
        if not 0 <= page < ref.pages:
            raise NotFoundError(msg("rtc.desk_no_page"), details={"pages": ref.pages})
        mark = Watermark(name, task.business_no, datetime.now(UTC))
        return render_page(read_document(self._blobs, ref), page, width_px=width, watermark=mark)

    # ---- the signature -------------------------------------------------------------------------

    def customer_sign(self, token: str, index: int | None, png: bytes) -> DeskState:
        """The customer signs the document the interviewer asked for: stamped into it and stored as
        self-service does; the signed document is listed with the attempt's result after QC."""
        if len(png) > MAX_SIGNATURE_BYTES:
            raise InvalidInputError(msg("rtc.desk_signature_too_large"))
        task = self._customer_call(token)
        asked = self._state(task).sign_request
        wanted = -1 if index is None else index
        if asked is None or asked != wanted:
            raise ConflictError(msg("rtc.desk_signature_not_asked"))
        now = datetime.now(UTC)
        if wanted == -1:
            signature_ink(png)  # refuses an empty or unreadable signature
            stored = self._blobs.put(png, content_type="image/png")
            record: dict[str, Any] = {
                "name": "signature.png",
                "blob_key": stored.key,
                "sha256": stored.sha256,
            }
        else:
            ref = _documents(task)[wanted]
            signed = sign_task_document(self._blobs, ref, png, signer_name=task.customer_name, signed_at=now)
            record = {"name": signed.name, "blob_key": signed.blob_key, "sha256": signed.sha256}
        with self._uows() as uow:
            if desk_state(task, uow.rtc.desk_events(task.id, task.attempt_no)).sign_request != wanted:
                raise ConflictError(msg("rtc.desk_already_signed"))
            uow.rtc.add_desk_event(
                task.id, task.attempt_no, "customer", "signed", {"document": wanted, **record}, now
            )
            uow.commit()
        self.signals.bump(task.id, task.attempt_no)
        return self._state(task)


def signed_documents(events: list[DeskEvent]) -> list[dict[str, Any]]:
    """The documents the customer signed during the call (name, sha256, blob key), in order."""
    return [
        {
            "name": e.payload.get("name", ""),
            "sha256": e.payload.get("sha256", ""),
            "blob_key": e.payload.get("blob_key", ""),
        }
        for e in events
        if e.kind == "signed" and e.party == "customer"
    ]


def _marks(raw: object) -> list[dict[str, Any]]:
    """Highlights and underlines as fractions of the page (0..1), at most ``MAX_MARKS``."""
    if not isinstance(raw, list):
        raise InvalidInputError(msg("rtc.desk_marks_not_list"))
    if len(raw) > MAX_MARKS:
        raise InvalidInputError(
            msg("rtc.desk_too_many_marks", limit=MAX_MARKS),
            details={"marks": len(raw)},
        )
    out: list[dict[str, Any]] = []
    for m in raw:
        if not isinstance(m, dict) or m.get("kind") not in MARK_KINDS:
            raise InvalidInputError(msg("rtc.desk_mark_kind"))
        box: dict[str, Any] = {"kind": m["kind"]}
        for k in ("x", "y", "w", "h"):
            v = m.get(k)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= float(v) <= 1.0:
                raise InvalidInputError(msg("rtc.desk_mark_off_page"))
            box[k] = round(float(v), 4)
        if box["x"] + box["w"] > 1.0001 or box["y"] + box["h"] > 1.0001:
            raise InvalidInputError(msg("rtc.desk_mark_off_page"))
        out.append(box)
    return out
