"""Finishing a self-service session: chunks → segments → one MP4 with markers → QC → task result.

The page's MediaRecorder pieces of each segment are joined in order (a segment is one connection;
a reconnection starts the next), each segment is transcoded to H.264/AAC, the segments are joined,
and the markers are computed on that final timeline from the session's events. A segment whose
page vanished mid-upload is used up to its first missing piece (what came after a hole cannot be
decoded), and that is written into the markers' events as an alert.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dualrec.core.flow import Flow, flow_to_dict
from dualrec.core.live_session import EventKind, LiveSession, SessionEvent, SessionStatus, build_markers
from dualrec.core.tasks import Task, TaskStatus
from dualrec.db.repositories.live_sessions import ChunkRecord
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import MediaError, NotFoundError
from dualrec.i18n import msg
from dualrec.jobs.ports import JobContext, JobQueue
from dualrec.media.probe import PyAVProbe
from dualrec.media.transcode import concat_mp4, transcode_to_h265, transcode_to_mp4
from dualrec.services.evidence import ledger
from dualrec.services.recordings.service import QcInputs, submit_session_recording
from dualrec.services.sessions.proof import live_proof
from dualrec.services.tasks.service import TaskService, attempt_flow
from dualrec.storage.ports import BlobStore

__all__ = ["SessionAssembler"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Stored:
    """What the database holds of a finished session: read in one short transaction."""

    session: LiveSession
    task: Task
    flow: Flow
    chunks: list[ChunkRecord]
    events: list[SessionEvent]


@dataclass
class _Joined:
    """The session's segments as MP4s on one timeline, and what went wrong on the way."""

    parts: list[Path]
    durations: dict[int, float]  # segment → seconds
    notes: list[SessionEvent]  # alerts to store with the session's events


class SessionAssembler:
    """Job handler for ``session.assemble``: builds the recording and queues its QC."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        blobs: BlobStore,
        queue: Callable[[], JobQueue],
        tasks: TaskService,
        scratch: Path,
        *,
        archive_h265: bool = False,
    ) -> None:
        self._uows = uows
        self._blobs = blobs
        self._queue = queue
        self._tasks = tasks
        self._scratch = scratch
        self._h265 = archive_h265

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        session_id = str(ctx.payload["session_id"])
        stored = self._load(session_id)
        if isinstance(stored, str):  # a retry after the recording was already registered
            return {"session_id": session_id, "recording_id": stored}
        self._scratch.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="session-", dir=self._scratch))
        try:
            joined = self._join_segments(stored, work)
            if not joined.parts:
                raise MediaError(msg("sessions.session_usable_recording"))
            final = concat_mp4(joined.parts, work / "session.mp4", timeout=3600)
            inputs = self._qc_inputs(stored, build_markers(stored.events, joined.durations))
            inputs = replace(
                inputs,
                live_proof=live_proof(
                    stored.session.identity, stored.session.id, stored.flow, joined.durations
                ),
            )
            photo_key = (stored.session.identity.get("id_card_front") or {}).get("blob_key")
            with final.open("rb") as fh:
                rec = submit_session_recording(
                    self._uows,
                    self._blobs,
                    self._queue(),
                    branch_id=stored.task.branch_id,
                    branch_path=stored.task.branch_path,
                    data=fh,
                    inputs=inputs,
                    id_photo_key=photo_key,
                )
            archive_key = self._h265_copy(final, work) if self._h265 else None
            self._attach(stored, rec.id, joined, archive_key)
            return {"session_id": session_id, "recording_id": rec.id, "segments": len(joined.parts)}
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _load(self, session_id: str) -> _Stored | str:
        """The session, its task, flow, chunks and events; or its recording id when already built."""
        with self._uows() as uow:
            s = uow.live_sessions.get(session_id)
            if s is None:
                raise NotFoundError(f"session {session_id} vanished")
            if s.recording_id is not None:
                return s.recording_id
            task = uow.tasks.get(s.task_id)
            assert task is not None
            version = uow.flows.version(task.flow_id, task.flow_version)
            assert version is not None
            attempt = next(a for a in task.attempts if a.number == s.attempt_no)
            flow = attempt_flow(version.definition, attempt.draws)
            return _Stored(s, task, flow, uow.live_sessions.chunks(s.id), uow.live_sessions.events(s.id))

    def _join_segments(self, stored: _Stored, work: Path) -> _Joined:
        """Each segment's pieces in order, up to the first missing one, transcoded to MP4."""
        s = stored.session
        by_segment: dict[int, list[ChunkRecord]] = {}
        for c in stored.chunks:
            by_segment.setdefault(c.segment, []).append(c)
        joined = _Joined([], {}, [])
        for seg in sorted(by_segment):
            pieces = sorted(by_segment[seg], key=lambda c: c.seq)
            usable = [c for i, c in enumerate(pieces) if c.seq == i]
            if len(usable) < len(pieces) or (s.final_seqs.get(seg, -1) >= len(usable)):
                joined.notes.append(
                    SessionEvent(
                        EventKind.ALERT,
                        seg,
                        0.0,
                        data={"code": "SEGMENT_TRUNCATED", "kept_chunks": len(usable)},
                    )
                )
            if not usable:
                continue
            raw = work / f"segment{seg}.webm"
            with raw.open("wb") as out:
                for c in usable:
                    with self._blobs.open(c.blob_key) as src:
                        shutil.copyfileobj(src, out, 1024 * 1024)
            mp4 = work / f"segment{seg}.mp4"
            try:
                transcode_to_mp4(raw, mp4, timeout=3600)
            except MediaError as exc:
                logger.warning("session %s segment %s could not be decoded: %s", s.id, seg, exc)
                joined.notes.append(
                    SessionEvent(EventKind.ALERT, seg, 0.0, data={"code": "SEGMENT_UNREADABLE"})
                )
                continue
            joined.durations[seg] = float(PyAVProbe().probe(mp4).duration or 0.0)
            joined.parts.append(mp4)
            raw.unlink(missing_ok=True)
        return joined

    def _qc_inputs(self, stored: _Stored, markers: list[Any]) -> QcInputs:
        """The task, the attempt's flow and the node markers, as the QC of the recording takes them."""
        task, s, flow = stored.task, stored.session, stored.flow
        return QcInputs(
            task={
                "running_no": task.business_no,
                "customer_name": task.customer_name,
                "id_number": self._tasks.box.open(task.id_number) if task.id_number else "",
                "mode": "self_service",
                "task_id": task.id,
                "attempt": s.attempt_no,
                "session_id": s.id,
                "business_type": task.business_type,
            },
            flow=flow_to_dict(flow),
            markers=[
                {
                    "node_id": m.node_id,
                    "start": m.start,
                    "end": m.end,
                    "prompts": list(m.prompts),
                    "answers": list(m.answers),
                }
                for m in markers
                if flow.node(m.node_id) is not None
            ],
        )

    def _attach(self, stored: _Stored, recording_id: str, joined: _Joined, archive_key: str | None) -> None:
        """One transaction: the session points at its recording, the signed documents join the
        recording's evidence, the alerts are stored, and a completed session's task moves to QC."""
        s, task = stored.session, stored.task
        with self._uows() as uow:
            fresh = uow.live_sessions.get(s.id, for_update=True)
            assert fresh is not None
            identity = {k: v for k, v in fresh.identity.items() if k != "assembling"}
            identity["durations"] = {str(k): v for k, v in joined.durations.items()}
            if archive_key:
                identity["archive_h265_key"] = archive_key
            uow.live_sessions.save(replace(fresh, recording_id=recording_id, identity=identity))
            # the signed documents belong to the recording's evidence (ledger + evidence package)
            for i, (_, doc) in enumerate(sorted((fresh.identity.get("signed") or {}).items())):
                ext = "png" if str(doc.get("name", "")).endswith(".png") else "pdf"
                ledger.record_blob(
                    uow,
                    self._blobs,
                    subject_type="recording",
                    subject_id=recording_id,
                    kind=ledger.EvidenceKind.BLOB_STORED,
                    name=f"signed_{i + 1}.{ext}",
                    key=str(doc["blob_key"]),
                )
            for note in joined.notes:
                uow.live_sessions.add_event(s.id, note, datetime.now(UTC))
            if fresh.status == SessionStatus.COMPLETED:
                self._tasks.session_transition(
                    uow, task.id, s.attempt_no, TaskStatus.QC, recording_id=recording_id
                )
            else:
                uow.tasks.update_attempt(task.id, s.attempt_no, recording_id=recording_id)
            uow.commit()

    def _h265_copy(self, src: Path, work: Path) -> str | None:
        """The archive copy in H.265 (settings: DUALREC_ARCHIVE_H265); a failure keeps the H.264."""
        try:
            dst = transcode_to_h265(src, work / "archive.mp4", timeout=7200)
        except MediaError as exc:
            logger.warning("H.265 archive copy failed: %s", exc)
            return None
        with dst.open("rb") as fh:
            return self._blobs.put(fh, content_type="video/mp4").key
