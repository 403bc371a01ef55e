"""Resumable package uploads from local QC agents (SPEC §7 store and forward; issue 7).

A device opens an upload with the package manifest (``open_upload``, idempotent by package id),
then sends the content in chunks at the offset the server reports (``append_chunk``; a chunk at any
other offset is refused with the current offset, so a device that lost track just continues from
there). Chunks are stored as (encrypted) blobs. When the last byte arrives the server verifies every
file's SHA-256, creates a recording through ``services.recordings.service`` (so it gets the server's QC,
evidence and archive like any upload), keeps the agent's own reports beside it and attaches it to
the task: the one named when the upload was opened (``task_id``, as the console's upload dialog
picks one), else the newest with the same business serial number (``business_no`` = the agent's
``runningNo``). A recording attached to a task gets the task's data and the flow its attempt runs
(drawn questions included), so the server's script and answer checks run on it (the agent sends no
node markers: the nodes are found in the transcript).

Exactly once: the package id is unique; the recording carries the upload id, so a finalisation
interrupted after the recording was created finds it instead of creating another.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from dualrec.core.agent_package import AgentUpload, PackageFile, PackageManifest, package_id, parse_manifest
from dualrec.core.audit import AuditAction
from dualrec.core.branches import in_scope
from dualrec.core.flow import flow_to_dict
from dualrec.core.questions import attempt_flow
from dualrec.core.rbac import Permission
from dualrec.core.tasks import Task
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.jobs.ports import JobQueue
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.evidence import ledger
from dualrec.services.recordings.service import QcInputs, submit_recording
from dualrec.storage.ports import BlobStore

__all__ = [
    "FINALIZE_LEASE",
    "MAX_CHUNK_BYTES",
    "append_chunk",
    "get_upload",
    "list_uploads",
    "open_artifact",
    "open_upload",
]

logger = logging.getLogger(__name__)

MAX_CHUNK_BYTES = 16 * 1024 * 1024
FINALIZE_LEASE = timedelta(minutes=15)  # a finalisation older than this was interrupted: redo it
_CONTENT_TYPES = {"report": "application/json", "check_data": "application/json", "evidence": "image/jpeg"}


def _visible(uow: UnitOfWork, actor: Actor, upload_id: str, *, for_update: bool = False) -> AgentUpload:
    assert actor.principal is not None
    found = uow.agent_uploads.get(upload_id, for_update=for_update)
    if found is None or not in_scope(actor.principal.branch_path, found.branch_path):
        raise NotFoundError(msg("recordings.upload_found"), details={"upload_id": upload_id})
    return found


def open_upload(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    queue: JobQueue,
    *,
    actor: Actor,
    manifest: Any,
    max_bytes: int,
    task_id: str | None = None,
) -> AgentUpload:
    """Creates the upload of this package, or returns the existing one (with its resume offset).
    ``task_id``: the task the recording is for (needs tasks:read; visible to the device's branch
    scope, else 404; its business serial number must be the package's runningNo)."""
    assert actor.principal is not None
    parsed = parse_manifest(manifest)
    pid = package_id(parsed)
    if task_id is not None:
        with uows.read() as uow:
            _named_task(uow, actor, task_id, parsed.running_no)
    if parsed.size > max_bytes:
        raise InvalidInputError(
            msg("recordings.package_larger_than_bytes", max_bytes=max_bytes),
            details={"size": parsed.size},
        )
    with uows() as uow:
        found = uow.agent_uploads.by_package(pid)
        if found is None:
            upload_id = str(uuid.uuid4())
            added = uow.agent_uploads.add(
                id=upload_id,
                package_id=pid,
                branch_id=actor.principal.branch_id,
                created_by=actor.name[:100],
                running_no=parsed.running_no,
                business_type=parsed.business_type,
                manifest=parsed.to_dict(),
                size=parsed.size,
                status="receiving",
                task_id=task_id,
            )
            if added:
                uow.commit()
            else:  # another request created it first
                uow.rollback()
        found = _by_package_in_scope(uow, actor, pid)
    if task_id is not None and found.task_id != task_id:
        raise ConflictError(
            msg("recordings.package_opened_another_task"),
            details={"task_id": found.task_id},
        )
    return _maybe_finalize(uows, blobs, queue, actor=actor, upload=found, max_bytes=max_bytes)


def _named_task(uow: UnitOfWork, actor: Actor, task_id: str, running_no: str) -> Task:
    assert actor.principal is not None
    if not actor.principal.can(Permission.TASKS_READ):
        raise PermissionDeniedError(
            msg("recordings.attaching_task_requires_tasks_read"),
            details={"permission": Permission.TASKS_READ.value},
        )
    task = uow.tasks.get(task_id)
    if task is None or not in_scope(actor.principal.branch_path, task.branch_path):
        raise NotFoundError(msg("recordings.task_found"), details={"task_id": task_id})
    if task.business_no != running_no:
        raise InvalidInputError(
            msg("recordings.task_s_business_number_package", business_no=task.business_no),
            details={"errors": [{"loc": ["task_id"], "msg": "business_no differs from runningNo"}]},
        )
    return task


def _by_package_in_scope(uow: UnitOfWork, actor: Actor, pid: str) -> AgentUpload:
    assert actor.principal is not None
    found = uow.agent_uploads.by_package(pid)
    if found is None or not in_scope(actor.principal.branch_path, found.branch_path):
        # the same package sent by a device of another branch: never reveal or merge it
        raise ConflictError(msg("recordings.package_belongs_another_branch"))
    return found


def _maybe_finalize(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    queue: JobQueue,
    *,
    actor: Actor,
    upload: AgentUpload,
    max_bytes: int,
) -> AgentUpload:
    """Finalises an upload whose content is complete and that nobody is finalising now."""
    if upload.status != "finalizing":
        return upload
    with uows() as uow:
        cur = _visible(uow, actor, upload.id, for_update=True)
        if cur.status != "finalizing" or cur.updated_at > datetime.now(UTC) - FINALIZE_LEASE:
            return cur  # finished, or being finalised by the request that stored the last byte
        uow.agent_uploads.update(cur.id, error=None)  # that request died: take over (updated_at = now)
        uow.commit()
        claimed = _visible(uow, actor, upload.id)
    return _finalize(uows, blobs, queue, actor=actor, upload=claimed, max_bytes=max_bytes)


def append_chunk(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    queue: JobQueue,
    *,
    actor: Actor,
    upload_id: str,
    offset: int,
    data: bytes,
    max_bytes: int,
) -> AgentUpload:
    with uows() as uow:
        upload = _visible(uow, actor, upload_id)
    if upload.status != "receiving":
        return upload  # a retried last chunk whose answer was lost: the package is already whole
    if offset != upload.received:
        raise ConflictError(
            msg("recordings.expected_offset", received=upload.received),
            details={"offset": upload.received},
        )
    if not data or len(data) > MAX_CHUNK_BYTES or offset + len(data) > upload.size:
        raise InvalidInputError(
            msg("recordings.chunk_1_bytes_ends_inside", MAX_CHUNK_BYTES=MAX_CHUNK_BYTES),
            details={"offset": upload.received, "size": upload.size},
        )
    ref = blobs.put(data, content_type="application/octet-stream")
    with uows() as uow:
        cur = _visible(uow, actor, upload_id, for_update=True)
        if cur.status != "receiving" or cur.received != offset:  # a concurrent request won
            blobs.delete(ref.key)
            raise ConflictError(
                msg("recordings.expected_offset", received=cur.received),
                details={"offset": cur.received},
            )
        end = offset + len(data)
        uow.agent_uploads.add_chunk(upload_id, start=offset, size=len(data), blob_key=ref.key)
        uow.agent_uploads.update(
            upload_id, received=end, status="finalizing" if end == cur.size else "receiving"
        )
        uow.commit()
        done = _visible(uow, actor, upload_id)
    if done.status != "finalizing":
        return done
    return _finalize(uows, blobs, queue, actor=actor, upload=done, max_bytes=max_bytes)


class _Content:
    """The package content read back from its chunk blobs, in order, in bounded pieces."""

    def __init__(self, blobs: BlobStore, chunks: list[tuple[int, int, str]]) -> None:
        self._blobs = blobs
        self._chunks = iter(chunks)
        self._current: Any = None

    def read(self, size: int = -1, /) -> bytes:
        while True:
            if self._current is None:
                nxt = next(self._chunks, None)
                if nxt is None:
                    return b""
                self._current = self._blobs.open(nxt[2])
            data: bytes = self._current.read(size if size > 0 else 1024 * 1024)
            if data:
                return data
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()


class _Slice:
    """At most ``size`` bytes of a stream (one file of the package)."""

    def __init__(self, source: _Content, size: int) -> None:
        self._source, self._left = source, size
        self._pending = b""

    def read(self, size: int = -1, /) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size < 0 else min(size, self._left)
        while len(self._pending) < want:
            more = self._source.read(max(want - len(self._pending), 64 * 1024))
            if not more:
                break
            self._pending += more
        out, self._pending = self._pending[:want], self._pending[want:]
        self._left -= len(out)
        return out


class _Cursor:
    """Hands out consecutive slices of the content, carrying over bytes read past a slice's end."""

    def __init__(self, content: _Content) -> None:
        self._content = content
        self._carry = b""

    def read(self, size: int = -1, /) -> bytes:
        if self._carry:
            out, self._carry = (self._carry, b"") if size < 0 else (self._carry[:size], self._carry[size:])
            return out
        return self._content.read(size)

    def file(self, f: PackageFile) -> Iterator[bytes]:
        left = f.size
        while left > 0:
            piece = self.read(min(left, 1024 * 1024))
            if not piece:
                raise InvalidInputError(msg("recordings.package_content_incomplete"))
            if len(piece) > left:
                piece, self._carry = piece[:left], piece[left:] + self._carry
            left -= len(piece)
            yield piece


def _verify(blobs: BlobStore, chunks: list[tuple[int, int, str]], manifest: PackageManifest) -> list[str]:
    """Names of the files whose SHA-256 differs from the manifest (one pass over the content)."""
    content = _Content(blobs, chunks)
    cursor = _Cursor(content)
    bad = []
    try:
        for f in manifest.files:
            digest = hashlib.sha256()
            for piece in cursor.file(f):
                digest.update(piece)
            if digest.hexdigest() != f.sha256:
                bad.append(f.name)
    finally:
        content.close()
    return bad


def _reject(
    uows: UnitOfWorkFactory, blobs: BlobStore, actor: Actor, upload: AgentUpload, bad: list[str]
) -> None:
    """Drops the received content (the device sends it again from offset 0) and says why."""
    message = msg("recordings.package_sha_mismatch", files=", ".join(bad[:5]))
    with uows() as uow:
        keys = [k for _, _, k in uow.agent_uploads.chunks(upload.id)]
        uow.agent_uploads.delete_chunks(upload.id)
        uow.agent_uploads.update(upload.id, received=0, status="receiving", error=str(message))
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.AGENT_UPLOAD_REJECTED,
            target_type="agent_upload",
            target_id=upload.id,
            outcome="denied",
            details={"package_id": upload.package_id, "files": bad[:20]},
        )
        uow.commit()
    for key in keys:
        blobs.delete(key)
    raise InvalidInputError(message, details={"offset": 0, "files": bad[:20]})


def _existing_recording(uow: UnitOfWork, upload: AgentUpload) -> str | None:
    found, _ = uow.recordings.search(
        scope_path=upload.branch_path,
        running_no=upload.running_no,
        status=None,
        verdict=None,
        offset=0,
        limit=200,
    )
    for rec in found:
        if (rec.inputs.get("task") or {}).get("agent_upload_id") == upload.id:
            return rec.id
    return None


def _matching_task(
    uow: UnitOfWork, upload: AgentUpload
) -> tuple[str | None, dict[str, Any], dict[str, Any] | None]:
    """(task id, its QC task fields, the flow its current attempt runs) of the task named when the
    upload was opened, else of the newest task with ``business_no`` = the runningNo in the device's
    branch subtree; (None, {}, None) when there is none."""
    named = uow.tasks.get(upload.task_id) if upload.task_id else None
    if named is not None:
        t = named
    else:
        tasks, _ = uow.tasks.search(
            scope_path=upload.branch_path,
            filters={"business_no": upload.running_no},
            business_types=None,
            offset=0,
            limit=1,
        )
        found = uow.tasks.get(tasks[0].id) if tasks else None  # with its attempts (the draws)
        if found is None:
            return None, {}, None
        t = found
    fields: dict[str, Any] = {"customer_name": t.customer_name, "mode": t.mode, "task_id": t.id}
    attempt = t.current_attempt
    version = uow.flows.version(t.flow_id, t.flow_version)
    if version is None:
        return t.id, fields, None
    if attempt is not None:
        fields["attempt"] = attempt.number
    flow = flow_to_dict(attempt_flow(version.definition, attempt.draws if attempt is not None else []))
    return t.id, fields, flow


def _finalize(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    queue: JobQueue,
    *,
    actor: Actor,
    upload: AgentUpload,
    max_bytes: int,
) -> AgentUpload:
    manifest = parse_manifest(upload.manifest)
    with uows() as uow:
        chunks = uow.agent_uploads.chunks(upload.id)
        recording_id = _existing_recording(uow, upload)
        task_id, task_fields, task_flow = _matching_task(uow, upload)
    if sum(size for _, size, _ in chunks) != manifest.size:
        raise ConflictError(msg("recordings.package_content_incomplete"))
    bad = _verify(blobs, chunks, manifest)
    if bad:
        _reject(uows, blobs, actor, upload, bad)
    artifacts = _store_agent_files(blobs, chunks, manifest)
    if recording_id is None:
        content = _Content(blobs, chunks)
        try:
            rec = submit_recording(
                uows,
                blobs,
                queue,
                actor=actor,
                data=_Slice(content, manifest.recording.size),
                filename=manifest.recording.name,
                content_type="video/mp4",
                branch_id=upload.branch_id,
                inputs=QcInputs(
                    task={
                        "running_no": upload.running_no,
                        "business_type": upload.business_type,
                        "agent_upload_id": upload.id,
                        **task_fields,
                    },
                    flow=task_flow,  # the task's: its script and answer checks run
                    markers=None,
                ),
                id_photo=None,
                max_bytes=max_bytes,
            )
        finally:
            content.close()
        recording_id = rec.id
    with uows() as uow:
        cur = _visible(uow, actor, upload.id, for_update=True)
        if cur.status == "complete":  # finished by a concurrent finalisation after all
            return cur
        uow.agent_uploads.delete_chunks(upload.id)  # the content now lives in the recording's blob
        uow.agent_uploads.update(
            upload.id,
            status="complete",
            recording_id=recording_id,
            task_id=task_id,
            artifacts=artifacts,
            error=None,
            completed_at=datetime.now(UTC),
        )
        if task_id is not None:
            task = uow.tasks.get(task_id)
            attempt = task.current_attempt if task else None
            if attempt is not None and attempt.recording_id is None:
                uow.tasks.update_attempt(task_id, attempt.number, recording_id=recording_id)
        _record_agent_files(uow, blobs, recording_id, artifacts)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.AGENT_UPLOAD_COMPLETED,
            target_type="agent_upload",
            target_id=upload.id,
            details={
                "package_id": upload.package_id,
                "running_no": upload.running_no,
                "recording_id": recording_id,
                "task_id": task_id,
                "size": upload.size,
                "agent_verdict": manifest.verdict,
            },
        )
        uow.commit()
        done = _visible(uow, actor, upload.id)
    for _, _, key in chunks:
        blobs.delete(key)
    return done


def _store_agent_files(
    blobs: BlobStore, chunks: list[tuple[int, int, str]], manifest: PackageManifest
) -> dict[str, Any]:
    """The agent's reports and evidence frames as blobs: {report, check_data, evidence: {name: key}}."""
    content = _Content(blobs, chunks)
    cursor = _Cursor(content)
    out: dict[str, Any] = {"evidence": {}}
    try:
        for f in manifest.files:
            pieces = cursor.file(f)
            if f.role == "recording":
                for _ in pieces:  # skipped: stored by submit_recording
                    pass
                continue
            key = blobs.put(b"".join(pieces), content_type=_CONTENT_TYPES[f.role]).key
            if f.role == "evidence":
                out["evidence"][f.name.removeprefix("evidence/")] = key
            else:
                out[f.role] = key
    finally:
        content.close()
    return out


def _record_agent_files(
    uow: UnitOfWork, blobs: BlobStore, recording_id: str, artifacts: dict[str, Any]
) -> None:
    named = [
        (f"agent/{role}.json", artifacts[role]) for role in ("report", "check_data") if role in artifacts
    ]
    named += [(f"agent/evidence/{n}", k) for n, k in sorted(artifacts.get("evidence", {}).items())]
    for name, key in named:
        ledger.record_blob(
            uow,
            blobs,
            subject_type="recording",
            subject_id=recording_id,
            kind=ledger.EvidenceKind.REPORT_STORED,
            name=name,
            key=key,
        )


def get_upload(uows: UnitOfWorkFactory, *, actor: Actor, upload_id: str) -> AgentUpload:
    with uows() as uow:
        return _visible(uow, actor, upload_id)


def list_uploads(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    running_no: str | None,
    status: str | None,
    page: int,
    page_size: int,
) -> tuple[list[AgentUpload], int]:
    assert actor.principal is not None
    with uows() as uow:
        return uow.agent_uploads.search(
            scope_path=actor.principal.branch_path,
            running_no=running_no,
            status=status,
            offset=(page - 1) * page_size,
            limit=page_size,
        )


def open_artifact(
    uows: UnitOfWorkFactory, blobs: BlobStore, *, actor: Actor, upload_id: str, name: str
) -> bytes:
    """The agent's own ``report`` or ``check_data`` (SPEC §5) as it came in the package."""
    upload = get_upload(uows, actor=actor, upload_id=upload_id)
    key = (upload.artifacts or {}).get(name)
    if not isinstance(key, str):
        raise NotFoundError(msg("recordings.upload", name=name), details={"status": upload.status})
    with blobs.open(key) as fh:
        data: bytes = fh.read()
    return data
