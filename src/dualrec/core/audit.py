"""Audit log rules: the action vocabulary and the hash chain that makes the log tamper-evident.

Each audit row stores ``hash = SHA-256(prev_hash + canonical JSON of the row)``; a verifier
recomputes the chain and names the first row that does not match.

Hash versions (the row's ``hash_version``): 1 (rows written before migration 0010) covers time,
actor, action, target, outcome and details; 2 covers every column but the id and the hash itself
(adding ``actor_id``, ``branch_id``, ``ip`` and ``user_agent``), as stored (after truncation).
Versions never go back along the chain: a version-1 row after a version-2 row is reported.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["AUDIT_HASH_VERSION", "GENESIS_HASH", "AuditAction", "chain_hash", "row_hash"]

AUDIT_HASH_VERSION = 2  # what new rows are hashed with

GENESIS_HASH = "0" * 64


class AuditAction:
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    LOCKED_OUT = "auth.locked_out"
    PASSWORD_CHANGED = "auth.password_changed"
    PERMISSION_DENIED = "auth.permission_denied"
    API_SIGNATURE_INVALID = "auth.api_signature_invalid"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DELETED = "user.deleted"
    USER_UNLOCKED = "user.unlocked"
    ROLE_CREATED = "role.created"
    ROLE_UPDATED = "role.updated"
    ROLE_DELETED = "role.deleted"
    BRANCH_CREATED = "branch.created"
    BRANCH_UPDATED = "branch.updated"
    BRANCH_DELETED = "branch.deleted"
    APIKEY_CREATED = "apikey.created"
    APIKEY_REVOKED = "apikey.revoked"
    SETTINGS_UPDATED = "settings.updated"
    RECORDING_UPLOADED = "recording.uploaded"
    RECORDING_QC_FINISHED = "recording.qc_finished"
    FLOW_CREATED = "flow.created"
    FLOW_SAVED = "flow.saved"
    FLOW_PUBLISHED = "flow.published"
    FLOW_REVIEW_OVERRIDDEN = "flow.review_overridden"
    QUESTIONS_CHANGED = "questions.changed"
    QUESTIONS_IMPORTED = "questions.imported"
    ROUTING_CHANGED = "routing.changed"
    SENSITIVE_WORDS_CHANGED = "sensitive_words.changed"
    TASK_CREATED = "task.created"
    TASK_RESET = "task.reset"
    TASK_CANCELLED = "task.cancelled"
    TASK_LINK_ISSUED = "task.link_issued"
    WEBHOOK_RESENT = "webhook.resent"
    SESSION_CHUNKS_DELETED = "session.chunks_deleted"  # chunks of an ended attempt swept (quota, privacy)
    AGENT_UPLOAD_COMPLETED = "agent_upload.completed"
    RTC_JOINED = "rtc.joined"  # an agent joined a remote interview (the customer joins with the link)
    RTC_ENDED = "rtc.ended"  # the agent hung up: the recording job is queued
    RTC_QUEUED = "rtc.queued"  # a customer entered the human-interviewer queue
    RTC_ACCEPTED = "rtc.accepted"  # an agent took a customer from the queue
    RTC_QUEUE_ABANDONED = "rtc.queue_abandoned"  # the customer left the queue (or the page went away)
    RTC_QUEUE_TIMEOUT = "rtc.queue_timeout"  # nobody accepted in time: the task expired
    RTC_SKILLS_SET = "rtc.skills_set"  # an interviewer's skill groups changed
    AGENT_UPLOAD_REJECTED = "agent_upload.rejected"
    ARCHIVE_UPDATED = "archive.updated"
    ARCHIVE_EXPORTED = "archive.exported"
    ARCHIVE_LEGAL_HOLD_SET = "archive.legal_hold_set"
    ARCHIVE_LEGAL_HOLD_RELEASED = "archive.legal_hold_released"
    ARCHIVE_DELETION_REQUESTED = "archive.deletion_requested"
    ARCHIVE_DELETION_APPROVED = "archive.deletion_approved"
    ARCHIVE_DELETION_REJECTED = "archive.deletion_rejected"
    ARCHIVE_DELETION_REFUSED = "archive.deletion_refused"
    ARCHIVE_DELETION_CANCELLED = "archive.deletion_cancelled"
    ARCHIVE_DELETED = "archive.deleted"
    ARCHIVE_LEFTOVERS_DELETED = "archive.leftovers_deleted"
    ARCHIVE_EXPIRING_NOTIFIED = "archive.expiring_notified"
    RETENTION_POLICY_CHANGED = "retention.policy_changed"
    APPROVAL_CHAIN_CHANGED = "approval.chain_changed"
    # evidence leaving the system (the auditors' litigation log, services.litigation.auditor_logs)
    EVIDENCE_LITIGATION_REPORT = "evidence.litigation_report"  # a signed litigation PDF was produced
    EVIDENCE_PACKAGE_DOWNLOADED = "evidence.package_downloaded"
    EVIDENCE_PUSH_REQUESTED = "evidence.push_requested"
    EVIDENCE_PUSHED = "evidence.pushed"  # the archive system accepted a package
    EVIDENCE_PUSH_FAILED = "evidence.push_failed"  # one failed try (retried until the budget is spent)
    AUDIT_EXPORTED = "audit.exported"  # an operation/litigation log export (CSV or PDF)
    # the integrity audit of the evidence ledger and this log (services.evidence.integrity)
    INTEGRITY_AUDITED = "integrity.audited"  # one run: outcome success (clean) or failure
    INTEGRITY_ALERT = "integrity.alert"  # tampering seen outside an audit run (e.g. when signing)


def chain_hash(
    prev_hash: str, at: datetime, actor: str, action: str, target: str, outcome: str, details: dict[str, Any]
) -> str:
    body = json.dumps(
        {
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "target": target,
            "outcome": outcome,
            "details": details,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def row_hash(
    version: int,
    prev_hash: str,
    *,
    at: datetime,
    actor: str,
    actor_id: int | None,
    branch_id: int | None,
    action: str,
    target_type: str,
    target_id: str,
    outcome: str,
    ip: str,
    user_agent: str,
    details: dict[str, Any],
) -> str:
    """The hash of one audit row under hash ``version`` (1: the legacy ``chain_hash``; 2: every column)."""
    if version == 1:
        return chain_hash(prev_hash, at, actor, action, f"{target_type}:{target_id}", outcome, details)
    if version != 2:
        raise ValueError(f"unknown audit hash version {version}")
    body = json.dumps(
        {
            "v": 2,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "actor_id": actor_id,
            "branch_id": branch_id,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "outcome": outcome,
            "ip": ip,
            "user_agent": user_agent,
            "details": details,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()
