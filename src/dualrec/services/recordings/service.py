"""Recordings submitted for QC: upload → stored blob → QC job → reports and evidence in the blob store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from dualrec.core import bounded_json
from dualrec.core.audit import AuditAction
from dualrec.core.branches import in_scope
from dualrec.core.flow import parse_flow, parse_markers
from dualrec.core.live_proof import LiveProof
from dualrec.core.recordings import Recording
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import InvalidInputError, NotFoundError, RangeNotSatisfiableError
from dualrec.i18n import msg
from dualrec.jobs.ports import JobQueue
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.common.job_kinds import ARCHIVE_SYNC_JOB_KIND, QC_JOB_KIND
from dualrec.services.common.scope import branch_in_scope
from dualrec.services.evidence import ledger
from dualrec.storage.ports import BlobStore, Readable

__all__ = [
    "ARTIFACT_TYPES",
    "QC_MAX_ATTEMPTS",
    "QcInputs",
    "get_recording",
    "inputs_for_task",
    "list_recordings",
    "open_artifact",
    "parse_inputs",
    "published_flow",
    "read_media",
    "submit_recording",
    "submit_session_recording",
]

QC_MAX_ATTEMPTS = 2  # a crash is retried once; a broken file fails the same way twice
ARTIFACT_TYPES = {
    "report": "application/json",
    "patent": "application/json",
    "pdf": "application/pdf",
    "pdf_en": "application/pdf",
}
MAX_ID_PHOTO_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class QcInputs:
    """What a caller may send with a recording (all optional), validated before anything is stored."""

    task: dict[str, Any]
    flow: dict[str, Any] | None
    markers: list[Any] | None
    # what a self-service session proved live (core.live_proof.LiveProof.to_dict); never from a caller
    live_proof: dict[str, Any] | None = None
    # a remote interview's call-quality series and recording gaps (core.call_quality.CallQuality.to_dict);
    # never from a caller
    call_quality: dict[str, Any] | None = None
    # a remote interview's live analysis (subtitles, alerts) on the recording's timeline
    # (core.live_record.LiveCallRecord.to_dict); never from a caller
    live_call: dict[str, Any] | None = None


def _json_field(raw: str | None, name: str, kind: type) -> Any:
    if raw is None or raw == "":
        return None
    try:
        value = bounded_json.loads(raw)
    except bounded_json.JsonTooComplexError as exc:
        raise InvalidInputError(
            f"{name}: {exc.message}", details={"errors": [{"loc": [name], "msg": "JSON nested too deep"}]}
        ) from exc
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            msg("recordings.valid_json", name=name, msg=exc.msg),
            details={"errors": [{"loc": [name], "msg": "invalid JSON"}]},
        ) from exc
    if not isinstance(value, kind):
        raise InvalidInputError(
            msg("recordings.must_json", name=name, name__=kind.__name__),
            details={"errors": [{"loc": [name], "msg": f"expected {kind.__name__}"}]},
        )
    return value


def inputs_for_task(
    qc_task: dict[str, Any], flow: dict[str, Any], *, task: str | None, markers: str | None
) -> QcInputs:
    """The QC inputs of a recording uploaded for a task: the task's data and its attempt's flow; the
    uploader may only say how it was recorded (``task``: ``{"mode"}``) and add markers."""
    given = _json_field(task, "task", dict) or {}
    for key in given:
        if key != "mode":
            raise InvalidInputError(
                msg("recordings.task_s_data_applies_taken", key=key),
                details={"errors": [{"loc": ["task", key], "msg": "not allowed with task_id"}]},
            )
    mode = given.get("mode", qc_task.get("mode"))
    if mode not in ("self_service", "human"):
        raise InvalidInputError(
            msg("recordings.mode_must_self_service_human"),
            details={"errors": [{"loc": ["task", "mode"], "msg": "self_service | human"}]},
        )
    markers_l = _json_field(markers, "markers", list)
    if markers_l is not None:
        parse_markers(markers_l, parse_flow(flow))
    return QcInputs(task={**qc_task, "mode": mode}, flow=flow, markers=markers_l)


def published_flow(uows: UnitOfWorkFactory, code: str) -> dict[str, Any]:
    """The latest published version of the flow ``code`` (for an upload without a task)."""
    with uows() as uow:
        stored = uow.flows.get(code)
        version = (
            uow.flows.version(stored.id, stored.latest_version)
            if stored is not None and not stored.archived and stored.latest_version
            else None
        )
    if version is None:
        raise InvalidInputError(
            msg("recordings.flow_published_version", code=code),
            details={"errors": [{"loc": ["flow_code"], "msg": "no published flow"}]},
        )
    return dict(version.definition)


def parse_inputs(*, task: str | None, flow: str | None, markers: str | None) -> QcInputs:
    task_d = _json_field(task, "task", dict) or {}
    flow_d = _json_field(flow, "flow", dict)
    markers_l = _json_field(markers, "markers", list)
    for key in task_d:
        if key not in ("running_no", "customer_name", "id_number", "mode", "business_type"):
            raise InvalidInputError(
                msg("recordings.unknown_task_field", key=key),
                details={"errors": [{"loc": ["task", key], "msg": "unknown field"}]},
            )
    parsed_flow = (
        parse_flow(flow_d) if flow_d is not None else None
    )  # raises InvalidInputError with the place
    if markers_l is not None:
        parse_markers(markers_l, parsed_flow)
    return QcInputs(task=task_d, flow=flow_d, markers=markers_l)


def submit_recording(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    queue: JobQueue,
    *,
    actor: Actor,
    data: Readable,
    filename: str,
    content_type: str,
    branch_id: int | None,
    inputs: QcInputs,
    id_photo: bytes | None,
    max_bytes: int,
    attach: Callable[[UnitOfWork, Recording], None] | None = None,
) -> Recording:
    """``attach``: called in the transaction that registers the recording (e.g. the task attempt
    it is for takes it); if it raises, nothing is registered and the stored files are deleted."""
    assert actor.principal is not None
    with uows() as uow:  # validate the branch before reading gigabytes
        branch = branch_in_scope(uow, actor.principal, branch_id or actor.principal.branch_id)
    photo_key = None
    if id_photo is not None:
        photo_key = _store_photo(blobs, id_photo)
    ref = blobs.put(data, content_type=content_type or "application/octet-stream", max_bytes=max_bytes)
    if ref.size == 0:
        blobs.delete(ref.key)
        raise InvalidInputError(
            msg("recordings.recording_empty"),
            details={"errors": [{"loc": ["file"], "msg": "empty file"}]},
        )
    try:
        return _register(
            uows,
            blobs,
            queue,
            actor=actor,
            branch_id=branch.id,
            branch_path=branch.path,
            ref_key=ref.key,
            size=ref.size,
            sha256=ref.sha256,
            filename=filename,
            content_type=content_type,
            inputs=inputs,
            photo_key=photo_key,
            attach=attach,
        )
    except Exception:
        if attach is not None:  # refused by the attachment: the files belong to no recording
            for key in (ref.key, photo_key):
                if key:
                    blobs.delete(key)
        raise


def submit_session_recording(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    queue: JobQueue,
    *,
    branch_id: int,
    branch_path: str,
    data: Readable,
    inputs: QcInputs,
    id_photo_key: str | None,
    filename: str = "session.mp4",
    created_by: str = "self-service",
) -> Recording:
    """The recording a self-service session (or a remote interview: services/rtc/compose.py, with
    its own ``filename`` and ``created_by``) assembled, already validated, queued for QC."""
    ref = blobs.put(data, content_type="video/mp4")
    return _register(
        uows,
        blobs,
        queue,
        actor=SYSTEM,
        branch_id=branch_id,
        branch_path=branch_path,
        ref_key=ref.key,
        size=ref.size,
        sha256=ref.sha256,
        filename=filename,
        content_type="video/mp4",
        inputs=inputs,
        photo_key=id_photo_key,
        created_by=created_by,
    )


def _register(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    queue: JobQueue,
    *,
    actor: Actor,
    branch_id: int,
    branch_path: str,
    ref_key: str,
    size: int,
    sha256: str,
    filename: str,
    content_type: str,
    inputs: QcInputs,
    photo_key: str | None,
    created_by: str | None = None,
    attach: Callable[[UnitOfWork, Recording], None] | None = None,
) -> Recording:
    now = datetime.now(UTC)
    running_no = str(inputs.task.get("running_no") or "")[:64]
    rec = Recording(
        id=str(uuid.uuid4()),
        branch_id=branch_id,
        branch_path=branch_path,
        created_by=created_by or actor.name,
        running_no=running_no,
        filename=filename[:255] or "recording",
        content_type=content_type[:100],
        size=size,
        sha256=sha256,
        blob_key=ref_key,
        status="queued",
        created_at=now,
        updated_at=now,
        inputs={
            "task": inputs.task,
            "flow": inputs.flow,
            "markers": inputs.markers,
            "id_photo_key": photo_key,
            **({"live_proof": inputs.live_proof} if inputs.live_proof else {}),
            **({"call_quality": inputs.call_quality} if inputs.call_quality else {}),
            **({"live_call": inputs.live_call} if inputs.live_call else {}),
        },
    )
    with uows() as uow:
        uow.recordings.add(rec)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.RECORDING_UPLOADED,
            target_type="recording",
            target_id=rec.id,
            details={
                "sha256": sha256,
                "size": size,
                "running_no": running_no,
                **({"task_id": inputs.task["task_id"]} if inputs.task.get("task_id") else {}),
            },
        )
        _record_upload_evidence(uow, blobs, rec, photo_key)
        if attach is not None:
            attach(uow, rec)
        uow.commit()
    job_id = queue.enqueue(QC_JOB_KIND, {"recording_id": rec.id}, max_attempts=QC_MAX_ATTEMPTS)
    queue.enqueue(ARCHIVE_SYNC_JOB_KIND, {"recording_id": rec.id}, max_attempts=3)  # its catalogue entry
    with uows() as uow:
        uow.recordings.update(rec.id, job_id=job_id)
        uow.commit()
        stored = uow.recordings.get(rec.id)
    assert stored is not None
    return stored


def _record_upload_evidence(uow: UnitOfWork, blobs: BlobStore, rec: Recording, photo_key: str | None) -> None:
    """Ledger events for the stored originals (hashes and fixed names only, no original file name)."""
    suffix = PurePosixPath(rec.filename).suffix.lower()
    name = "recording" + (suffix if suffix[1:].isalnum() and suffix.isascii() and len(suffix) <= 8 else "")
    proof = LiveProof.from_dict(rec.inputs["live_proof"]) if rec.inputs.get("live_proof") else None
    images = proof.image_keys() if proof is not None else {}
    # a session's card front is its ID photo; its liveness frame and card back join it
    live = (("live_liveness.jpg", images.get("liveness")), ("live_id_card_back.jpg", images.get("back")))
    for file_name, key in ((name, rec.blob_key), ("id_photo.jpg", photo_key), *live):
        if key:
            ledger.record_blob(
                uow,
                blobs,
                subject_type="recording",
                subject_id=rec.id,
                kind=ledger.EvidenceKind.BLOB_STORED,
                name=file_name,
                key=key,
            )


def _store_photo(blobs: BlobStore, data: bytes) -> str:
    import io

    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_ID_PHOTO_BYTES:
        raise InvalidInputError(msg("recordings.id_photo_larger_than_10"))
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InvalidInputError(
            msg("recordings.id_photo_readable_image"),
            details={"errors": [{"loc": ["id_photo"], "msg": "not an image"}]},
        ) from exc
    return blobs.put(data, content_type="image/jpeg").key


def get_recording(uows: UnitOfWorkFactory, *, actor: Actor, recording_id: str) -> Recording:
    assert actor.principal is not None
    with uows() as uow:
        rec = uow.recordings.get(recording_id)
    if rec is None or not in_scope(actor.principal.branch_path, rec.branch_path):
        raise NotFoundError(msg("recordings.recording_found"), details={"recording_id": recording_id})
    return rec


def live_events(uows: UnitOfWorkFactory, *, actor: Actor, recording_id: str) -> dict[str, Any] | None:
    """A remote interview's live analysis (subtitles, alerts, on the recording's timeline) as the
    compose job stored it with the recording's QC inputs; None for other recordings. Branch scope
    as the recording (404 outside it); gone with a recording deleted through the archive."""
    rec = get_recording(uows, actor=actor, recording_id=recording_id)
    _not_deleted(rec)
    live = (rec.inputs or {}).get("live_call")
    return live if isinstance(live, dict) else None


def _not_deleted(rec: Recording) -> None:
    """The files of a recording deleted through the archive's approval chain are gone (the catalogue
    entry and the ledger tombstone remain)."""
    if rec.status == "deleted":
        raise NotFoundError(
            msg("recordings.recording_deleted_after_approval"), details={"status": rec.status}
        )


def list_recordings(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    running_no: str | None,
    status: str | None,
    verdict: str | None,
    page: int,
    page_size: int,
) -> tuple[list[Recording], int]:
    assert actor.principal is not None
    with uows() as uow:
        return uow.recordings.search(
            scope_path=actor.principal.branch_path,
            running_no=running_no,
            status=status,
            verdict=verdict,
            offset=(page - 1) * page_size,
            limit=page_size,
        )


def open_artifact(
    uows: UnitOfWorkFactory, blobs: BlobStore, *, actor: Actor, recording_id: str, name: str
) -> tuple[bytes, str]:
    """A report (``report``, ``patent``, ``pdf``) or an evidence image (``evidence/<name>``)."""
    rec = get_recording(uows, actor=actor, recording_id=recording_id)
    _not_deleted(rec)
    artifacts = rec.artifacts or {}
    if name.startswith("evidence/"):
        key = (artifacts.get("evidence") or {}).get(name.removeprefix("evidence/"))
        content_type = "image/jpeg"
    else:
        key = artifacts.get(name)
        content_type = ARTIFACT_TYPES.get(name, "application/octet-stream")
    if not key:
        if rec.status in ("queued", "running"):
            raise NotFoundError(msg("recordings.qc_finished_yet"), details={"status": rec.status})
        if name == "pdf_en" and artifacts.get("pdf"):
            raise NotFoundError(msg("recordings.pdf_language_missing"), details={"language": "en"})
        raise NotFoundError(msg("recordings.artifact", name=name))
    with blobs.open(key) as fh:
        return fh.read(), content_type


MAX_RANGE_BYTES = 4 * 1024 * 1024  # an open-ended Range gets at most this much per response


@dataclass(frozen=True)
class MediaSlice:
    data: bytes
    start: int
    end: int  # exclusive
    total: int
    content_type: str


def read_media(
    uows: UnitOfWorkFactory, blobs: BlobStore, *, actor: Actor, recording_id: str, range_header: str | None
) -> MediaSlice:
    """Bytes of the recording for playback; honours a single HTTP ``Range: bytes=a-b`` (inclusive)."""
    rec = get_recording(uows, actor=actor, recording_id=recording_id)
    _not_deleted(rec)
    total = rec.size
    start, end = 0, min(total, MAX_RANGE_BYTES)
    if range_header:
        spec = range_header.strip().lower()
        if not spec.startswith("bytes=") or "," in spec:
            raise InvalidInputError(
                msg("recordings.unsupported_range_header"), details={"range": range_header[:80]}
            )
        first, _, last = spec[6:].partition("-")
        try:
            if first == "":  # suffix: the last N bytes
                n = int(last)
                start, end = max(0, total - n), total
            else:
                start = int(first)
                end = min(total, int(last) + 1) if last else min(total, start + MAX_RANGE_BYTES)
        except ValueError as exc:
            raise InvalidInputError(msg("recordings.malformed_range_header")) from exc
        if start >= total or end <= start:
            raise RangeNotSatisfiableError(
                msg("recordings.range_outside_file_size", total=total), details={"size": total}
            )
        end = min(end, start + MAX_RANGE_BYTES)
    data = blobs.read_range(rec.blob_key, start, end) if total else b""
    return MediaSlice(
        data=data,
        start=start,
        end=start + len(data),
        total=total,
        content_type=rec.content_type if rec.content_type.startswith(("video/", "audio/")) else "video/mp4",
    )
