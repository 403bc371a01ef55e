"""Evidence packages for the archive system: pushed to a configured HTTP endpoint, or fetched by it.

**Push.** ``request_push`` queues an ``archive.push`` job (the job row is the persisted state: it
survives restarts, and the queue retries a failed try with exponential backoff until
``DUALREC_ARCHIVE_PUSH_MAX_ATTEMPTS``). Each try builds the recording's evidence package (the ZIP of
``dualrec evidence export``: recording, reports, evidence frames, ledger events, proofs, signed
checkpoint and statement) and POSTs it as ``multipart/form-data``:

* ``metadata`` — JSON: the recording (id, running number, business type, branch, verdict, hashes) and
  the package (file name, SHA-256, size);
* ``package`` — the ZIP.

Headers as for webhooks (core.webhooks): ``X-Dualrec-Event: archive.package``, ``X-Dualrec-Delivery``
(the job id: the same on every retry, receivers dedupe on it), ``X-Dualrec-Timestamp`` and
``X-Dualrec-Signature: v1=HMAC-SHA256(secret, f"{timestamp}." + metadata bytes)``. The metadata
carries the package's SHA-256, so one signature over the small part authenticates the large one.
Any 2xx answer is a delivery; anything else (or no answer) is a failed try. Every try is audited.

**Download.** ``package_for_download`` builds the same ZIP for an authorised caller (a user or a
business system's API key holding ``evidence:export``; a key limited to business types sees only
recordings of those types).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualrec.core.audit import AuditAction
from dualrec.core.outbound import AllowList
from dualrec.core.recordings import Recording
from dualrec.core.webhooks import encode_body, request_headers, sign_webhook
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import ConfigurationError, ConflictError, NotFoundError
from dualrec.i18n import msg
from dualrec.jobs.ports import JobContext, JobQueue
from dualrec.services.common import audit, outbound
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.common.job_kinds import ARCHIVE_PUSH_JOB_KIND
from dualrec.services.evidence.ledger import Notary
from dualrec.services.evidence.package import PACKAGE_FORMAT, export_package
from dualrec.services.recordings.service import get_recording
from dualrec.storage.ports import BlobStore

__all__ = [
    "PUSH_EVENT",
    "ArchivePushConfig",
    "ArchivePushError",
    "ArchivePusher",
    "BuiltPackage",
    "package_for_download",
    "push_status",
    "request_push",
]

logger = logging.getLogger(__name__)

PUSH_EVENT = "archive.package"


class ArchivePushError(RuntimeError):
    """One failed try (retried by the job queue until its attempts are spent)."""


@dataclass(frozen=True)
class ArchivePushConfig:
    url: str
    secret: str
    max_attempts: int = 10
    timeout_seconds: float = 120.0
    allow: AllowList = field(default_factory=AllowList)  # non-public destinations allowed

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class BuiltPackage:
    path: Path  # inside a temporary directory the caller removes (``cleanup``)
    filename: str
    sha256: str
    size: int

    def cleanup(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def _build(
    uows: UnitOfWorkFactory, blobs: BlobStore, notary: Notary, rec: Recording, scratch: Path
) -> BuiltPackage:
    scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="package-", dir=scratch))
    filename = f"evidence-{rec.id}.zip"
    try:
        result = export_package(
            uows, blobs, notary, subject_type="recording", subject_id=rec.id, out=workdir / filename
        )
        digest = hashlib.sha256()
        with result.path.open("rb") as fh:
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return BuiltPackage(result.path, filename, digest.hexdigest(), result.size)


def _metadata(rec: Recording, package: BuiltPackage, *, delivery_id: str, attempt: int) -> dict[str, Any]:
    return {
        "event": PUSH_EVENT,
        "delivery_id": delivery_id,
        "attempt": attempt,
        "recording": {
            "id": rec.id,
            "running_no": rec.running_no,
            "business_type": rec.business_type,
            "branch_id": rec.branch_id,
            "created_at": rec.created_at.isoformat(),
            "finished_at": rec.finished_at.isoformat() if rec.finished_at else None,
            "status": rec.status,
            "verdict": rec.verdict,
            "risk_score": rec.risk_score,
            "sha256": rec.sha256,
            "size": rec.size,
        },
        "package": {
            "format": PACKAGE_FORMAT,
            "filename": package.filename,
            "sha256": package.sha256,
            "size": package.size,
        },
    }


def request_push(
    uows: UnitOfWorkFactory, queue: JobQueue, config: ArchivePushConfig, *, actor: Actor, recording_id: str
) -> str:
    """Queue a push of the recording's package; returns the job id (its status: ``push_status``)."""
    rec = get_recording(uows, actor=actor, recording_id=recording_id)
    if not config.enabled or not config.secret:
        raise ConflictError(msg("archive.archive_system_configured_dualrec_archive"))
    if rec.status != "done":
        raise ConflictError(msg("archive.package_pushed_once_qc_finished"), details={"status": rec.status})
    job_id = queue.enqueue(
        ARCHIVE_PUSH_JOB_KIND,
        {"recording_id": rec.id, "requested_by": actor.name},
        max_attempts=config.max_attempts,
    )
    with uows() as uow:
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.EVIDENCE_PUSH_REQUESTED,
            target_type="recording",
            target_id=rec.id,
            details={"job_id": job_id, "running_no": rec.running_no, "business_type": rec.business_type},
        )
        uow.commit()
    return job_id


def push_status(uows: UnitOfWorkFactory, queue: JobQueue, *, actor: Actor, job_id: str) -> dict[str, Any]:
    """A push job as its requester sees it (404 for other jobs or recordings out of the caller's scope)."""
    try:
        job = queue.get(job_id)
    except NotFoundError:
        job = None
    if job is None or job.kind != ARCHIVE_PUSH_JOB_KIND:
        raise NotFoundError(msg("archive.push_found"), details={"job_id": job_id})
    get_recording(uows, actor=actor, recording_id=str(job.payload.get("recording_id")))
    return {
        "job_id": job.id,
        "recording_id": job.payload.get("recording_id"),
        "status": job.status,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "error": job.error,
        "result": dict(job.result) if job.result else None,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


class ArchivePusher:
    """Job handler for ``archive.push`` (payload ``{"recording_id", "requested_by"}``)."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        blobs: BlobStore,
        notary: Callable[[], Notary],
        config: ArchivePushConfig,
        scratch_dir: Path,
    ) -> None:
        self._uows, self._blobs, self._notary = uows, blobs, notary
        self._config, self._scratch = config, scratch_dir

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        import httpx

        recording_id = str(ctx.payload["recording_id"])
        if not self._config.enabled or not self._config.secret:
            raise ConfigurationError(msg("archive.archive_push_configured_worker"))
        with self._uows.read() as uow:
            rec = uow.recordings.get(recording_id)
        if rec is None:
            raise NotFoundError(f"recording {recording_id} vanished")
        package = _build(self._uows, self._blobs, self._notary(), rec, self._scratch)
        try:
            metadata = encode_body(_metadata(rec, package, delivery_id=ctx.job_id, attempt=ctx.attempt))
            timestamp = int(time.time())
            headers = request_headers(
                delivery_id=ctx.job_id,
                event=PUSH_EVENT,
                timestamp=timestamp,
                signature=sign_webhook(self._config.secret, timestamp, metadata),
            )
            headers.pop("Content-Type")  # multipart: httpx sets it with the boundary
            started = time.monotonic()
            status_code: int | None = None
            refused: outbound.OutboundRefusedError | None = None
            try:  # the answer's body is not read: only its status code is kept (SSRF)
                with (
                    package.path.open("rb") as fh,
                    httpx.Client(follow_redirects=False) as client,
                    outbound.stream(
                        client,
                        "POST",
                        self._config.url,
                        self._config.allow,
                        headers=headers,
                        files={
                            "metadata": ("metadata.json", metadata, "application/json"),
                            "package": (package.filename, fh, "application/zip"),
                        },
                        timeout=self._config.timeout_seconds,
                    ) as response,
                ):
                    code = status_code = response.status_code
                error = "" if 200 <= code < 300 else f"HTTP {code}"
                if 300 <= code < 400:
                    error += " (redirects are not followed)"
            except outbound.OutboundRefusedError as exc:
                error, refused = exc.message[:300], exc
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            ms = int((time.monotonic() - started) * 1000)
        finally:
            package.cleanup()
        details = {
            "job_id": ctx.job_id,
            "attempt": ctx.attempt,
            "status_code": status_code,
            "ms": ms,
            "package_sha256": package.sha256,
            "size": package.size,
            "requested_by": str(ctx.payload.get("requested_by") or ""),
            "running_no": rec.running_no,
            "business_type": rec.business_type,
        }
        with self._uows() as uow:
            audit.record(
                uow,
                actor=SYSTEM,
                action=AuditAction.EVIDENCE_PUSH_FAILED if error else AuditAction.EVIDENCE_PUSHED,
                target_type="recording",
                target_id=rec.id,
                outcome="failure" if error else "success",
                details={**details, "error": error} if error else details,
            )
            uow.commit()
        if error:
            logger.warning("archive push of %s, try %d failed: %s", rec.id, ctx.attempt, error)
            if refused is not None:
                raise refused  # not retried: the destination stays refused until the settings change
            raise ArchivePushError(error)
        return {"status_code": status_code, "package_sha256": package.sha256, "size": package.size}


def _key_business_types(uows: UnitOfWorkFactory, actor: Actor) -> tuple[str, ...]:
    """The business types an API key is limited to (empty: no limit; users are never limited)."""
    p = actor.principal
    if p is None or p.kind != "api_key":
        return ()
    with uows.read() as uow:
        found = uow.api_keys.by_key_id(p.name.split(":", 1)[-1])
    return tuple(found[0].business_types) if found else ()


def package_for_download(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    notary: Notary,
    scratch_dir: Path,
    *,
    actor: Actor,
    recording_id: str,
) -> BuiltPackage:
    """The recording's evidence package for ``actor`` (audited); the caller streams it, then cleans up."""
    rec = get_recording(uows, actor=actor, recording_id=recording_id)
    business_type = rec.business_type
    allowed = _key_business_types(uows, actor)
    if allowed and business_type not in allowed:
        raise NotFoundError(msg("archive.recording_found"), details={"recording_id": recording_id})
    package = _build(uows, blobs, notary, rec, scratch_dir)
    with uows() as uow:
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.EVIDENCE_PACKAGE_DOWNLOADED,
            target_type="recording",
            target_id=rec.id,
            details={
                "sha256": package.sha256,
                "size": package.size,
                "running_no": rec.running_no,
                "business_type": business_type,
                "via": actor.principal.kind if actor.principal else "",
            },
        )
        uow.commit()
    return package
