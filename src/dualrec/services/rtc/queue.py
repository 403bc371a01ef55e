"""The human-interviewer queue (排队, SPEC §3.2) and the agent desk's data.

Who enters: the customer of a task routed to ``human`` (its /h5 link opens the call page, which
queues at once) and the customer of a self-service attempt that handed over (help button, failed
node, sensitive word): the entry carries the hand-over summary and it is the *same* attempt — the
call's recording becomes that attempt's recording, the identity proofs of the AI session are shown
to the agent and not asked again.

The queue is swept whenever somebody looks at it (the customer's page every few seconds, the
agents' queue page): a customer whose page stopped asking is *abandoned* (audited; the link still
works and queues again at the back), one waiting longer than the timeout *timed out* (audited, the
task moves to ``expired`` with that reason and the webhook fires; the business issues a new
attempt). Agents are "online" while their queue page or desk asks (presence), "busy" while they
hold an accepted entry, "away" (示忙) from when they pause taking customers until they resume (示闲)
or take one; the estimated wait divides the customer's place among the free online agents of its
skill group (neither busy nor away).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from dualrec.core import rtc_queue as q
from dualrec.core.audit import AuditAction
from dualrec.core.branches import in_scope
from dualrec.core.flow import Flow
from dualrec.core.rbac import Permission as P
from dualrec.core.rtc_queue import QueueEntry, QueueStatus
from dualrec.core.tasks import Task, TaskStatus, mask_id_number, mask_name, mask_phone
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.rtc.signals import ChangeSignals
from dualrec.services.tasks.service import TaskService, attempt_flow

__all__ = [
    "AgentQueueView",
    "CustomerQueueView",
    "DeskView",
    "InterviewQueue",
    "QueueOptions",
]

logger = logging.getLogger(__name__)

QUEUEABLE = (TaskStatus.CREATED, TaskStatus.HANDOVER)
ONLINE_WINDOW = timedelta(seconds=30)  # an agent whose page asked within this is online
MAX_SKILL_GROUPS = 20
MAX_MARKS = 400  # node marks per call (a flow has tens of nodes)
# proof fields the desk may show (never OCR fields, descriptors or blob keys)
_PROOF_FIELDS = ("passed", "distance", "threshold", "name_matches", "problems", "valid_period")


@dataclass(frozen=True)
class QueueOptions:
    timeout: timedelta = timedelta(seconds=900)
    abandon_after: timedelta = timedelta(seconds=45)
    default_handling: float = 300.0
    skill_map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerQueueView:
    status: str
    position: int
    eta_seconds: int
    agents_online: int
    reason: str = ""


@dataclass(frozen=True)
class AgentQueueView:
    entries: list[dict[str, Any]]
    agents_online: int  # taking customers (not away) in the caller's scope
    average_handling_seconds: int
    skill_groups: tuple[str, ...]
    agents_away: int = 0  # online but 示忙
    away_since: datetime | None = None  # the caller's 示忙; None: taking customers


@dataclass(frozen=True)
class DeskView:
    task: dict[str, Any]
    entry: dict[str, Any] | None
    nodes: list[dict[str, Any]]
    completed_nodes: list[str]
    proofs: list[dict[str, Any]]
    marks: list[dict[str, Any]]


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _entry_aware(e: QueueEntry) -> QueueEntry:
    return replace(e, enqueued_at=_aware(e.enqueued_at), last_seen_at=_aware(e.last_seen_at))


def _unmasked(actor: Actor) -> bool:
    p = actor.principal
    return p is not None and p.can(P.SENSITIVE_UNMASK)


class InterviewQueue:
    def __init__(self, uows: UnitOfWorkFactory, tasks: TaskService, options: QueueOptions) -> None:
        self._uows = uows
        self._tasks = tasks
        self.options = options
        self.signals = ChangeSignals()  # an entry changed: a customer's held request reads it

    # ---- the sweep and the numbers -------------------------------------------------------------

    def _sweep(self, uow: UnitOfWork, now: datetime) -> list[QueueEntry]:
        """Gives up on waiting entries that timed out or whose customer left; the open entries."""
        kept: list[QueueEntry] = []
        for e in uow.rtc.open_entries():
            e = _entry_aware(e)
            why = q.give_up_reason(
                e, now, timeout=self.options.timeout, abandon_after=self.options.abandon_after
            )
            if why is None:
                kept.append(e)
                continue
            self._give_up(uow, e, why, now)
        return kept

    def _give_up(self, uow: UnitOfWork, e: QueueEntry, why: str, now: datetime) -> None:
        if why == QueueStatus.TIMEOUT:
            reason = "排队超时，暂无坐席接听 / nobody answered in time (queue timeout)"
            self._tasks.session_transition(uow, e.task_id, e.attempt, TaskStatus.EXPIRED, reason=reason)
            action = AuditAction.RTC_QUEUE_TIMEOUT
        else:
            reason = "客户离开了排队 / the customer left the queue"
            action = AuditAction.RTC_QUEUE_ABANDONED
        uow.rtc.update_entry(e.id, status=why, reason=reason, ended_at=now)
        self.signals.bump(e.task_id, e.attempt)  # read once committed (the waiter reads again shortly)
        audit.record(
            uow,
            actor=SYSTEM,
            action=action,
            target_type="task",
            target_id=e.task_id,
            details={"attempt": e.attempt, "waited_seconds": round((now - e.enqueued_at).total_seconds())},
            branch_id=e.branch_id,
        )

    def _free_agents(
        self, uow: UnitOfWork, open_entries: list[QueueEntry], now: datetime, e: QueueEntry
    ) -> int:
        busy = {x.accepted_by for x in open_entries if x.status == QueueStatus.ACCEPTED}
        return sum(
            1
            for a in uow.rtc.agents_seen_since(now - ONLINE_WINDOW)
            if a.user_id not in busy and a.away_since is None and q.serves(a.skill_groups, a.branch_path, e)
        )

    def _average(self, uow: UnitOfWork) -> float:
        return q.average_handling(uow.rtc.recent_handling(), self.options.default_handling)

    # ---- the customer (the /h5 link) -----------------------------------------------------------

    def customer_enqueue(self, entry_token: str) -> CustomerQueueView:
        """The customer's call page opened: the attempt enters the queue (again, at the back, after
        having left it); an entry an agent already accepted is returned as is."""
        task, _flow = self._tasks.resolve_entry(entry_token)
        if task.mode != "human" and task.status != TaskStatus.HANDOVER:
            raise ConflictError(
                msg("rtc.task_self_service_queue"),
                details={"mode": task.mode},
            )
        now = _now()
        with self._uows() as uow:
            e = uow.rtc.entry(task.id, task.attempt_no, for_update=True)
            if e is None or e.status in (QueueStatus.ABANDONED,):
                if task.status not in QUEUEABLE:
                    raise ConflictError(
                        msg("rtc.task_cannot_queue", status=task.status),
                        details={"status": task.status},
                    )
                e = self._put(uow, task, e, now)
            elif e.status == QueueStatus.WAITING:
                uow.rtc.update_entry(e.id, last_seen_at=now)
            uow.commit()
        return self.customer_status(entry_token)

    def _put(self, uow: UnitOfWork, task: Task, old: QueueEntry | None, now: datetime) -> QueueEntry:
        source = "handover" if task.status == TaskStatus.HANDOVER else "routing"
        attempt = task.current_attempt
        summary = dict(attempt.result or {}) if (attempt and source == "handover") else {}
        fields: dict[str, Any] = {
            "status": QueueStatus.WAITING,
            "enqueued_at": now,
            "last_seen_at": now,
            "reason": "",
            "ended_at": None,
        }
        if old is None:
            e = uow.rtc.add_entry(
                task_id=task.id,
                attempt=task.attempt_no,
                branch_id=task.branch_id,
                branch_path=task.branch_path,
                business_type=task.business_type,
                skill_group=q.skill_group_of(task.business_type, self.options.skill_map),
                vip_level=q.vip_level(task.customer_type),
                source=source,
                summary=summary,
                accepted_by_name="",
                **fields,
            )
        else:
            e = uow.rtc.update_entry(old.id, **fields)
        audit.record(
            uow,
            actor=SYSTEM,
            action=AuditAction.RTC_QUEUED,
            target_type="task",
            target_id=task.id,
            details={
                "attempt": task.attempt_no,
                "source": source,
                "vip_level": e.vip_level,
                "skill_group": e.skill_group,
            },
            branch_id=task.branch_id,
        )
        return e

    def customer_status(self, entry_token: str) -> CustomerQueueView:
        """Where the customer stands (the page asks every few seconds: that is its presence)."""
        return self.customer_status_keyed(entry_token)[0]

    def entry_status(self, task_id: str, attempt: int) -> str | None:
        """The entry's status only (read-only: what a waiting request checks)."""
        with self._uows.read() as uow:
            e = uow.rtc.entry(task_id, attempt)
            return None if e is None else str(e.status)

    def customer_status_keyed(self, entry_token: str) -> tuple[CustomerQueueView, tuple[str, int]]:
        """``customer_status`` and the attempt it is about (task id, attempt number)."""
        task, _flow = self._tasks.resolve_entry(entry_token, allow_finished=True)
        return self._customer_status(task), (task.id, task.attempt_no)

    def _customer_status(self, task: Task) -> CustomerQueueView:
        now = _now()
        with self._uows() as uow:
            e = uow.rtc.entry(task.id, task.attempt_no, for_update=True)
            if e is not None and e.status == QueueStatus.WAITING:
                e = uow.rtc.update_entry(e.id, last_seen_at=now)
            open_entries = self._sweep(uow, now)
            e = uow.rtc.entry(task.id, task.attempt_no)
            if e is None:
                uow.commit()
                return CustomerQueueView("none", 0, 0, 0)
            e = _entry_aware(e)
            position = q.position_of(open_entries, e.id)
            free = self._free_agents(uow, open_entries, now, e)
            eta = q.estimated_wait(position, self._average(uow), free)
            uow.commit()
            return CustomerQueueView(e.status, position, eta, free, e.reason)

    def customer_leave(self, entry_token: str) -> CustomerQueueView:
        task, _flow = self._tasks.resolve_entry(entry_token, allow_finished=True)
        now = _now()
        with self._uows() as uow:
            e = uow.rtc.entry(task.id, task.attempt_no, for_update=True)
            if e is not None and e.status == QueueStatus.WAITING:
                self._give_up(uow, _entry_aware(e), QueueStatus.ABANDONED, now)
            uow.commit()
        return self.customer_status(entry_token)

    # ---- agents --------------------------------------------------------------------------------

    def agent_queue(self, actor: Actor, *, mine_only: bool = True) -> AgentQueueView:
        """The open entries the agent may take (branch scope; its skill groups unless ``mine_only``
        is off), next first; the agent is online from now on."""
        p = actor.principal
        assert p is not None
        now = _now()
        with self._uows() as uow:
            if actor.id is not None:
                uow.rtc.touch_agent(actor.id, now)
            groups = uow.rtc.agent_skills(actor.id) if actor.id is not None else ()
            open_entries = self._sweep(uow, now)
            visible = [e for e in open_entries if q.serves(groups if mine_only else (), p.branch_path, e)]
            visible.sort(key=lambda e: (e.status != QueueStatus.WAITING, q.order_key(e)))
            tasks = {e.task_id: uow.tasks.get(e.task_id) for e in visible}
            rows = []
            for e in visible:
                t = tasks.get(e.task_id)
                if t is None:
                    continue
                rows.append(
                    {
                        **self._entry_out(e),
                        "position": q.position_of(open_entries, e.id),
                        "customer_name": mask_name(t.customer_name),
                        "business_no": t.business_no,
                        "product": t.product,
                        "customer_type": t.customer_type,
                    }
                )
            seen = [
                a
                for a in uow.rtc.agents_seen_since(now - ONLINE_WINDOW)
                if in_scope(p.branch_path, a.branch_path) or in_scope(a.branch_path, p.branch_path)
            ]
            # the caller was just seen: its own 示忙 is in the same read
            away = next((a.away_since for a in seen if a.user_id == actor.id), None)
            avg = self._average(uow)
            uow.commit()
        return AgentQueueView(
            rows,
            sum(a.away_since is None for a in seen),
            round(avg),
            tuple(groups),
            agents_away=sum(a.away_since is not None for a in seen),
            away_since=_aware(away) if away is not None else None,
        )

    def set_away(self, actor: Actor, away: bool) -> AgentQueueView:
        """示忙 (``away``: the interviewer pauses taking customers; the customers' estimated wait
        no longer counts it) or 示闲; the queue as the agent sees it afterwards."""
        if actor.id is None:
            raise InvalidInputError(msg("rtc.away_needs_a_user"))
        now = _now()
        with self._uows() as uow:
            since = uow.rtc.agent_away_since(actor.id)
            uow.rtc.set_agent_away(actor.id, (since or now) if away else None, now)
            uow.commit()
        logger.info("rtc: interviewer %s is %s", actor.id, "away" if away else "taking customers")
        return self.agent_queue(actor)

    @staticmethod
    def _entry_out(e: QueueEntry) -> dict[str, Any]:
        return {
            "id": e.id,
            "task_id": e.task_id,
            "attempt": e.attempt,
            "status": e.status,
            "source": e.source,
            "vip_level": e.vip_level,
            "skill_group": e.skill_group,
            "business_type": e.business_type,
            "enqueued_at": _aware(e.enqueued_at),
            "accepted_by_name": e.accepted_by_name,
            "accepted_at": _aware(e.accepted_at) if e.accepted_at else None,
            "summary": e.summary,
            "reason": e.reason,
        }

    def accept(self, actor: Actor, entry_id: int | None) -> dict[str, Any]:
        """Takes the next waiting customer the agent serves (``entry_id`` None) or that one."""
        p = actor.principal
        assert p is not None
        now = _now()
        with self._uows() as uow:
            groups = uow.rtc.agent_skills(actor.id) if actor.id is not None else ()
            open_entries = self._sweep(uow, now)
            if entry_id is None:
                e = q.next_for_agent(open_entries, groups, p.branch_path)
                if e is None:
                    uow.commit()
                    raise NotFoundError(msg("rtc.nobody_waiting_your_queue"))
            else:
                found = uow.rtc.entry_by_id(entry_id, for_update=True)
                if found is None or not q.serves((), p.branch_path, found):
                    uow.commit()
                    raise NotFoundError(msg("rtc.queue_entry_found"), details={"entry_id": entry_id})
                e = _entry_aware(found)
                if e.status != QueueStatus.WAITING:
                    uow.commit()
                    raise ConflictError(
                        msg("rtc.customer_longer_waiting", status=e.status),
                        details={"status": e.status, "accepted_by": e.accepted_by_name},
                    )
                if not q.serves(groups, p.branch_path, e):
                    uow.commit()
                    raise ConflictError(
                        msg("rtc.one_your_skill_groups", skill_group=e.skill_group),
                        details={"skill_group": e.skill_group},
                    )
            e = self._accept(uow, actor, e, now)
            uow.commit()
            return self._entry_out(e)

    def _accept(self, uow: UnitOfWork, actor: Actor, e: QueueEntry, now: datetime) -> QueueEntry:
        locked = uow.rtc.entry_by_id(e.id, for_update=True)  # two agents taking the same customer
        free = (QueueStatus.WAITING, QueueStatus.ABANDONED)
        if locked is None or (locked.status not in free and locked.accepted_by != actor.id):
            raise ConflictError(
                msg("rtc.another_interviewer_just_took_customer"),
                details={"status": locked.status if locked else "gone"},
            )
        e = uow.rtc.update_entry(
            e.id,
            status=QueueStatus.ACCEPTED,
            accepted_by=actor.id,
            accepted_by_name=actor.name,
            accepted_at=now,
        )
        if actor.id is not None and uow.rtc.agent_away_since(actor.id) is not None:
            uow.rtc.set_agent_away(actor.id, None, now)  # taking a customer ends 示忙
        self.signals.bump(e.task_id, e.attempt)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.RTC_ACCEPTED,
            target_type="task",
            target_id=e.task_id,
            details={
                "attempt": e.attempt,
                "entry": e.id,
                "vip_level": e.vip_level,
                "waited_seconds": round((now - _aware(e.enqueued_at)).total_seconds()),
            },
            branch_id=e.branch_id,
        )
        return e

    def on_agent_join(self, uow: UnitOfWork, actor: Actor, task: Task) -> None:
        """The agent joins the attempt's call (from the queue or straight from the task page): the
        attempt's entry is this agent's (created accepted when the customer has not queued yet)."""
        now = _now()
        e = uow.rtc.entry(task.id, task.attempt_no, for_update=True)
        if e is None:
            e = self._put(uow, task, None, now)
        if e.status == QueueStatus.ACCEPTED and e.accepted_by not in (None, actor.id):
            raise ConflictError(
                msg("rtc.already_took_customer", accepted_by_name=e.accepted_by_name),
                details={"accepted_by": e.accepted_by_name},
            )
        if e.status != QueueStatus.ACCEPTED:
            self._accept(uow, actor, e, now)

    def on_hang_up(self, uow: UnitOfWork, task: Task) -> None:
        e = uow.rtc.entry(task.id, task.attempt_no, for_update=True)
        if e is not None and e.status in q.OPEN_STATUSES:
            uow.rtc.update_entry(e.id, status=QueueStatus.DONE, ended_at=_now())

    def set_skills(self, actor: Actor, user_id: int, groups: list[str]) -> tuple[str, ...]:
        clean = sorted({g.strip() for g in groups if g.strip()})
        if len(clean) > MAX_SKILL_GROUPS or any(len(g) > 64 for g in clean):
            raise InvalidInputError(
                msg("rtc.most_skill_groups_64_characters", MAX_SKILL_GROUPS=MAX_SKILL_GROUPS)
            )
        p = actor.principal
        assert p is not None
        with self._uows() as uow:
            user = uow.users.get(user_id)
            branch = uow.branches.get(user.branch_id) if user else None
            if user is None or branch is None or not in_scope(p.branch_path, branch.path):
                raise NotFoundError(msg("rtc.user_found"), details={"user_id": user_id})
            uow.rtc.set_agent_skills(user_id, clean, by=actor.name, now=_now())
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.RTC_SKILLS_SET,
                target_type="user",
                target_id=user_id,
                details={"skill_groups": clean},
                branch_id=user.branch_id,
            )
            uow.commit()
        return tuple(clean)

    def skills(self, actor: Actor, user_id: int) -> tuple[str, ...]:
        p = actor.principal
        assert p is not None
        with self._uows() as uow:
            user = uow.users.get(user_id)
            branch = uow.branches.get(user.branch_id) if user else None
            if user is None or branch is None or not in_scope(p.branch_path, branch.path):
                raise NotFoundError(msg("rtc.user_found"), details={"user_id": user_id})
            return uow.rtc.agent_skills(user_id)

    # ---- the desk ------------------------------------------------------------------------------

    def desk(self, actor: Actor, task_id: str) -> DeskView:
        """What the agent's desk shows of a task: the customer (masked per role), the flow's nodes
        with script and compliance points, where the AI session stopped and what it verified."""
        task = self._tasks.get(actor=actor, task_id=task_id)  # 404 outside the branch scope
        clear = _unmasked(actor)
        with self._uows() as uow:
            attempt = task.current_attempt
            assert attempt is not None
            version = uow.flows.version(task.flow_id, task.flow_version)
            assert version is not None
            flow: Flow = attempt_flow(version.definition, attempt.draws)
            session = uow.live_sessions.for_attempt(task.id, task.attempt_no)
            entry = uow.rtc.entry(task.id, task.attempt_no)
            marks = uow.rtc.marks(task.id, task.attempt_no)
        completed: list[str] = []
        proofs: list[dict[str, Any]] = []
        if session is not None:
            for step in session.flow_state.steps:
                if step.result in ("matched", "passed") and step.node_id not in completed:
                    completed.append(step.node_id)
            for key, value in sorted(session.identity.items()):
                if not isinstance(value, dict) or "passed" not in value:
                    continue
                proof = {k: value[k] for k in _PROOF_FIELDS if k in value}
                captured = value.get("captured") or {}
                proofs.append({"kind": key, **proof, "at": captured.get("at", "")})
        nodes = [
            {
                "id": n.id,
                "type": str(n.type),
                "title": n.title or n.id,
                "script": n.shown_text,
                "compliance_points": list(n.required_statements),
                "questions": [o.text for o in n.expected_answers],
            }
            for n in flow.active_nodes
        ]
        return DeskView(
            task={
                "id": task.id,
                "attempt": task.attempt_no,
                "status": task.status,
                "mode": task.mode,
                "business_type": task.business_type,
                "business_no": task.business_no,
                "contract_no": task.contract_no,
                "product": task.product,
                "amount": task.amount,
                "customer_name": task.customer_name if clear else mask_name(task.customer_name),
                "customer_type": task.customer_type,
                "risk_level": task.risk_level,
                "id_number": task.id_number if clear else mask_id_number(task.id_number),
                "phone": task.phone if clear else mask_phone(task.phone),
                "vip_level": q.vip_level(task.customer_type),
            },
            entry=self._entry_out(_entry_aware(entry)) if entry else None,
            nodes=nodes,
            completed_nodes=completed,
            proofs=proofs,
            marks=[{"node_id": m.node_id, "kind": m.kind, "at": _aware(m.at)} for m in marks],
        )

    def mark(self, actor: Actor, task_id: str, node_id: str, kind: Literal["start", "end"]) -> dict[str, Any]:
        """打点: the agent starts/ends a flow node now (wall clock: the recording's own timeline)."""
        task = self._tasks.get(actor=actor, task_id=task_id)
        if task.status != TaskStatus.IN_PROGRESS:
            raise ConflictError(
                msg("rtc.call_progress_task_2", status=task.status),
                details={"status": task.status},
            )
        now = _now()
        with self._uows() as uow:
            attempt = task.current_attempt
            assert attempt is not None
            version = uow.flows.version(task.flow_id, task.flow_version)
            assert version is not None
            if attempt_flow(version.definition, attempt.draws).node(node_id) is None:
                raise InvalidInputError(msg("rtc.such_node_flow"), details={"node_id": node_id})
            e = uow.rtc.entry(task.id, task.attempt_no)
            if e is None or e.status != QueueStatus.ACCEPTED or e.accepted_by != actor.id:
                raise ConflictError(msg("rtc.you_call"))
            if len(uow.rtc.marks(task.id, task.attempt_no)) >= MAX_MARKS:
                raise ConflictError(msg("rtc.most_node_marks_per_call", MAX_MARKS=MAX_MARKS))
            m = uow.rtc.add_mark(task.id, task.attempt_no, node_id, kind, now, actor.id, actor.name)
            uow.commit()
        return {"node_id": m.node_id, "kind": m.kind, "at": m.at}
