"""High-risk rules (高风险规则): evaluated when a recording's QC report is stored (and again on
request), they flag the recording and tell the responsible roles: an in-app notice per role in the
recording's branch, the ``task.high_risk`` webhook to the business system of the recording's task,
and an e-mail to the addresses configured for the role (``DUALREC_NOTIFY_EMAIL_TO``, off by default).

Rules are scoped like everything in QC operations: a rule looks at the recordings of its branch's
subtree, is seen and edited inside the editor's subtree (404 elsewhere). Every change, every flag
and every clearing is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dualrec.checks.registry import get_registry
from dualrec.core.branches import in_scope
from dualrec.core.high_risk import (
    MAX_CONDITION_VALUES,
    SEVERITY_ORDER,
    HighRiskAction,
    HighRiskFlag,
    HighRiskRule,
    Notice,
    RuleConditions,
    facts_from_report,
    match_reasons,
)
from dualrec.core.rbac import BUILTIN_ROLES, Permission, role_permissions
from dualrec.core.review import MODES, VERDICTS
from dualrec.core.webhooks import WebhookEvent
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.common.mail import Mailer
from dualrec.services.common.scope import branch_in_scope
from dualrec.services.review.reports import load_report
from dualrec.services.tasks import webhooks
from dualrec.storage.ports import BlobStore

__all__ = ["HighRiskService", "NoticePage"]

logger = logging.getLogger(__name__)

MAX_NOTIFY_ROLES = 10
NOTICE_KIND = "high_risk"


@dataclass(frozen=True)
class NoticePage:
    items: list[Notice]
    total: int
    unread: int


def _problem(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(
        msg("review.invalid_high_risk_rule", field=field, message=message),
        details={"fields": {field: message}},
    )


class HighRiskService:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        blobs: BlobStore,
        *,
        mailer: Mailer | None = None,
        email_to: Mapping[str, Sequence[str]] | None = None,
        console_url: str = "",
    ) -> None:
        self.uows, self.blobs = uows, blobs
        self.mailer = mailer
        self.email_to = {k: tuple(v) for k, v in (email_to or {}).items()}
        self.console_url = console_url.rstrip("/")

    # ---- rules ---------------------------------------------------------------------------------

    def _check(self, uow: UnitOfWork, c: RuleConditions, roles: Sequence[str]) -> None:
        if c.empty:
            raise _problem("conditions", "至少设置一个条件 / set at least one condition")
        if c.risk_min is not None and not 0 <= c.risk_min <= 100:
            raise _problem("risk_min", "风险分须在 0–100 / risk score must be 0..100")
        if c.min_severity is not None and c.min_severity not in SEVERITY_ORDER:
            raise _problem("min_severity", "须为 minor / major / critical")
        known = {s.id for s in get_registry().specs()}
        for name in ("verdicts", "checks_all", "checks_any", "customer_types", "risk_levels", "modes"):
            values = getattr(c, name)
            if len(values) > MAX_CONDITION_VALUES:
                raise _problem(name, f"最多 {MAX_CONDITION_VALUES} 项 / at most {MAX_CONDITION_VALUES}")
            if any(not v or len(v) > 64 for v in values):
                raise _problem(name, "值为空或过长 / empty or too long value")
        if any(v not in VERDICTS for v in c.verdicts):
            raise _problem("verdicts", f"须为 {'/'.join(VERDICTS)}")
        if any(v not in MODES for v in c.modes):
            raise _problem("modes", f"须为 {'/'.join(MODES)}")
        unknown = [v for v in (*c.checks_all, *c.checks_any) if v not in known]
        if unknown:
            raise _problem("checks", f"未知检查项 / unknown check: {unknown[0]}")
        if not roles or len(roles) > MAX_NOTIFY_ROLES:
            raise _problem(
                "notify_roles", f"须通知 1–{MAX_NOTIFY_ROLES} 个角色 / notify 1..{MAX_NOTIFY_ROLES} roles"
            )
        custom = {r.id: r.permissions for r in uow.roles.all()}
        for role in roles:
            if role not in BUILTIN_ROLES and role not in custom:
                raise _problem("notify_roles", f"未知角色 / unknown role: {role}")
            if Permission.QC_READ not in role_permissions(role, custom):
                raise _problem("notify_roles", f"角色 {role} 无质检查看权限 / role {role} lacks qc:read")

    def list_rules(self, *, actor: Actor) -> list[HighRiskRule]:
        assert actor.principal is not None
        with self.uows.read() as uow:
            return uow.high_risk.rules(scope_path=actor.principal.branch_path)

    def get_rule(self, *, actor: Actor, rule_id: int) -> HighRiskRule:
        assert actor.principal is not None
        with self.uows.read() as uow:
            rule = uow.high_risk.rule(rule_id)
        if rule is None or not in_scope(actor.principal.branch_path, rule.branch_path):
            raise NotFoundError(msg("review.high_risk_rule_found"), details={"rule_id": rule_id})
        return rule

    def save_rule(
        self,
        *,
        actor: Actor,
        rule_id: int | None,
        name: str,
        enabled: bool,
        branch_id: int | None,
        conditions: RuleConditions,
        notify_roles: Sequence[str],
    ) -> HighRiskRule:
        assert actor.principal is not None
        name = name.strip()
        if not name or len(name) > 200:
            raise _problem("name", "规则名称必填 / a rule needs a name")
        roles = tuple(dict.fromkeys(notify_roles))
        now = datetime.now(UTC)
        with self.uows() as uow:
            if rule_id is not None:
                old = uow.high_risk.rule(rule_id)
                if old is None or not in_scope(actor.principal.branch_path, old.branch_path):
                    raise NotFoundError(msg("review.high_risk_rule_found"), details={"rule_id": rule_id})
            branch = branch_in_scope(uow, actor.principal, branch_id or actor.principal.branch_id)
            self._check(uow, conditions, roles)
            fields: dict[str, Any] = {
                "name": name,
                "enabled": enabled,
                "branch_id": branch.id,
                "conditions": conditions.to_json(),
                "notify_roles": list(roles),
                "updated_by": actor.name,
                "updated_at": now,
            }
            if rule_id is None:
                rule_id = uow.high_risk.add_rule(created_by=actor.name, created_at=now, **fields)
                action = HighRiskAction.RULE_CREATED
            else:
                uow.high_risk.update_rule(rule_id, **fields)
                action = HighRiskAction.RULE_UPDATED
            audit.record(
                uow,
                actor=actor,
                action=action,
                target_type="review_high_risk_rule",
                target_id=rule_id,
                details={k: v for k, v in fields.items() if k not in ("updated_by", "updated_at")},
                branch_id=branch.id,
            )
            uow.commit()
            rule = uow.high_risk.rule(rule_id)
        assert rule is not None
        return rule

    # ---- evaluation ----------------------------------------------------------------------------

    def evaluate(self, recording_id: str, *, actor: Actor = SYSTEM) -> HighRiskFlag | None:
        """Evaluate the enabled rules on a finished recording, store the flag, notify when it is
        newly flagged. None when the recording has no finished QC."""
        with self.uows.read() as uow:
            rec = uow.recordings.get(recording_id)
            if rec is None or rec.status != "done" or rec.verdict is None:
                return None
            link = uow.archive.task_link(recording_id)
            task = uow.tasks.get(link[0]) if link else None
            rules = [
                r for r in uow.high_risk.rules(enabled_only=True) if in_scope(r.branch_path, rec.branch_path)
            ]
        report = load_report(self.blobs, (rec.artifacts or {}).get("report"))
        facts = facts_from_report(
            report,
            recording_id=recording_id,
            branch_id=rec.branch_id,
            verdict=str(rec.verdict),
            risk_score=int(rec.risk_score or 0),
            customer_type=task.customer_type if task else "",
            risk_level=task.risk_level if task else "",
            mode=task.mode if task else str(rec.task_inputs.get("mode") or ""),
        )
        matched: list[dict[str, Any]] = []
        for rule in rules:
            why = match_reasons(rule.conditions, facts)
            if why is not None:
                matched.append(
                    {"id": rule.id, "name": rule.name, "reasons": why, "roles": list(rule.notify_roles)}
                )
        now = datetime.now(UTC)
        mails: list[tuple[tuple[str, ...], str, str]] = []
        with self.uows() as uow:
            before, flag = uow.high_risk.put_flag(
                recording_id=recording_id, branch_id=rec.branch_id, rules=matched, now=now
            )
            was = before is not None and before.high_risk
            if flag.high_risk and not was:
                mails = self._notify(uow, rec.branch_id, recording_id, matched, task, link, now)
                audit.record(
                    uow,
                    actor=actor,
                    action=HighRiskAction.FLAGGED,
                    target_type="recording",
                    target_id=recording_id,
                    details={"rules": matched, "risk_score": facts.risk_score, "verdict": facts.verdict},
                    branch_id=rec.branch_id,
                )
            elif was and not flag.high_risk:
                audit.record(
                    uow,
                    actor=actor,
                    action=HighRiskAction.CLEARED,
                    target_type="recording",
                    target_id=recording_id,
                    details={"before": list(before.rules) if before else []},
                    branch_id=rec.branch_id,
                )
            uow.commit()
        for to, subject, body in mails:  # after the commit: a slow mail server holds no transaction
            if self.mailer is not None:
                self.mailer.send(to, subject, body)
        return flag

    def _notify(
        self,
        uow: UnitOfWork,
        branch_id: int,
        recording_id: str,
        matched: list[dict[str, Any]],
        task: Any,
        link: tuple[str, int] | None,
        now: datetime,
    ) -> list[tuple[tuple[str, ...], str, str]]:
        names = "、".join(str(m["name"]) for m in matched)
        title = f"高风险录像 / high-risk recording: {names}"
        body = {"rules": matched, "recording_id": recording_id}
        roles = list(dict.fromkeys(r for m in matched for r in m["roles"]))
        mails: list[tuple[tuple[str, ...], str, str]] = []
        for role in roles:
            uow.high_risk.add_notice(
                kind=NOTICE_KIND,
                role=role,
                branch_id=branch_id,
                recording_id=recording_id,
                title=title[:300],
                body=body,
                created_at=now,
            )
            to = self.email_to.get(role, ())
            if to:
                lines = [f"{m['name']}: " + "; ".join(m["reasons"]) for m in matched]
                url = f"{self.console_url}/recordings/{recording_id}" if self.console_url else ""
                text = "\n".join([f"录像 / recording {recording_id}", *lines, url]).strip() + "\n"
                mails.append((to, title, text))
        if task is not None and link is not None and task.attempt_no == link[1]:
            webhooks.enqueue(
                uow,
                task_id=task.id,
                source_key=task.source_key,
                url=task.callback_url,
                event=WebhookEvent.HIGH_RISK.value,
                payload={
                    "task_id": task.id,
                    "business_type": task.business_type,
                    "business_no": task.business_no,
                    "attempt": link[1],
                    "recording_id": recording_id,
                    "rules": [{"id": m["id"], "name": m["name"], "reasons": m["reasons"]} for m in matched],
                    "at": now.isoformat(),
                },
            )
        return mails

    def reevaluate(self, *, actor: Actor, recording_id: str) -> HighRiskFlag:
        """Evaluate again now (after a rule changed); 404 outside the caller's subtree or without QC."""
        self._visible_recording(actor, recording_id)
        flag = self.evaluate(recording_id, actor=actor)
        if flag is None:
            raise NotFoundError(msg("review.recording_finished_qc"), details={"recording_id": recording_id})
        return flag

    def _visible_recording(self, actor: Actor, recording_id: str) -> None:
        assert actor.principal is not None
        with self.uows.read() as uow:
            rec = uow.recordings.get(recording_id)
        if rec is None or not in_scope(actor.principal.branch_path, rec.branch_path):
            raise NotFoundError(msg("review.recording_found"), details={"recording_id": recording_id})

    def flag_of(self, *, actor: Actor, recording_id: str) -> HighRiskFlag | None:
        self._visible_recording(actor, recording_id)
        with self.uows.read() as uow:
            return uow.high_risk.flag(recording_id)

    # ---- notices -------------------------------------------------------------------------------

    def notices(self, *, actor: Actor, unread_only: bool, page: int, page_size: int) -> NoticePage:
        """The notices to the caller's role inside their subtree, with their own read marks."""
        p = actor.principal
        assert p is not None
        if p.kind != "user":
            return NoticePage([], 0, 0)
        with self.uows.read() as uow:
            items, total, unread = uow.high_risk.notices(
                role=p.role,
                scope_path=p.branch_path,
                user_id=p.id,
                unread_only=unread_only,
                offset=(page - 1) * page_size,
                limit=page_size,
            )
        return NoticePage(items, total, unread)

    def mark_read(self, *, actor: Actor, ids: Sequence[int] | None) -> int:
        """Mark the given notices (None: every visible one) read for the caller; ids the caller cannot
        see are 404."""
        p = actor.principal
        assert p is not None
        if p.kind != "user":
            return 0
        with self.uows() as uow:
            if ids is None:
                wanted = uow.high_risk.visible_ids(role=p.role, scope_path=p.branch_path)
            else:
                wanted = list(dict.fromkeys(ids))
                for nid in wanted:
                    if uow.high_risk.notice(nid, role=p.role, scope_path=p.branch_path) is None:
                        raise NotFoundError(msg("review.notice_found"), details={"notice_id": nid})
            added = uow.high_risk.mark_read(wanted, p.id, datetime.now(UTC))
            uow.commit()
        return added
