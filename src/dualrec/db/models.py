"""SQLAlchemy 2 tables. Every String has an explicit length (MySQL); times are UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from dualrec.db.base import Base, UTCDateTime

__all__ = [
    "ApiKeyRow",
    "ApiNonceRow",
    "AuditEventRow",
    "BranchRow",
    "EvidenceCheckpointRow",
    "EvidenceEventRow",
    "EvidenceHeadRow",
    "FlowRow",
    "FlowVersionRow",
    "JobRow",
    "LiveSessionRow",
    "QuestionBankRow",
    "QuestionRow",
    "RoleRow",
    "RoutingRuleRow",
    "ScriptTemplateRow",
    "SensitiveWordRow",
    "SessionChunkRow",
    "SessionEventRow",
    "SessionRow",
    "TaskAttemptRow",
    "TaskRow",
    "UserRow",
    "WebhookDeliveryRow",
]

BigId = BigInteger().with_variant(Integer, "sqlite")


class BranchRow(Base):
    __tablename__ = "branches"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    path: Mapped[str] = mapped_column(String(512), index=True, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoleRow(Base):
    """Custom roles (built-in roles live in core.rbac and are not stored)."""

    __tablename__ = "roles"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    permissions: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(40), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "zh-CN" | "en"; NULL: follow the browser's Accept-Language
    language: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)


class SessionRow(Base):
    """Web sessions; only the SHA-256 of the random session id is stored."""

    __tablename__ = "sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class ApiKeyRow(Base):
    """A business system's credential. The HMAC secret is stored encrypted with the app secret."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_encrypted: Mapped[str] = mapped_column(String(512))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    business_types: Mapped[list[str]] = mapped_column(JSON)
    permissions: Mapped[list[str]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiNonceRow(Base):
    """Nonces seen within the signature window (replay protection)."""

    __tablename__ = "api_nonces"
    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuditEventRow(Base):
    """Append-only security audit log, hash-chained (see core.audit)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigId)
    # the branch the event belongs to (the acting user's, or the target's): scopes who may read it.
    # No foreign key: the log outlives deleted branches. None: system events, head office only.
    branch_id: Mapped[int | None] = mapped_column(BigId, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), index=True)
    # core.audit.row_hash version: 1 = rows before migration 0010, 2 = every column hashed
    hash_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class JobRow(Base):
    """A background job. Payloads are JSON ids; unfinished rows are re-queued after a restart."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued|running|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(default=0.0)
    worker: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


Index("ix_audit_events_actor_at", AuditEventRow.actor, AuditEventRow.at)


class RecordingRow(Base):
    """An uploaded recording and the state of its QC (reports and evidence live in the blob store)."""

    __tablename__ = "recordings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    running_no: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    blob_key: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)  # task / flow / markers / id photo key
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued|running|done|failed
    job_id: Mapped[str | None] = mapped_column(String(36))
    verdict: Mapped[str | None] = mapped_column(String(16), index=True)
    risk_score: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    artifacts: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # report/patent/pdf/evidence → blob keys
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EvidenceEventRow(Base):
    """The tamper-evident evidence ledger (see core.evidence): append-only, one global hash chain."""

    __tablename__ = "evidence_events"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str] = mapped_column(String(64))
    subject_prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


Index(
    "ix_evidence_events_subject",
    EvidenceEventRow.subject_type,
    EvidenceEventRow.subject_id,
    EvidenceEventRow.seq,
)


class EvidenceHeadRow(Base):
    """The chain head (seq and hash of the last event); its row lock serialises appends."""

    __tablename__ = "evidence_heads"
    chain: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class EvidenceCheckpointRow(Base):
    """A signed statement of the ledger head and Merkle root at ``seq`` (append-only), the ``number``-th
    of the checkpoint chain; a copy of each is in the outside checkpoint log (docs/evidence.md)."""

    __tablename__ = "evidence_checkpoints"
    number: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigId, index=True)
    version: Mapped[int] = mapped_column(Integer, default=2, server_default="1")  # the payload's format
    prev_hash: Mapped[str | None] = mapped_column(String(64))  # format 2: the previous payload's hash
    audit_seq: Mapped[int | None] = mapped_column(BigInteger)  # format 2: the audit head anchored
    audit_hash: Mapped[str | None] = mapped_column(String(64))
    audited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # after an audit
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    head_hash: Mapped[str] = mapped_column(String(64))
    merkle_root: Mapped[str] = mapped_column(String(64))
    frontier: Mapped[list[Any]] = mapped_column(JSON)  # compact range: [[size, hash], ...]
    key_id: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)


class FlowRow(Base):
    """A flow being edited (``draft``) and the number of its latest published version."""

    __tablename__ = "flows"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    business_type: Mapped[str] = mapped_column(String(64), index=True, default="")
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)  # core.flow.flow_to_dict
    draft_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    draft_updated_by: Mapped[str] = mapped_column(String(100))
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FlowVersionRow(Base):
    """An immutable published version; tasks point at (flow_id, version)."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "version", name="uq_flow_versions_flow_id_version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[str] = mapped_column(String(100))
    changes: Mapped[list[Any]] = mapped_column(JSON)  # diff against the previous version
    review_hits: Mapped[list[Any]] = mapped_column(JSON)  # sensitive words found at publishing
    override_reason: Mapped[str] = mapped_column(Text, default="")


class QuestionBankRow(Base):
    """Questions of one business type, and how many a customer of each risk level answers."""

    __tablename__ = "question_banks"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)  # the business type
    name: Mapped[str] = mapped_column(String(200))
    draw_rules: Mapped[list[Any]] = mapped_column(
        JSON
    )  # [{risk_level, count, min_difficulty, max_difficulty}]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))


class QuestionRow(Base):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("bank", "code", name="uq_questions_bank_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bank: Mapped[str] = mapped_column(ForeignKey("question_banks.code", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    answers: Mapped[list[Any]] = mapped_column(JSON)  # [{text, synonyms}]
    difficulty: Mapped[int] = mapped_column(Integer, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScriptTemplateRow(Base):
    """话术模板: reusable node texts per business type and node type."""

    __tablename__ = "script_templates"
    __table_args__ = (
        UniqueConstraint("business_type", "node_type", "title", name="uq_script_templates_key"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_type: Mapped[str] = mapped_column(String(64), index=True)
    node_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoutingRuleRow(Base):
    """Interview mode and flow by customer type × business type × risk level (core.routing)."""

    __tablename__ = "routing_rules"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    priority: Mapped[int] = mapped_column(Integer, default=100)
    customer_types: Mapped[list[str]] = mapped_column(JSON)
    business_types: Mapped[list[str]] = mapped_column(JSON)
    risk_levels: Mapped[list[str]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(16))
    flow_code: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SensitiveWordRow(Base):
    """The editable sensitive-word list shared by text review and QC."""

    __tablename__ = "sensitive_words"
    word: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class TaskRow(Base):
    """A recording task created by a business system (or the console). Personal data (name, ID number,
    phone) is sealed with the app's secret box; ``*_hash`` (keyed blind index) allows exact lookup."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("source_key", "idempotency_key", name="uq_tasks_source_key_idempotency_key"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_key: Mapped[str] = mapped_column(String(64), index=True)  # API key id, or "user:<id>"
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_sha256: Mapped[str] = mapped_column(String(64))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    business_type: Mapped[str] = mapped_column(String(64), index=True)
    business_no: Mapped[str] = mapped_column(String(64), index=True)
    contract_no: Mapped[str] = mapped_column(String(64), index=True, default="")
    product: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[str] = mapped_column(String(32), default="")
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(100), index=True)  # legacy plaintext; now ""
    customer_name_sealed: Mapped[str] = mapped_column(String(512), default="")
    customer_name_hash: Mapped[str] = mapped_column(String(64), index=True, default="")
    customer_type: Mapped[str] = mapped_column(String(32))
    risk_level: Mapped[str] = mapped_column(String(8))
    id_number_sealed: Mapped[str] = mapped_column(String(512))
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_sealed: Mapped[str] = mapped_column(String(512), default="")
    documents: Mapped[list[Any]] = mapped_column(JSON)
    callback_url: Mapped[str] = mapped_column(String(1000), default="")
    mode: Mapped[str] = mapped_column(String(16))
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="RESTRICT"), index=True)
    flow_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempt_no: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TaskAttemptRow(Base):
    """One try at recording a task; a reset starts a new attempt and keeps the old one for audit."""

    __tablename__ = "task_attempts"
    __table_args__ = (UniqueConstraint("task_id", "number", name="uq_task_attempts_task_id_number"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    flow_version: Mapped[int] = mapped_column(Integer)
    draws: Mapped[list[Any]] = mapped_column(JSON)  # the question draws, replayable (core.questions)
    entry_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    recording_id: Mapped[str | None] = mapped_column(String(36))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookDeliveryRow(Base):
    """A signed notification to a business system, retried with backoff; ``log`` keeps every try."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    source_key: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LiveSessionRow(Base):
    """The customer's self-service session of one attempt (H5): flow position, identity results."""

    __tablename__ = "live_sessions"
    __table_args__ = (UniqueConstraint("task_id", "attempt_no", name="uq_live_sessions_task_attempt"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="RESTRICT"), index=True)
    attempt_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    flow_state: Mapped[dict[str, Any]] = mapped_column(JSON)
    segment: Mapped[int] = mapped_column(Integer, default=0)
    identity: Mapped[dict[str, Any]] = mapped_column(JSON)
    final_seqs: Mapped[dict[str, Any]] = mapped_column(JSON)  # segment (str) → last chunk number
    reason: Mapped[str] = mapped_column(Text, default="")
    recording_id: Mapped[str | None] = mapped_column(String(36))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SessionChunkRow(Base):
    """One acknowledged piece of the page's MediaRecorder output (stored as a blob)."""

    __tablename__ = "session_chunks"
    __table_args__ = (
        UniqueConstraint("session_id", "segment", "seq", name="uq_session_chunks_session_segment_seq"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    segment: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SessionEventRow(Base):
    """打点: what happened in a session, on the page's recording clock (segment + seconds)."""

    __tablename__ = "session_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    segment: Mapped[int] = mapped_column(Integer)
    t: Mapped[float] = mapped_column(Double)
    node_id: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
