"""Recording tasks for business systems: create (idempotent), status, reset (双录重置), cancel, links.

The interview mode and flow come from the routing rules; the task keeps the flow version that was
current when it was created. Each attempt stores its question draw (seed + codes + pool digest +
the questions as asked) so it can be replayed for audit. The customer entry link carries a signed,
expiring token; nothing secret is stored for it. Status changes queue signed webhooks (outbox) in
the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from dualrec.core.audit import AuditAction
from dualrec.core.branches import in_scope
from dualrec.core.flow import Flow, flow_to_dict, parse_flow
from dualrec.core.idcard import is_valid_id_number, normalize_id_number
from dualrec.core.outbound import url_problem
from dualrec.core.questions import RISK_LEVELS, attempt_flow, draw_questions
from dualrec.core.routing import select_route
from dualrec.core.tasks import (
    FINAL_STATUSES,
    AttemptStatus,
    EntryToken,
    Task,
    TaskStatus,
    sign_entry_token,
    verify_entry_token,
)
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.common.scope import branch_in_scope
from dualrec.services.common.secretbox import SecretBox
from dualrec.services.question_banks import service as question_banks
from dualrec.services.tasks import webhooks
from dualrec.services.tasks.documents import DocumentRef, prepare_task_documents
from dualrec.storage.ports import BlobStore

__all__ = [
    "ACCEPTS_RECORDING",
    "CreatedTask",
    "RecordingTarget",
    "TaskRequest",
    "TaskService",
    "attempt_flow",
]

_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")
_AMOUNT = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,4})?$")


@dataclass(frozen=True)
class TaskRequest:
    customer_id: str
    customer_name: str
    id_number: str
    customer_type: str
    risk_level: str
    business_type: str
    business_no: str
    phone: str = ""
    contract_no: str = ""
    product: str = ""
    amount: str = ""
    documents: list[dict[str, Any]] = field(default_factory=list)
    callback_url: str = ""
    branch_id: int | None = None  # console users may pick a branch in their subtree

    def digest(self) -> str:
        body = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedTask:
    task: Task
    entry_url: str
    entry_expires_at: datetime
    replayed: bool = False  # the same idempotency key and body were seen before


@dataclass(frozen=True)
class RecordingTarget:
    """The task attempt a console upload is for: what its QC needs (the task's data and the attempt's
    flow) and where the recording belongs."""

    task_id: str
    attempt: int
    branch_id: int
    mode: str
    qc_task: dict[str, Any]  # the QC task fields (recordings.QcInputs.task)
    flow: dict[str, Any]  # the attempt's flow, drawn questions expanded (core.flow.flow_to_dict)


# a recording made outside a self-service session may be attached while the task waits for one:
# not started yet, or handed over to staff by the self-service flow
ACCEPTS_RECORDING = frozenset({TaskStatus.CREATED, TaskStatus.HANDOVER})


def _source_key(actor: Actor) -> str:
    assert actor.principal is not None
    p = actor.principal
    return p.name.split(":", 1)[1] if p.kind == "api_key" else f"user:{p.id}"


def _validate(req: TaskRequest) -> TaskRequest:
    problems: dict[str, str] = {}
    number = normalize_id_number(req.id_number)
    if not is_valid_id_number(number):
        problems["id_number"] = "身份证号码无效（校验位不符）/ invalid ID number (GB 11643 check digit)"
    if req.risk_level not in RISK_LEVELS:
        problems["risk_level"] = (
            f"风险等级须为 {'/'.join(RISK_LEVELS)} / risk level must be one of {RISK_LEVELS}"
        )
    if req.phone and not _PHONE.match(req.phone):
        problems["phone"] = "手机号格式不正确 / invalid phone number"
    if req.amount and not _AMOUNT.match(req.amount):
        problems["amount"] = "金额须为数字（最多 4 位小数）/ amount must be a decimal number"
    if req.callback_url:
        url_issue = url_problem(req.callback_url)
        if url_issue:
            problems["callback_url"] = f"回调地址无效 / invalid callback_url: {url_issue}"
    for name in ("customer_id", "customer_name", "customer_type", "business_type", "business_no"):
        if not str(getattr(req, name)).strip():
            problems[name] = "不能为空 / required"
    for i, doc in enumerate(req.documents):
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or not doc["name"].strip():
            problems[f"documents[{i}]"] = "文件须有 name / each document needs a name"
    if problems:
        first = next(iter(problems.items()))
        raise InvalidInputError(
            msg("tasks.invalid_task", value=first[0], value2=first[1]), details={"fields": problems}
        )
    return replace(req, id_number=number, customer_name=req.customer_name.strip())


class TaskService:
    """Use cases on tasks; built by the container with the app's secret box and settings."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        box: SecretBox,
        *,
        secret_key: str,
        public_url: str,
        link_ttl: timedelta,
        blobs: BlobStore | None = None,
    ) -> None:
        self.blobs = blobs  # where the task's documents are stored (None: tasks without documents)
        self.uows = uows
        self.box = box
        self.public_url = public_url.rstrip("/")
        self.link_ttl = link_ttl
        self._entry_key = hmac.new(secret_key.encode(), b"dualrec task entry links", hashlib.sha256).digest()
        self._lookup_key = hmac.new(secret_key.encode(), b"dualrec id number lookup", hashlib.sha256).digest()

    # ---- helpers -------------------------------------------------------------------------------

    def id_number_hash(self, number: str) -> str:
        return hmac.new(self._lookup_key, normalize_id_number(number).encode(), hashlib.sha256).hexdigest()

    def _open(self, task: Task) -> Task:
        return replace(
            task,
            id_number=self.box.open(task.id_number) if task.id_number else "",
            phone=self.box.open(task.phone) if task.phone else "",
        )

    def entry_url(self, task_id: str, attempt: int, expires_at: datetime) -> str:
        token = sign_entry_token(self._entry_key, EntryToken(task_id, attempt, int(expires_at.timestamp())))
        return f"{self.public_url}/h5/{token}"

    def _visible(self, uow: UnitOfWork, actor: Actor, task_id: str, *, for_update: bool = False) -> Task:
        assert actor.principal is not None
        task = uow.tasks.get(task_id, for_update=for_update)
        p = actor.principal
        if task is None or not in_scope(p.branch_path, task.branch_path):
            raise NotFoundError(msg("tasks.task_found"), details={"task_id": task_id})
        if p.kind == "api_key" and task.source_key != _source_key(actor):
            raise NotFoundError(msg("tasks.task_found"), details={"task_id": task_id})
        return task

    def _key_business_types(self, uow: UnitOfWork, actor: Actor) -> tuple[str, ...] | None:
        """The business types an API key may use; None for console users (no restriction)."""
        assert actor.principal is not None
        if actor.principal.kind != "api_key":
            return None
        found = uow.api_keys.by_key_id(_source_key(actor))
        return tuple(found[0].business_types) if found else ()

    def _draw(self, uow: UnitOfWork, flow: Flow, risk_level: str) -> list[dict[str, Any]]:
        draws: list[dict[str, Any]] = []
        for node in flow.active_nodes:
            if not node.draw_bank:
                continue
            seed = secrets.token_hex(16)
            questions = question_banks.bank_questions(uow, node.draw_bank)
            rules = question_banks.bank_rules(uow, node.draw_bank)
            draw, chosen = draw_questions(
                questions, rules, bank=node.draw_bank, risk_level=risk_level, seed=seed
            )
            draws.append(
                {
                    "node_id": node.id,
                    "bank": draw.bank,
                    "risk_level": draw.risk_level,
                    "seed": draw.seed,
                    "pool_digest": draw.pool_digest,
                    "codes": list(draw.codes),
                    "questions": [
                        {
                            "code": q.code,
                            "text": q.text,
                            "difficulty": q.difficulty,
                            "answers": [{"text": a.text, "synonyms": list(a.synonyms)} for a in q.answers],
                        }
                        for q in chosen
                    ],
                }
            )
        return draws

    def _link_expiry(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.link_ttl

    def _start_attempt(
        self, uow: UnitOfWork, task_id: str, number: int, flow_id: int, flow_version: int, risk_level: str
    ) -> tuple[datetime, list[dict[str, Any]]]:
        """Adds attempt ``number`` with its own question draw and link expiry; returns both."""
        version = uow.flows.version(flow_id, flow_version)
        assert version is not None
        draws = self._draw(uow, parse_flow(version.definition), risk_level)
        expires = self._link_expiry()
        uow.tasks.add_attempt(
            task_id,
            number=number,
            status=AttemptStatus.CREATED,
            flow_version=flow_version,
            draws=draws,
            entry_expires_at=expires,
        )
        return expires, draws

    def _created(self, uow: UnitOfWork, task_id: str, attempt: int, expires: datetime) -> CreatedTask:
        """The task as stored now, with the entry link of ``attempt``."""
        task = uow.tasks.get(task_id)
        assert task is not None
        return CreatedTask(self._open(task), self.entry_url(task_id, attempt, expires), expires)

    def _set_status(
        self,
        uow: UnitOfWork,
        task: Task,
        status: str,
        *,
        attempt_status: str | None = None,
        reason: str = "",
        result: dict[str, Any] | None = None,
    ) -> None:
        now = datetime.now(UTC)
        fields: dict[str, Any] = {"status": status}
        if status in FINAL_STATUSES:
            fields["finished_at"] = now
        uow.tasks.update(task.id, **fields)
        if attempt_status is not None:
            attempt_fields: dict[str, Any] = {"status": attempt_status}
            if reason:
                attempt_fields["reason"] = reason
            if result is not None:
                attempt_fields["result"] = result
            if attempt_status not in (AttemptStatus.CREATED, AttemptStatus.IN_PROGRESS):
                attempt_fields["finished_at"] = now
            uow.tasks.update_attempt(task.id, task.attempt_no, **attempt_fields)
        payload = {
            "task_id": task.id,
            "business_type": task.business_type,
            "business_no": task.business_no,
            "contract_no": task.contract_no,
            "status": status,
            "previous_status": task.status,
            "attempt": task.attempt_no,
            "reason": reason,
            "at": now.isoformat(),
        }
        webhooks.enqueue(
            uow,
            task_id=task.id,
            source_key=task.source_key,
            url=task.callback_url,
            event="task.status_changed",
            payload=payload,
        )
        if status in (TaskStatus.PASSED, TaskStatus.FAILED, TaskStatus.REVIEW) and result is not None:
            webhooks.enqueue(
                uow,
                task_id=task.id,
                source_key=task.source_key,
                url=task.callback_url,
                event="task.result",
                payload={**payload, "result": result},
            )

    def session_transition(
        self,
        uow: UnitOfWork,
        task_id: str,
        attempt_no: int,
        status: TaskStatus,
        *,
        reason: str = "",
        result: dict[str, Any] | None = None,
        recording_id: str | None = None,
    ) -> bool:
        """Move a task as its self-service session goes (in the caller's transaction).

        Ignored (False) when the attempt is no longer the task's current one (reset meanwhile) or
        the task was cancelled: a late session never overwrites what an operator did.
        """
        task = uow.tasks.get(task_id, for_update=True)
        if task is None or task.attempt_no != attempt_no or task.status == TaskStatus.CANCELLED:
            return False
        attempt_status = {
            TaskStatus.IN_PROGRESS: AttemptStatus.IN_PROGRESS,
            TaskStatus.QC: AttemptStatus.QC,
            TaskStatus.REVIEW: AttemptStatus.REVIEW,
            TaskStatus.PASSED: AttemptStatus.PASSED,
            TaskStatus.FAILED: AttemptStatus.FAILED,
            TaskStatus.HANDOVER: AttemptStatus.HANDOVER,
            TaskStatus.EXPIRED: AttemptStatus.EXPIRED,
        }[status]
        if recording_id is not None:
            uow.tasks.update_attempt(task_id, attempt_no, recording_id=recording_id)
        if status == TaskStatus.IN_PROGRESS:
            uow.tasks.update_attempt(task_id, attempt_no, started_at=datetime.now(UTC))
        if task.status == status and result is None:
            return True
        self._set_status(uow, task, status, attempt_status=attempt_status, reason=reason, result=result)
        return True

    # ---- a recording uploaded in the console for a task -------------------------------------

    def _accepts_recording(self, uow: UnitOfWork, task: Task, attempt_no: int | None = None) -> None:
        """409 unless the task's current attempt (``attempt_no`` when given) can take a recording."""
        attempt = task.current_attempt
        if attempt_no is not None and task.attempt_no != attempt_no:
            raise ConflictError(msg("tasks.task_reset_meanwhile"), details={"attempt": task.attempt_no})
        if task.status not in ACCEPTS_RECORDING:
            raise ConflictError(
                msg("tasks.task_takes_recording", status=task.status),
                details={"task_status": task.status},
            )
        if attempt is None or attempt.recording_id is not None:
            raise ConflictError(
                msg("tasks.attempt_already_recording_reset_task"),
                details={"recording_id": attempt.recording_id if attempt else None},
            )
        session = uow.live_sessions.for_attempt(task.id, task.attempt_no)
        if session is not None and session.open:
            raise ConflictError(
                msg("tasks.customer_s_self_service_session"),
                details={"session_status": session.status},
            )

    def recording_target(self, *, actor: Actor, task_id: str) -> RecordingTarget:
        """The task a console upload is for: visible to the uploader (branch scope; another
        branch's task is not found) and waiting for a recording (else 409)."""
        with self.uows() as uow:
            task = self._visible(uow, actor, task_id)
            self._accepts_recording(uow, task)
            attempt = task.current_attempt
            assert attempt is not None
            version = uow.flows.version(task.flow_id, task.flow_version)
            assert version is not None
            opened = self._open(task)
            return RecordingTarget(
                task_id=task.id,
                attempt=attempt.number,
                branch_id=task.branch_id,
                mode=task.mode,
                qc_task={
                    "running_no": task.business_no,
                    "customer_name": task.customer_name,
                    "id_number": opened.id_number,
                    "mode": task.mode,
                    "business_type": task.business_type,
                    "task_id": task.id,
                    "attempt": attempt.number,
                    "source": "console",
                },
                flow=flow_to_dict(attempt_flow(version.definition, attempt.draws)),
            )

    def attach_recording(self, uow: UnitOfWork, target: RecordingTarget, recording_id: str) -> None:
        """In the caller's transaction (the recording's registration): the attempt gets the
        recording and the task moves to QC (webhook); its QC result moves it on
        (``tasks.qc_result``). Refused (409) when the task changed since ``recording_target``."""
        task = uow.tasks.get(target.task_id, for_update=True)
        if task is None:
            raise NotFoundError(msg("tasks.task_found"), details={"task_id": target.task_id})
        self._accepts_recording(uow, task, target.attempt)
        self.session_transition(
            uow,
            task.id,
            target.attempt,
            TaskStatus.QC,
            reason="控制台上传录像 / recording uploaded in the console",
            recording_id=recording_id,
        )

    def review_decided(
        self,
        uow: UnitOfWork,
        *,
        actor: Actor,
        task_id: str,
        attempt_no: int,
        outcome: str,
        reason: str,
        review: dict[str, Any],
    ) -> dict[str, Any] | None:
        """A human review (services/review) decided the recording of attempt ``attempt_no``, in the
        caller's transaction: ``pass`` → passed, ``fail`` → failed, ``rerecord`` → a new attempt
        (补录, from any status but cancelled, a passed task too). The business system gets
        ``task.review_decided`` besides the status events. Returns what happened (with the new
        attempt's number and entry link for a re-record), or None when ignored: the attempt is no
        longer the task's current one (reset meanwhile) or the task was cancelled."""
        task = uow.tasks.get(task_id, for_update=True)
        if task is None or task.attempt_no != attempt_no or task.status == TaskStatus.CANCELLED:
            return None
        attempt = task.current_attempt
        base = dict(attempt.result or {}) if attempt is not None else {}
        done: dict[str, Any] = {"task_id": task.id, "attempt": attempt_no, "outcome": outcome}
        if outcome == "rerecord":
            self._set_status(
                uow, task, TaskStatus.CREATED, attempt_status=AttemptStatus.SUPERSEDED, reason=reason
            )
            number = task.attempt_no + 1
            uow.tasks.update(task.id, attempt_no=number, finished_at=None)
            expires, _ = self._start_attempt(
                uow, task.id, number, task.flow_id, task.flow_version, task.risk_level
            )
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.TASK_RESET,
                target_type="task",
                target_id=task.id,
                details={"reason": reason, "attempt": number, "previous_status": task.status, "review": True},
                branch_id=task.branch_id,
            )
            done.update(
                new_attempt=number,
                entry_url=self.entry_url(task.id, number, expires),
                entry_expires_at=expires.isoformat(),
            )
        else:
            status = TaskStatus.PASSED if outcome == "pass" else TaskStatus.FAILED
            if task.status != status:
                self._set_status(
                    uow,
                    task,
                    status,
                    attempt_status=AttemptStatus.PASSED if outcome == "pass" else AttemptStatus.FAILED,
                    reason=reason,
                    result={**base, "review": review},
                )
        webhooks.enqueue(
            uow,
            task_id=task.id,
            source_key=task.source_key,
            url=task.callback_url,
            event="task.review_decided",
            payload={
                "task_id": task.id,
                "business_type": task.business_type,
                "business_no": task.business_no,
                "contract_no": task.contract_no,
                "attempt": attempt_no,
                "decision": outcome,
                "reason": reason,
                "review": review,
                **{k: done[k] for k in ("new_attempt", "entry_url", "entry_expires_at") if k in done},
                "at": datetime.now(UTC).isoformat(),
            },
        )
        return done

    def _store_documents(self, raw: list[dict[str, Any]]) -> list[DocumentRef]:
        if not raw:
            return []
        if self.blobs is None:
            raise InvalidInputError(msg("tasks.service_takes_task_documents"))
        return prepare_task_documents(self.blobs, raw)

    # ---- use cases -----------------------------------------------------------------------------

    def create(self, *, actor: Actor, request: TaskRequest, idempotency_key: str = "") -> CreatedTask:
        assert actor.principal is not None
        req = _validate(request)
        source = _source_key(actor)
        digest = req.digest()
        key = idempotency_key.strip() or None
        if key is not None and (len(key) > 128 or not key.isprintable()):
            raise InvalidInputError(msg("tasks.most_128_printable_characters"))
        with self.uows() as uow:
            if key is not None:
                seen = uow.tasks.by_idempotency_key(source, key)
                if seen is not None:
                    if seen.request_sha256 != digest:
                        raise ConflictError(
                            msg("tasks.idempotency_key_used_different_request"),
                            details={"task_id": seen.id},
                        )
                    current = seen.current_attempt
                    assert current is not None
                    return CreatedTask(
                        self._open(seen),
                        self.entry_url(seen.id, current.number, current.entry_expires_at),
                        current.entry_expires_at,
                        replayed=True,
                    )
            allowed = self._key_business_types(uow, actor)
            if allowed is not None and allowed and req.business_type not in allowed:
                raise InvalidInputError(
                    msg("tasks.business_system_may_create_tasks", business_type=req.business_type),
                    details={"fields": {"business_type": "not allowed for this API key"}},
                )
            branch_id = actor.principal.branch_id if req.branch_id is None else req.branch_id
            branch_in_scope(uow, actor.principal, branch_id)
            route = select_route(
                uow.flows.rules(),
                customer_type=req.customer_type,
                business_type=req.business_type,
                risk_level=req.risk_level,
            )
            if route is None:
                raise InvalidInputError(
                    msg("tasks.routing_rule_matches_customer_type"),
                    details={"customer_type": req.customer_type, "business_type": req.business_type},
                )
            stored = uow.flows.get(route.flow_code)
            if stored is None or stored.archived or stored.latest_version == 0:
                raise InvalidInputError(
                    msg("tasks.flow_published_version", flow_code=route.flow_code),
                    details={"flow_code": route.flow_code},
                )
            task_id = str(uuid.uuid4())
            refs = self._store_documents(req.documents)
            uow.tasks.add(
                id=task_id,
                source_key=source,
                idempotency_key=key,
                request_sha256=digest,
                branch_id=branch_id,
                created_by=actor.name,
                business_type=req.business_type,
                business_no=req.business_no,
                contract_no=req.contract_no,
                product=req.product,
                amount=req.amount,
                customer_id=req.customer_id,
                customer_name=req.customer_name,
                customer_type=req.customer_type,
                risk_level=req.risk_level,
                id_number_sealed=self.box.seal(req.id_number),
                id_number_hash=self.id_number_hash(req.id_number),
                phone_sealed=self.box.seal(req.phone) if req.phone else "",
                documents=[r.to_dict() for r in refs],
                callback_url=req.callback_url,
                mode=route.mode,
                flow_id=stored.id,
                flow_version=stored.latest_version,
                status=TaskStatus.CREATED,
                attempt_no=1,
            )
            expires, draws = self._start_attempt(
                uow, task_id, 1, stored.id, stored.latest_version, req.risk_level
            )
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.TASK_CREATED,
                target_type="task",
                target_id=task_id,
                details={
                    "business_type": req.business_type,
                    "business_no": req.business_no,
                    "flow": route.flow_code,
                    "version": stored.latest_version,
                    "mode": route.mode,
                    "rule": route.id,
                    "draws": [{k: d[k] for k in ("node_id", "bank", "seed", "codes")} for d in draws],
                },
            )
            uow.commit()
            return self._created(uow, task_id, 1, expires)

    def get(self, *, actor: Actor, task_id: str) -> Task:
        with self.uows() as uow:
            return self._open(self._visible(uow, actor, task_id))

    def signed_document(self, *, actor: Actor, task_id: str, attempt: int, index: int) -> tuple[bytes, str]:
        """One document the customer signed in an attempt (self-service or remote interview), as
        stored; its SHA-256 must still be the one recorded in the attempt's result."""
        task = self.get(actor=actor, task_id=task_id)  # branch scope and API-key ownership: 404
        att = next((a for a in task.attempts if a.number == attempt), None)
        docs = ((att.result or {}).get("signed_documents") or []) if att is not None else []
        if (
            not 0 <= index < len(docs)
            or not isinstance(docs[index], dict)
            or not docs[index].get("blob_key")
            or self.blobs is None
        ):
            raise NotFoundError(
                msg("tasks.signed_document_not_found"), details={"attempt": attempt, "index": index}
            )
        doc = docs[index]
        try:
            with self.blobs.open(str(doc["blob_key"])) as fh:
                data: bytes = fh.read()
        except (InvalidInputError, NotFoundError) as exc:  # recorded, but its bytes are not in the store
            raise ConflictError(msg("tasks.signed_document_missing"), details={"index": index}) from exc
        if hashlib.sha256(data).hexdigest() != doc.get("sha256"):
            raise ConflictError(msg("tasks.signed_document_altered"), details={"index": index})
        return data, str(doc.get("name") or f"signed_{index + 1}.pdf")

    def search(
        self, *, actor: Actor, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[Task], int]:
        assert actor.principal is not None
        filters = dict(filters)
        if filters.get("id_number"):
            filters["id_number_hash"] = self.id_number_hash(str(filters.pop("id_number")))
        if actor.principal.kind == "api_key":  # a business system sees only the tasks it created
            filters["source_key"] = _source_key(actor)
        with self.uows() as uow:
            allowed = self._key_business_types(uow, actor)
            tasks, total = uow.tasks.search(
                scope_path=actor.principal.branch_path,
                filters=filters,
                business_types=allowed or None,
                offset=offset,
                limit=limit,
            )
            return [self._open(t) for t in tasks], total

    def reset(self, *, actor: Actor, task_id: str, reason: str) -> CreatedTask:
        """双录重置: the current attempt is superseded (kept for audit) and a new one starts with a
        fresh question draw and entry link; the flow version stays the task's."""
        reason = reason.strip()
        if not reason:
            raise InvalidInputError(msg("tasks.reason_required"), details={"fields": {"reason": "required"}})
        with self.uows() as uow:
            task = self._visible(uow, actor, task_id, for_update=True)
            if task.status in (TaskStatus.PASSED, TaskStatus.CANCELLED):
                raise ConflictError(
                    msg(
                        "tasks.passed_task_cannot_reset"
                        if task.status == TaskStatus.PASSED
                        else "tasks.cancelled_task_cannot_reset"
                    ),
                    details={"status": task.status},
                )
            self._set_status(
                uow, task, TaskStatus.CREATED, attempt_status=AttemptStatus.SUPERSEDED, reason=reason
            )
            number = task.attempt_no + 1
            uow.tasks.update(task.id, attempt_no=number, finished_at=None)
            expires, _ = self._start_attempt(
                uow, task.id, number, task.flow_id, task.flow_version, task.risk_level
            )
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.TASK_RESET,
                target_type="task",
                target_id=task.id,
                details={"reason": reason, "attempt": number, "previous_status": task.status},
            )
            uow.commit()
            return self._created(uow, task.id, number, expires)

    def cancel(self, *, actor: Actor, task_id: str, reason: str = "") -> Task:
        with self.uows() as uow:
            task = self._visible(uow, actor, task_id, for_update=True)
            if task.status in (TaskStatus.PASSED, TaskStatus.CANCELLED):
                raise ConflictError(
                    msg("tasks.task_cannot_cancelled", status=task.status),
                    details={"status": task.status},
                )
            self._set_status(
                uow, task, TaskStatus.CANCELLED, attempt_status=AttemptStatus.CANCELLED, reason=reason
            )
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.TASK_CANCELLED,
                target_type="task",
                target_id=task.id,
                details={"reason": reason},
            )
            uow.commit()
            fresh = uow.tasks.get(task.id)
            assert fresh is not None
            return self._open(fresh)

    def issue_link(self, *, actor: Actor, task_id: str) -> CreatedTask:
        """A fresh entry link for the current attempt (e.g. the customer lost the first one)."""
        with self.uows() as uow:
            task = self._visible(uow, actor, task_id, for_update=True)
            if task.status not in (TaskStatus.CREATED, TaskStatus.IN_PROGRESS, TaskStatus.EXPIRED):
                raise ConflictError(
                    msg("tasks.link_task", status=task.status),
                    details={"status": task.status},
                )
            expires = self._link_expiry()
            uow.tasks.update_attempt(task.id, task.attempt_no, entry_expires_at=expires)
            if task.status == TaskStatus.EXPIRED:
                self._set_status(uow, task, TaskStatus.CREATED, attempt_status=AttemptStatus.CREATED)
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.TASK_LINK_ISSUED,
                target_type="task",
                target_id=task.id,
                details={"attempt": task.attempt_no, "expires_at": expires.isoformat()},
            )
            uow.commit()
            return self._created(uow, task.id, task.attempt_no, expires)

    def resolve_entry(self, token: str, *, allow_finished: bool = False) -> tuple[Task, Flow]:
        """What the customer's page loads: the task (personal data masked by the caller) and the
        flow of the current attempt. Old links (superseded attempt), forged or expired tokens fail.
        ``allow_finished``: a passed task still resolves (the page shows its end screen)."""
        entry = verify_entry_token(self._entry_key, token, now=int(time.time()))
        if entry is None:
            raise AuthenticationError(msg("tasks.link_invalid_expired"))
        with self.uows() as uow:
            task = uow.tasks.get(entry.task_id)
            if task is None or task.attempt_no != entry.attempt:
                raise AuthenticationError(msg("tasks.link_longer_valid_task_reset"))
            attempt = task.current_attempt
            assert attempt is not None
            if int(attempt.entry_expires_at.timestamp()) != entry.expires_at:
                raise AuthenticationError(msg("tasks.link_replaced_newer_one"))
            if task.status == TaskStatus.CANCELLED or (
                task.status == TaskStatus.PASSED and not allow_finished
            ):
                raise ConflictError(msg("tasks.task", status=task.status), details={"status": task.status})
            version = uow.flows.version(task.flow_id, task.flow_version)
            assert version is not None
            return self._open(task), attempt_flow(version.definition, attempt.draws)
