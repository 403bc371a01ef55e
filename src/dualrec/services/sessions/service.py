"""The customer's self-service session (H5): consent, the flow node by node, recording chunks,
reconnection within the window, hand-over, and finishing into a recording that goes to QC.

The page only *reports* what happened; the server decides. Answers are matched here (tapped text or
the server's own transcript of the customer's voice), nodes that prove something (identity, pages
read, signature) only pass when the server has the proof, and every transition is an event on the
recording's timeline (打点).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from dualrec.checks.recitation import copy_score, reading_score
from dualrec.core.answers import choices
from dualrec.core.audit import AuditAction
from dualrec.core.flow import Flow, FlowNode
from dualrec.core.flow_engine import (
    Answer,
    Failed,
    FlowState,
    NoAnswer,
    Outcome,
    Passed,
    Scored,
    advance,
    start,
)
from dualrec.core.live_session import (
    MAX_CHUNK_BYTES,
    MAX_SEGMENTS,
    MAX_SEQ,
    OPEN_STATUSES,
    RECONNECT_WINDOW,
    EventKind,
    LiveSession,
    SessionEvent,
    SessionStatus,
    missing_chunks,
    resume_allowed,
    upload_quota,
)
from dualrec.core.node_params import (
    COPY,
    COPY_ACCURACY,
    READ_ALONG,
    READ_ALONG_ACCURACY,
    Willingness,
    min_page_seconds,
    willingness,
)
from dualrec.core.sensitive_words import find_words
from dualrec.core.tasks import Task, TaskStatus, mask_id_number, mask_name, mask_phone
from dualrec.db.repositories.live_sessions import ChunkRecord
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    QuotaExceededError,
)
from dualrec.i18n import msg
from dualrec.jobs.ports import JobQueue
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM
from dualrec.services.common.job_kinds import SESSION_ASSEMBLE_JOB
from dualrec.services.flows.sensitive_words import current_words
from dualrec.services.tasks.service import TaskService
from dualrec.storage.ports import BlobStore

__all__ = [
    "ChunkAck",
    "LiveSessionService",
    "NodeProof",
    "ScoredAttempt",
    "SessionOptions",
    "SessionView",
    "willingness_key",
]

logger = logging.getLogger(__name__)


_FLOW_TO_TASK: dict[str, TaskStatus] = {
    "failed": TaskStatus.FAILED,
    "handover": TaskStatus.HANDOVER,
}


@dataclass(frozen=True)
class SessionOptions:
    reconnect_window: timedelta = RECONNECT_WINDOW
    read_along_threshold: float = READ_ALONG_ACCURACY  # share of the sentence's syllables read correctly
    copy_accuracy: float = COPY_ACCURACY  # share of the sentence's characters copied correctly (抄录)
    copy_min_confidence: float = (
        0.6  # mean OCR confidence below this: the handwriting is not read with confidence
    )
    page_min_seconds: float = 5.0  # a document page is shown this long before it can be confirmed
    tts_voice: Literal["female", "male"] = "female"
    tts_rate: int = 170  # words per minute for the server's speech; the page scales its own voice
    upload_bytes_per_minute: int = 24 * 1024**2  # chunk quota per estimated minute of the flow
    upload_floor_bytes: int = 128 * 1024**2  # plus this much for every attempt
    chunk_retention: timedelta = timedelta(hours=24)  # chunks of ended attempts, unless being assembled


@dataclass(frozen=True)
class ScoredAttempt:
    """One read-along or copy attempt as the server judged it."""

    mode: str
    text: str
    score: float
    accuracy: float
    passed: bool
    review: str = ""  # the node went on marked for human review, with this reason
    retry: str = ""  # why it is asked again (shown to the customer)


def willingness_key(node_id: str) -> str:
    """The key of a willingness node's last scored attempt in the session's proofs."""
    return f"willingness.{node_id}"


@dataclass(frozen=True)
class ChunkAck:
    segment: int
    seq: int
    sha256: str
    size: int
    duplicate: bool


@dataclass(frozen=True)
class SessionView:
    """What the customer's page needs, with the customer's data masked."""

    session_id: str
    status: str
    segment: int
    resumed: bool
    node: FlowNode | None
    ask: int
    reason: str
    flow: Flow
    task: Task
    identity: Mapping[str, Any]
    received: Mapping[int, list[int]]
    pages_read: Mapping[str, list[int]] = field(default_factory=dict)
    recording_id: str | None = None
    tts_voice: str = "female"
    tts_rate: int = 170
    choices: tuple[str, ...] = ()  # the answers the page may offer to tap (all of them, neutral order)
    rule: Willingness | None = None  # a willingness node's rule (read-along / copy / answer)
    accuracy: float | None = None  # the accuracy a read-along / copy must reach
    min_page_seconds: float = 0.0  # a document node: each page shown at least this long

    @property
    def masked_task(self) -> dict[str, str]:
        t = self.task
        return {
            "customer_name": mask_name(t.customer_name),
            "id_number": mask_id_number(t.id_number) if t.id_number else "",
            "phone": mask_phone(t.phone) if t.phone else "",
            "business_type": t.business_type,
            "business_no": t.business_no,
            "product": t.product,
            "amount": t.amount,
        }


class NodeProof:
    """What the server must hold before a node that proves something may pass."""

    @staticmethod
    def missing(node: FlowNode, identity: Mapping[str, Any], documents: int) -> str:
        if node.type == "identity":
            needs = [
                ("liveness", "活体检测 / liveness"),
                ("id_card_front", "身份证人像面 / ID card front"),
                ("id_card_back", "身份证国徽面 / ID card back"),
                ("face_match", "人证比对 / face vs ID photo"),
            ]
            if node.params.get("id_card") is False:
                needs = [needs[0]]
            gaps = [label for key, label in needs if not (identity.get(key) or {}).get("passed")]
            return "、".join(gaps)
        if node.type == "document_display":
            read = identity.get("pages_read", {}) or {}
            for i in range(documents):
                info = read.get(str(i)) or {}
                if not info.get("complete"):
                    return f"文件 {i + 1} 未读完 / document {i + 1} not read to the end"
            return ""
        if node.type == "signing":
            signed = identity.get("signed", {}) or {}
            if documents and len(signed) < documents:
                return "文件未签署 / documents not signed"
            if not documents and not signed:
                return "未签名 / no signature"
            return ""
        return ""


def _now() -> datetime:
    return datetime.now(UTC)


class LiveSessionService:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        blobs: BlobStore,
        tasks: TaskService,
        queue: Callable[[], JobQueue],
        *,
        options: SessionOptions | None = None,
        transcribe: Callable[[bytes], str] | None = None,
    ) -> None:
        self.uows = uows
        self.blobs = blobs
        self.tasks = tasks
        self._queue = queue
        self.options = options or SessionOptions()
        self._transcribe = transcribe  # WAV bytes → text (the server's ASR); None: voice answers off

    # ---- loading -------------------------------------------------------------------------------

    def _entry(self, token: str) -> tuple[Task, Flow]:
        try:
            return self.tasks.resolve_entry(token, allow_finished=True)
        except NotFoundError as exc:  # pragma: no cover - resolve_entry raises AuthenticationError
            raise AuthenticationError(str(exc)) from exc

    @contextmanager
    def _locked(
        self, token: str, *, touch: bool = True
    ) -> Iterator[tuple[UnitOfWork, Task, Flow, LiveSession]]:
        """The session of ``token`` locked for update; expired on the way when it was gone too long."""
        task, flow = self._entry(token)
        with self.uows() as uow:
            s = uow.live_sessions.for_attempt(task.id, task.attempt_no, for_update=True)
            if s is None:
                raise ConflictError(msg("sessions.session_started"), details={"session_status": "none"})
            now = _now()
            if (
                s.open
                and s.status != SessionStatus.CONSENT
                and not resume_allowed(s.last_seen_at, now, self.options.reconnect_window)
            ):
                self._expire(uow, s, now)
                uow.commit()
                raise ConflictError(
                    msg("sessions.session_expired_away_more_than"),
                    details={"session_status": SessionStatus.EXPIRED},
                )
            if touch:
                s = replace(s, last_seen_at=now)
            yield uow, task, flow, s

    def _view(
        self, uow: UnitOfWork, task: Task, flow: Flow, s: LiveSession, *, resumed: bool = False
    ) -> SessionView:
        received: dict[int, list[int]] = {}
        for c in uow.live_sessions.chunks(s.id):
            received.setdefault(c.segment, []).append(c.seq)
        node = flow.node(s.flow_state.node_id) if s.flow_state.node_id else None
        rule = None
        offered: list[str] = []
        if node is not None and node.needs_answer:
            try:
                rule = _rule(node) if node.type == "willingness" else None
                offered = self._choices(node, s)
            except ConflictError:  # a flow published with a bad mode: nothing to tap, help only
                pass
        return SessionView(
            session_id=s.id,
            status=s.status,
            segment=s.segment,
            resumed=resumed,
            node=node,
            ask=s.flow_state.ask,
            reason=s.reason or s.flow_state.reason,
            flow=flow,
            task=task,
            identity=_public_identity(s.identity),
            received=received,
            pages_read={k: v.get("pages", []) for k, v in (s.identity.get("pages_read") or {}).items()},
            recording_id=s.recording_id,
            tts_voice=self.options.tts_voice,
            tts_rate=self.options.tts_rate,
            choices=tuple(offered),
            rule=rule,
            accuracy=self._accuracy(rule) if rule is not None and rule.scored else None,
            min_page_seconds=self._page_seconds(node) if node is not None else 0.0,
        )

    def _accuracy(self, rule: Willingness) -> float:
        if rule.accuracy is not None:
            return rule.accuracy
        return self.options.copy_accuracy if rule.mode == COPY else self.options.read_along_threshold

    def _page_seconds(self, node: FlowNode) -> float:
        if node.type != "document_display":
            return 0.0
        own = min_page_seconds(node)
        return self.options.page_min_seconds if own is None else own

    @staticmethod
    def _choices(node: FlowNode, s: LiveSession) -> list[str]:
        """Every answer the customer may tap at ``node``, in a neutral order (never the expected
        answer alone); none at a read-along or copy node, which is passed only by its score."""
        if node.type == "willingness" and _rule(node).scored:
            return []
        return choices([a.text for a in node.expected_answers], f"{s.id}:{node.id}:{s.flow_state.ask}")

    def _event(
        self, uow: UnitOfWork, s: LiveSession, kind: str, t: float, node_id: str = "", **data: Any
    ) -> None:
        uow.live_sessions.add_event(
            s.id, SessionEvent(kind, s.segment, max(0.0, float(t)), node_id, data), _now()
        )

    # ---- lifecycle -----------------------------------------------------------------------------

    def state(self, token: str) -> SessionView:
        """What the page shows on load; creates the session (waiting for consent) on the first visit."""
        task, flow = self._entry(token)
        with self.uows() as uow:
            s = uow.live_sessions.for_attempt(task.id, task.attempt_no, for_update=True)
            now = _now()
            if s is None:
                if task.status not in (TaskStatus.CREATED, TaskStatus.IN_PROGRESS):
                    raise ConflictError(
                        msg("sessions.task", status=task.status),
                        details={"session_status": task.status},
                    )
                s = LiveSession(
                    id=str(uuid.uuid4()),
                    task_id=task.id,
                    attempt_no=task.attempt_no,
                    status=SessionStatus.CONSENT,
                    flow_state=start(flow),
                    segment=0,
                    started_at=now,
                    last_seen_at=now,
                )
                uow.live_sessions.add(s)
                uow.commit()
            elif (
                s.open
                and s.status != SessionStatus.CONSENT
                and not resume_allowed(s.last_seen_at, now, self.options.reconnect_window)
            ):
                s = self._expire(uow, s, now)
                uow.commit()
            return self._view(uow, task, flow, s)

    def consent(self, token: str, *, agree: bool, t: float = 0.0) -> SessionView:
        with self._locked(token) as (uow, task, flow, s):
            if s.status != SessionStatus.CONSENT:
                raise ConflictError(
                    msg("sessions.consent_already_given"), details={"session_status": s.status}
                )
            self._event(uow, s, EventKind.CONSENT, t, agree=agree)
            if not agree:
                s = replace(
                    s,
                    status=SessionStatus.FAILED,
                    reason="客户不同意录音录像 / the customer declined",
                    finished_at=_now(),
                )
                self.tasks.session_transition(
                    uow, task.id, task.attempt_no, TaskStatus.FAILED, reason=s.reason
                )
            else:
                s = replace(s, status=SessionStatus.RUNNING)
                self._event(uow, s, EventKind.SEGMENT_START, t)
                if s.flow_state.node_id:
                    self._event(uow, s, EventKind.NODE_START, t, s.flow_state.node_id)
                self.tasks.session_transition(uow, task.id, task.attempt_no, TaskStatus.IN_PROGRESS)
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s)

    def connect(self, token: str) -> SessionView:
        """The page (re)connected: recording continues as a new segment of the same attempt."""
        with self._locked(token) as (uow, task, flow, s):
            if s.status not in (SessionStatus.RUNNING, SessionStatus.PAUSED):
                return self._view(uow, task, flow, s)
            if s.segment + 1 >= MAX_SEGMENTS:
                raise ConflictError(
                    msg("sessions.too_many_reconnections"), details={"segments": s.segment + 1}
                )
            s = replace(s, segment=s.segment + 1)
            self._event(uow, s, EventKind.SEGMENT_START, 0.0, resumed=True)
            if s.flow_state.node_id:
                self._event(uow, s, EventKind.NODE_START, 0.0, s.flow_state.node_id, resumed=True)
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s, resumed=True)

    def _expire(self, uow: UnitOfWork, s: LiveSession, now: datetime) -> LiveSession:
        s = replace(
            s,
            status=SessionStatus.EXPIRED,
            reason="客户中断超过 15 分钟 / the customer was away longer than the reconnect window",
            finished_at=now,
        )
        uow.live_sessions.save(s)
        self.tasks.session_transition(uow, s.task_id, s.attempt_no, TaskStatus.EXPIRED, reason=s.reason)
        return s

    def sweep(self, now: datetime | None = None) -> int:
        """Expire sessions whose customer is gone longer than the window (run periodically)."""
        now = now or _now()
        cutoff = now - self.options.reconnect_window
        done = 0
        with self.uows() as uow:
            for s in uow.live_sessions.stale((SessionStatus.RUNNING, SessionStatus.PAUSED), cutoff):
                fresh = uow.live_sessions.get(s.id, for_update=True)
                if (
                    fresh is None
                    or not fresh.open
                    or resume_allowed(fresh.last_seen_at, now, self.options.reconnect_window)
                ):
                    continue
                self._expire(uow, fresh, now)
                done += 1
            uow.commit()
        return done

    def sweep_chunks(self, now: datetime | None = None, limit: int = 100) -> int:
        """Delete the chunk blobs of attempts that ended (expired, failed, handed over, or completed
        and either assembled or never finished) and saw no activity for ``chunk_retention``. An
        assembled recording is the evidence (its own blob, in the ledger); chunks are kept only while
        assembly is pending. Audited per session; returns the sessions swept."""
        now = now or _now()
        cutoff = now - self.options.chunk_retention
        ended = [st for st in SessionStatus if st not in OPEN_STATUSES]
        swept = 0
        with self.uows() as uow:
            candidates = uow.live_sessions.with_chunks(ended, cutoff, limit)
        for session_id in candidates:
            with self.uows() as uow:
                s = uow.live_sessions.get(session_id, for_update=True)
                if (
                    s is None
                    or s.open
                    or s.last_seen_at >= cutoff
                    or (s.identity.get("assembling") and s.recording_id is None)
                ):
                    continue
                removed = uow.live_sessions.delete_chunks(s.id)
                if not removed:
                    continue
                identity = {**s.identity, "chunks_deleted_at": now.isoformat()}
                uow.live_sessions.save(replace(s, identity=identity))
                audit.record(
                    uow,
                    actor=SYSTEM,
                    action=AuditAction.SESSION_CHUNKS_DELETED,
                    target_type="live_session",
                    target_id=s.id,
                    details={
                        "task_id": s.task_id,
                        "attempt": s.attempt_no,
                        "status": s.status,
                        "recording_id": s.recording_id,
                        "chunks": len(removed),
                        "bytes": sum(c.size for c in removed),
                        "last_seen_at": s.last_seen_at.isoformat(),
                    },
                )
                uow.commit()
            for c in removed:  # after the commit: a failure leaves an orphan blob, never a dangling row
                try:
                    self.blobs.delete(c.blob_key)
                except Exception:
                    logger.exception("session %s: chunk blob %s could not be deleted", session_id, c.blob_key)
            swept += 1
        return swept

    # ---- the flow ------------------------------------------------------------------------------

    def _advance(
        self, uow: UnitOfWork, task: Task, flow: Flow, s: LiveSession, outcome: Outcome, t: float
    ) -> LiveSession:
        before = s.flow_state
        after: FlowState = advance(flow, before, outcome)
        node_id = before.node_id or ""
        step = after.steps[-1] if len(after.steps) > len(before.steps) else None
        if step is not None and step.to != "@retry":
            self._event(uow, s, EventKind.NODE_END, t, node_id, result=step.result, to=step.to)
        s = replace(s, flow_state=after)
        if after.status == "running":
            if after.node_id != node_id or (step is not None and step.to != "@retry"):
                self._event(uow, s, EventKind.NODE_START, t, after.node_id or "")
            return s
        if after.status == "completed":
            return replace(s, status=SessionStatus.COMPLETED)
        status = SessionStatus.FAILED if after.status == "failed" else SessionStatus.HANDOVER
        s = replace(s, status=status, reason=after.reason, finished_at=_now())
        result = self._handover_summary(uow, task, flow, s) if status == SessionStatus.HANDOVER else None
        self.tasks.session_transition(
            uow, task.id, task.attempt_no, _FLOW_TO_TASK[after.status], reason=after.reason, result=result
        )
        return s

    def _handover_summary(self, uow: UnitOfWork, task: Task, flow: Flow, s: LiveSession) -> dict[str, Any]:
        """What the interviewer sees in the queue: who, where it stopped, why, the last exchange."""
        exchange = [
            {"kind": e.kind, "node_id": e.node_id, "text": str(e.data.get("text", ""))}
            for e in uow.live_sessions.events(s.id, (EventKind.PROMPT, EventKind.ANSWER))
        ][-6:]
        steps = s.flow_state.steps
        last = steps[-1] if steps else None
        node = flow.node(last.node_id) if last else None
        return {
            "handover": True,
            "node_id": last.node_id if last else "",
            "node_title": (node.title if node else "") or (last.node_id if last else ""),
            "reason": s.reason,
            "last_exchange": exchange,
            "session_id": s.id,
        }

    def _current(self, flow: Flow, s: LiveSession, node_id: str) -> FlowNode:
        if s.status == SessionStatus.PAUSED:
            raise ConflictError(
                msg("sessions.flow_paused_continue_first"),
                details={"session_status": s.status},
            )
        if s.status != SessionStatus.RUNNING or s.flow_state.node_id is None:
            raise ConflictError(
                msg("sessions.session", status=s.status), details={"session_status": s.status}
            )
        if node_id != s.flow_state.node_id:
            raise ConflictError(
                msg("sessions.current_node"),
                details={"current": s.flow_state.node_id, "given": node_id},
            )
        node = flow.node(node_id)
        assert node is not None
        return node

    def report(
        self,
        token: str,
        node_id: str,
        *,
        kind: Literal["answer", "no_answer", "passed", "failed"],
        text: str = "",
        reason: str = "",
        t: float = 0.0,
    ) -> SessionView:
        """The page reports a node's outcome: a tapped answer, silence, or a node done/failed."""
        with self._locked(token) as (uow, task, flow, s):
            node = self._current(flow, s, node_id)
            outcome: Outcome
            if node.needs_answer:
                if kind == "answer":
                    rule = _rule(node) if node.type == "willingness" else None
                    if rule is not None and rule.scored:
                        raise InvalidInputError(
                            msg(
                                "sessions.step_passed_reading_aloud"
                                if rule.mode == READ_ALONG
                                else "sessions.step_passed_copying_by_hand"
                            ),
                            details={"mode": rule.mode},
                        )
                    text = text.strip()[:200]
                    if not text:
                        raise InvalidInputError(msg("sessions.answer_empty"))
                    offered = self._choices(node, s)
                    if text not in offered:
                        raise InvalidInputError(
                            msg("sessions.answer_one_question_s_choices"),
                            details={"choices": offered},
                        )
                    self._event(uow, s, EventKind.ANSWER, t, node_id, text=text, source="tap")
                    outcome = Answer(text)
                elif kind == "no_answer":
                    self._event(uow, s, EventKind.ANSWER, t, node_id, text="", source="timeout")
                    outcome = NoAnswer()
                else:
                    raise InvalidInputError(msg("sessions.node_needs_answer", node_id=node_id, kind=kind))
            elif kind == "passed":
                missing = NodeProof.missing(node, s.identity, len(task.documents))
                if missing:
                    raise ConflictError(
                        msg("sessions.done_yet", missing=missing), details={"missing": missing}
                    )
                outcome = Passed()
            elif kind == "failed":
                outcome = Failed(reason.strip()[:300] or "客户端报告失败 / reported by the page")
            else:
                raise InvalidInputError(msg("sessions.node_takes_passed_failed", node_id=node_id))
            s = self._advance(uow, task, flow, s, outcome, t)
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s)

    def speech_answer(
        self, token: str, node_id: str, wav: bytes, *, t: float = 0.0
    ) -> tuple[SessionView, str, list[str], ScoredAttempt | None]:
        """A spoken answer or read-along: the server transcribes it, checks sensitive words, judges.

        A read-along (``params.mode: read_along``) passes when the transcript holds the sentence's
        syllables in order at ``accuracy``; below it, it is asked again (``retries``), then the
        node's ``on_fail`` applies (hand-over or fail)."""
        if self._transcribe is None:
            raise ConflictError(msg("sessions.speech_recognition_available_server"))
        with self._locked(token) as (uow, task, flow, s):
            node = self._current(flow, s, node_id)
            if node.type == "willingness" and _rule(node).mode == COPY:
                raise ConflictError(msg("sessions.step_passed_copying_sentence_hand"))
        text = self._transcribe(wav).strip()
        words = current_words(self.uows)  # before the session's write transaction (SQLite: one writer)
        with self._locked(token) as (uow, task, flow, s):
            node = self._current(flow, s, node_id)
            hits = sorted({h.word for h in find_words(text, words, skip_negated=True)})
            rule = _rule(node) if node.type == "willingness" else None
            if hits:
                self._event(uow, s, EventKind.ANSWER, t, node_id, text=text, source="voice")
                self._event(uow, s, EventKind.ALERT, t, node_id, code="SENSITIVE_WORD", words=hits, text=text)
                s = replace(s, status=SessionStatus.PAUSED)
                uow.live_sessions.save(s)
                uow.commit()
                return self._view(uow, task, flow, s), text, hits, None
            outcome: Outcome
            attempt: ScoredAttempt | None = None
            heard = wav_level(wav) if not text else None  # why nothing was recognised
            if heard is not None and heard.spoke and rule is not None and rule.mode == READ_ALONG:
                # the microphone had a voice the recogniser made nothing of (a noisy room, a glitchy
                # phone): not silence — the customer is told it was not recognised and reads again
                attempt = ScoredAttempt(
                    READ_ALONG, "", 0.0, self._accuracy(rule), False, retry=_NOT_RECOGNISED
                )
                s = self._scored(uow, s, node_id, attempt, t, source="voice", audio=heard.as_dict())
                outcome = Scored("", False)
            elif heard is not None:
                self._event(
                    uow, s, EventKind.ANSWER, t, node_id, text="", source="voice", audio=heard.as_dict()
                )
                outcome = NoAnswer()
            elif rule is not None and rule.mode == READ_ALONG:
                accuracy = self._accuracy(rule)
                score = reading_score(rule.sentence, text)
                passed = score >= accuracy
                attempt = ScoredAttempt(
                    READ_ALONG,
                    text,
                    round(score, 3),
                    accuracy,
                    passed,
                    retry="" if passed else _retry_reason(READ_ALONG, score, accuracy),
                )
                s = self._scored(uow, s, node_id, attempt, t, source="voice")
                outcome = Scored(text, passed)
            else:
                self._event(uow, s, EventKind.ANSWER, t, node_id, text=text, source="voice")
                outcome = Answer(text)
            s = self._advance(uow, task, flow, s, outcome, t)
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s), text, [], attempt

    def copy_answer(
        self,
        token: str,
        node_id: str,
        *,
        written: str,
        confidence: float | None,
        unreadable: str,
        evidence: Mapping[str, Any],
        t: float = 0.0,
    ) -> tuple[SessionView, ScoredAttempt]:
        """A handwritten copy (抄录) read by OCR: ``written`` the text read, ``confidence`` the OCR's
        mean confidence (None: nothing read), ``unreadable`` why it could not be read at all (the
        engine missing…), ``evidence`` where the image is kept.

        It passes when it was read with confidence (≥ ``copy_min_confidence``) and holds the
        sentence's characters in order at ``accuracy``. Otherwise it is asked again while the node
        has retries; on the last try the node goes on **marked for human review** with the reason
        (handwriting recognition cannot prove a customer wrong, and never passes one silently)."""
        with self._locked(token) as (uow, task, flow, s):
            node = self._current(flow, s, node_id)
            rule = _rule(node) if node.type == "willingness" else None
            if rule is None or rule.mode != COPY:
                raise ConflictError(msg("sessions.current_step_handwritten_copy"))
            accuracy = self._accuracy(rule)
            readable = (
                not unreadable and confidence is not None and confidence >= self.options.copy_min_confidence
            )
            score = copy_score(rule.sentence, written) if written else 0.0
            passed = readable and score >= accuracy
            why = ""
            if not passed:
                why = unreadable or (
                    _retry_reason(COPY, score, accuracy)
                    if readable
                    else "未能识别出文字 / no text could be read"
                    if confidence is None
                    else f"字迹识别置信度不足（{confidence:.2f} < {self.options.copy_min_confidence:.2f}）/ "
                    "the handwriting could not be read with confidence"
                )
            last_try = s.flow_state.ask > node.retries
            review = ""
            if not passed and (last_try or unreadable):
                review = (
                    f"抄录未能自动确认，需人工复核：{why} / the copy could not be confirmed automatically"
                )
            attempt = ScoredAttempt(
                COPY,
                written,
                round(score, 3),
                accuracy,
                passed,
                review=review,
                retry="" if passed or review else why,
            )
            # the answer QC sees in the markers is only a copy read with confidence
            s = self._scored(
                uow,
                s,
                node_id,
                attempt,
                t,
                source="handwriting",
                marker_text=written if readable else "",
                confidence=None if confidence is None else round(confidence, 3),
                **evidence,
            )
            s = self._advance(uow, task, flow, s, Scored(written, passed, review), t)
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s), attempt

    def _scored(
        self,
        uow: UnitOfWork,
        s: LiveSession,
        node_id: str,
        attempt: ScoredAttempt,
        t: float,
        *,
        source: str,
        marker_text: str | None = None,
        **extra: Any,
    ) -> LiveSession:
        """The attempt as an answer event (its text is what the markers give QC) and as the node's
        latest proof in the session (what the page shows: score, accuracy, why it is asked again)."""
        self._event(
            uow,
            s,
            EventKind.ANSWER,
            t,
            node_id,
            text=attempt.text if marker_text is None else marker_text,
            read=attempt.text,
            source=source,
            mode=attempt.mode,
            score=attempt.score,
            accuracy=attempt.accuracy,
            passed=attempt.passed,
            review=attempt.review,
            **extra,
        )
        key = willingness_key(node_id)
        before = s.identity.get(key) or {}
        proof = {
            "mode": attempt.mode,
            "attempts": int(before.get("attempts", 0)) + 1,
            "text": attempt.text,
            "score": attempt.score,
            "accuracy": attempt.accuracy,
            "passed": attempt.passed,
            "review": attempt.review,
            "retry": attempt.retry,
            **{k: v for k, v in extra.items() if k in ("blob_key", "confidence")},
        }
        return replace(s, identity={**s.identity, key: proof})

    def resume_paused(self, token: str, *, t: float = 0.0) -> SessionView:
        with self._locked(token) as (uow, task, flow, s):
            if s.status != SessionStatus.PAUSED:
                raise ConflictError(msg("sessions.flow_paused"), details={"session_status": s.status})
            s = replace(s, status=SessionStatus.RUNNING)
            self._event(uow, s, EventKind.ALERT, t, s.flow_state.node_id or "", code="RESUMED")
            if s.flow_state.node_id:
                self._event(uow, s, EventKind.NODE_START, t, s.flow_state.node_id, again=True)
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s)

    def ask_for_help(self, token: str, *, t: float = 0.0, note: str = "") -> SessionView:
        """The customer asks for a person: the attempt goes to the interviewer queue."""
        with self._locked(token) as (uow, task, flow, s):
            if not s.open:
                raise ConflictError(
                    msg("sessions.session", status=s.status), details={"session_status": s.status}
                )
            node_id = s.flow_state.node_id or ""
            self._event(uow, s, EventKind.ALERT, t, node_id, code="HELP", text=note[:300])
            if node_id:
                self._event(uow, s, EventKind.NODE_END, t, node_id, result="handover", to="@handover")
            s = replace(
                s,
                status=SessionStatus.HANDOVER,
                reason="客户请求人工协助 / the customer asked for help",
                finished_at=_now(),
            )
            summary = self._handover_summary(uow, task, flow, s)
            summary["node_id"] = node_id
            node = flow.node(node_id) if node_id else None
            summary["node_title"] = (node.title if node else "") or node_id
            self.tasks.session_transition(
                uow, task.id, task.attempt_no, TaskStatus.HANDOVER, reason=s.reason, result=summary
            )
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s)

    def note(self, token: str, *, kind: Literal["prompt"], node_id: str, text: str, t: float) -> None:
        """A text the page played or showed (for the markers and the hand-over summary)."""
        with self._locked(token) as (uow, _task, flow, s):
            if s.open and node_id and flow.node(node_id) is not None:
                self._event(uow, s, EventKind.PROMPT, t, node_id, text=text[:2000])
            uow.live_sessions.save(s)
            uow.commit()

    def alert(self, token: str, code: str, t: float, **data: Any) -> None:
        """A compliance alert raised by the live monitor (no face, second face, covered…)."""
        with self._locked(token) as (uow, _task, _flow, s):
            if s.open:
                self._event(uow, s, EventKind.ALERT, t, s.flow_state.node_id or "", code=code, **data)
            uow.live_sessions.save(s)
            uow.commit()

    # ---- proofs recorded by the identity / document / signing steps --------------------------

    def record_proof(
        self, token: str, key: str, value: Mapping[str, Any], *, kind: str, t: float = 0.0
    ) -> SessionView:
        with self._locked(token) as (uow, task, flow, s):
            if not s.open:
                raise ConflictError(
                    msg("sessions.session", status=s.status), details={"session_status": s.status}
                )
            identity = dict(s.identity)
            # when it was proved: the wall clock, and the segment and time in it (the recording's QC
            # places the proof on its timeline: services.sessions.proof)
            identity[key] = {**value, "captured": {"at": _now().isoformat(), "segment": s.segment, "t": t}}
            s = replace(s, identity=identity)
            self._event(
                uow,
                s,
                kind,
                t,
                s.flow_state.node_id or "",
                **{k: v for k, v in value.items() if k != "embedding"},
            )
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s)

    def save_live_state(self, token: str, key: str, value: Mapping[str, Any] | None) -> None:
        """Keep analysis state that must outlive an analysis worker or a ``serve`` process (the
        liveness challenge's snapshot) in the session, without an event; ignored once it ended."""
        with self._locked(token) as (uow, _task, _flow, s):
            if not s.open:
                return
            identity = dict(s.identity)
            if value is None:
                identity.pop(key, None)
            else:
                identity[key] = dict(value)
            uow.live_sessions.save(replace(s, identity=identity))
            uow.commit()

    def update_identity(
        self, token: str, update: Callable[[dict[str, Any]], dict[str, Any]], *, kind: str, t: float = 0.0
    ) -> SessionView:
        """Change the proofs with ``update`` under the session lock (e.g. add a read page)."""
        with self._locked(token) as (uow, task, flow, s):
            if not s.open:
                raise ConflictError(
                    msg("sessions.session", status=s.status), details={"session_status": s.status}
                )
            identity = update(dict(s.identity))
            s = replace(s, identity=identity)
            self._event(uow, s, kind, t, s.flow_state.node_id or "")
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s)

    def confirm_page(self, token: str, index: int, page: int, pages: int, *, t: float = 0.0) -> SessionView:
        """The customer confirmed page ``page`` of document ``index`` as read.

        Pages are confirmed in order, and each only after it was shown for the node's minimum
        reading time (``params.min_page_seconds``, else ``page_min_seconds``), counted on the
        server's clock from the node's start or the previous confirmation: a page cannot lie
        about how long the customer looked at it."""
        with self._locked(token) as (uow, task, flow, s):
            node = flow.node(s.flow_state.node_id or "")
            if s.status != SessionStatus.RUNNING or node is None or node.type != "document_display":
                raise ConflictError(
                    msg("sessions.document_display_step"),
                    details={"session_status": s.status},
                )
            read = dict(s.identity.get("pages_read") or {})
            for i in range(index):  # the documents before this one first
                if not (read.get(str(i)) or {}).get("complete"):
                    raise ConflictError(
                        msg("sessions.read_document_first", value=i + 1), details={"document": i}
                    )
            entry = dict(read.get(str(index)) or {"pages": []})
            done = sorted(set(entry.get("pages", [])))
            if page in done:
                return self._view(uow, task, flow, s)
            expected = next(p for p in range(pages + 1) if p not in done)
            if page != expected:
                raise ConflictError(
                    msg("sessions.pages_read_order_page_next", value=expected + 1),
                    details={"next_page": expected},
                )
            now = _now()
            since = self._page_clock_start(uow, s, node.id)
            minimum = self._page_seconds(node)
            shown = (now - since).total_seconds() if since is not None else minimum
            if shown + 1e-3 < minimum:
                wait = minimum - shown
                raise ConflictError(
                    msg("sessions.read_page_least_s_s", minimum=minimum, wait=wait),
                    details={"min_page_seconds": minimum, "wait_seconds": round(wait, 1)},
                )
            done.append(page)
            read[str(index)] = {
                "pages": sorted(done),
                "complete": len(done) == pages,
                "total": pages,
                "seconds": {**(entry.get("seconds") or {}), str(page): round(shown, 1)},
            }
            identity = {**s.identity, "pages_read": read, "page_confirmed_at": now.isoformat()}
            s = replace(s, identity=identity)
            self._event(
                uow, s, EventKind.PAGE_READ, t, node.id, document=index, page=page, seconds=round(shown, 1)
            )
            uow.live_sessions.save(s)
            uow.commit()
            return self._view(uow, task, flow, s)

    @staticmethod
    def _page_clock_start(uow: UnitOfWork, s: LiveSession, node_id: str) -> datetime | None:
        """When the page now shown appeared: the later of the node's last start (a reconnection
        starts it again) and the last page confirmed."""
        starts = [
            e.at for e in uow.live_sessions.events(s.id, (EventKind.NODE_START,)) if e.node_id == node_id
        ]
        candidates = [a for a in starts[-1:] if a is not None]
        confirmed = s.identity.get("page_confirmed_at")
        if isinstance(confirmed, str):
            candidates.append(datetime.fromisoformat(confirmed))
        return max((_aware(a) for a in candidates), default=None)

    def context(self, token: str) -> tuple[Task, Flow, LiveSession]:
        """The task, flow and session of a link (no lock, no touch) for the live analysers."""
        task, flow = self._entry(token)
        with self.uows() as uow:
            s = uow.live_sessions.for_attempt(task.id, task.attempt_no)
            if s is None:
                raise ConflictError(msg("sessions.session_started"))
            return task, flow, s

    # ---- recording ---------------------------------------------------------------------------

    def put_chunk(self, token: str, segment: int, seq: int, data: bytes, sha256: str) -> ChunkAck:
        """Store one acknowledged piece of the recording; a resend of the same piece is harmless."""
        if not 0 <= segment < MAX_SEGMENTS or not 0 <= seq <= MAX_SEQ:
            raise InvalidInputError(
                msg("sessions.invalid_chunk_number"), details={"segment": segment, "seq": seq}
            )
        if not data:
            raise InvalidInputError(msg("sessions.chunk_empty"))
        if len(data) > MAX_CHUNK_BYTES:
            raise InvalidInputError(
                msg("sessions.chunk_too_large", value=MAX_CHUNK_BYTES // (1024 * 1024)),
                details={"limit": MAX_CHUNK_BYTES},
            )
        digest = hashlib.sha256(data).hexdigest()
        if sha256.lower() != digest:
            raise InvalidInputError(
                msg("sessions.chunk_s_sha_256_does"),
                details={"expected": sha256, "actual": digest},
            )
        with self._locked(token) as (uow, _task, flow, s):
            if s.status in (SessionStatus.CONSENT, SessionStatus.EXPIRED) or s.recording_id is not None:
                raise ConflictError(
                    msg("sessions.session_2", status=s.status),
                    details={"session_status": s.status},
                )
            _refuse_swept(s)
            if segment > s.segment:
                raise ConflictError(msg("sessions.such_segment_yet"), details={"segment": s.segment})
            have = uow.live_sessions.chunk(s.id, segment, seq)
            if have is not None:
                if have.sha256 != digest:
                    raise ConflictError(
                        msg("sessions.different_chunk_number_already_received"),
                        details={"segment": segment, "seq": seq},
                    )
                uow.live_sessions.save(s)
                uow.commit()
                return ChunkAck(segment, seq, digest, len(data), True)
            quota = upload_quota(flow, self.options.upload_bytes_per_minute, self.options.upload_floor_bytes)
            used = uow.live_sessions.chunk_bytes(s.id)
            if used + len(data) > quota:
                raise QuotaExceededError(
                    msg("sessions.attempt_s_recording_reached_limit", value=quota // 1024**2),
                    details={"quota_bytes": quota, "used_bytes": used},
                )
            ref = self.blobs.put(data, content_type="application/octet-stream", max_bytes=MAX_CHUNK_BYTES)
            try:
                uow.live_sessions.add_chunk(
                    s.id, ChunkRecord(segment, seq, ref.size, digest, ref.key), _now()
                )
                uow.live_sessions.save(s)
                uow.commit()
            except Exception:
                self.blobs.delete(ref.key)
                raise
            return ChunkAck(segment, seq, digest, ref.size, False)

    def finish(
        self, token: str, final_seqs: Mapping[int, int], *, t: float = 0.0
    ) -> tuple[SessionView, dict[int, list[int]]]:
        """The page is done (flow ended) and says the last chunk number of its segment(s).

        Missing chunks are listed for the page to send again; when none are missing the recording
        is assembled and handed to QC in the background.
        """
        with self._locked(token) as (uow, task, flow, s):
            if s.open:
                raise ConflictError(msg("sessions.flow_finished"), details={"session_status": s.status})
            if s.recording_id is not None or s.identity.get("assembling"):
                return self._view(uow, task, flow, s), {}
            _refuse_swept(s)
            merged = dict(s.final_seqs)
            for seg, last in final_seqs.items():
                if not 0 <= seg <= s.segment or not 0 <= last <= MAX_SEQ:
                    raise InvalidInputError(msg("sessions.invalid_chunk_numbers"), details={"segment": seg})
                merged[seg] = last
            received: dict[int, list[int]] = {}
            for c in uow.live_sessions.chunks(s.id):
                received.setdefault(c.segment, []).append(c.seq)
            missing = missing_chunks(received, merged)
            s = replace(s, final_seqs=merged)
            if missing:
                uow.live_sessions.save(s)
                uow.commit()
                return self._view(uow, task, flow, s), missing
            self._event(uow, s, EventKind.FINISHED, t)
            s = replace(s, identity={**s.identity, "assembling": True})
            uow.live_sessions.save(s)
            if s.status == SessionStatus.COMPLETED:
                self.tasks.session_transition(uow, task.id, task.attempt_no, TaskStatus.QC)
            uow.commit()
            view = self._view(uow, task, flow, s)
        self._queue().enqueue(SESSION_ASSEMBLE_JOB, {"session_id": s.id}, max_attempts=3)
        return view, {}


def _aware(at: datetime) -> datetime:
    """Database drivers may hand back naive UTC times (SQLite)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _refuse_swept(s: LiveSession) -> None:
    if s.identity.get("chunks_deleted_at"):
        raise ConflictError(
            msg("sessions.attempt_s_recording_chunks_were"),
            details={"session_status": s.status},
        )


_PRIVATE_STATE = frozenset({"liveness_challenge"})  # the live analysis's own state (monitor.py)


def _public_identity(identity: Mapping[str, Any]) -> dict[str, Any]:
    """The proofs as the page may see them (no descriptors, no blob keys)."""
    out: dict[str, Any] = {}
    for key, value in identity.items():
        if key in _PRIVATE_STATE:
            continue
        if isinstance(value, Mapping):
            out[key] = {k: v for k, v in value.items() if k not in ("embedding", "blob_key", "fields")}
        else:
            out[key] = value
    return out


def _rule(node: FlowNode) -> Willingness:
    try:
        return willingness(node)
    except ValueError as exc:
        raise ConflictError(
            msg("sessions.flow_s_parameters_invalid_ask", exc=exc),
            details={"node_id": node.id},
        ) from exc


_NOT_RECOGNISED = (
    "未能识别出您的朗读，请在安静处靠近手机、清晰地再读一次 / your reading could not be recognised: "
    "read it again clearly, close to the phone, somewhere quiet"
)


@dataclass(frozen=True)
class WavLevel:
    """How much sound a spoken answer's WAV holds: its length and the loudest 100 ms (RMS, 0–1)."""

    seconds: float
    peak_rms: float

    @property
    def spoke(self) -> bool:
        """A voice was there (at least 1 s recorded with a 100 ms stretch above quiet-room level)."""
        return self.seconds >= 1.0 and self.peak_rms >= 0.02

    def as_dict(self) -> dict[str, float]:
        return {"seconds": round(self.seconds, 2), "peak_rms": round(self.peak_rms, 4)}


def wav_level(wav: bytes) -> WavLevel:
    """The level of a spoken answer's WAV, decoded as the recogniser decodes it (16 kHz mono);
    audio that does not decode has none."""
    import numpy as np

    from dualrec.media.wav import decode_wav

    try:
        samples, rate = decode_wav(wav)
    except InvalidInputError:
        return WavLevel(0.0, 0.0)
    pcm = np.asarray(samples, dtype=np.float32)
    step = rate // 10
    usable = pcm[: len(pcm) // step * step]
    peak = float(np.sqrt((usable.reshape(-1, step) ** 2).mean(axis=1)).max()) if usable.size else 0.0
    return WavLevel(len(pcm) / rate, peak)


def _retry_reason(mode: str, score: float, accuracy: float) -> str:
    if mode == READ_ALONG:
        return (
            f"朗读准确率 {score:.0%}，需达到 {accuracy:.0%}，请对照文字完整朗读 / read {score:.0%} of the "
            f"sentence, {accuracy:.0%} needed"
        )
    return (
        f"抄写内容与原文一致的比例为 {score:.0%}，需达到 {accuracy:.0%}，请工整地完整抄写 / "
        f"copied {score:.0%} of the sentence, {accuracy:.0%} needed"
    )
