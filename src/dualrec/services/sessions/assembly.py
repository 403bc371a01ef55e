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
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dualrec.core.flow import flow_to_dict
from dualrec.core.live_session import EventKind, SessionEvent, SessionStatus, build_markers
from dualrec.core.tasks import TaskStatus
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import MediaError, NotFoundError
from dualrec.jobs.ports import JobContext, JobQueue
from dualrec.media.probe import PyAVProbe
from dualrec.media.transcode import concat_mp4, transcode_to_mp4
from dualrec.services.evidence import ledger
from dualrec.services.recordings.service import QcInputs, submit_session_recording
from dualrec.services.tasks.service import TaskService, attempt_flow
from dualrec.storage.ports import BlobStore

__all__ = ["SessionAssembler", "TaskQcResult", "task_qc_finished"]

logger = logging.getLogger(__name__)


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
        with self._uows() as uow:
            s = uow.live_sessions.get(session_id)
            if s is None:
                raise NotFoundError(f"session {session_id} vanished")
            if s.recording_id is not None:  # a retry after the recording was already registered
                return {"session_id": s.id, "recording_id": s.recording_id}
            task = uow.tasks.get(s.task_id)
            assert task is not None
            version = uow.flows.version(task.flow_id, task.flow_version)
            assert version is not None
            attempt = next(a for a in task.attempts if a.number == s.attempt_no)
            flow = attempt_flow(version.definition, attempt.draws)
            chunks = uow.live_sessions.chunks(s.id)
            events = uow.live_sessions.events(s.id)
        self._scratch.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="session-", dir=self._scratch))
        try:
            by_segment: dict[int, list[Any]] = {}
            for c in chunks:
                by_segment.setdefault(c.segment, []).append(c)
            parts: list[Path] = []
            durations: dict[int, float] = {}
            notes: list[SessionEvent] = []
            for seg in sorted(by_segment):
                pieces = sorted(by_segment[seg], key=lambda c: c.seq)
                usable = [c for i, c in enumerate(pieces) if c.seq == i]
                if len(usable) < len(pieces) or (s.final_seqs.get(seg, -1) >= len(usable)):
                    notes.append(
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
                    notes.append(SessionEvent(EventKind.ALERT, seg, 0.0, data={"code": "SEGMENT_UNREADABLE"}))
                    continue
                info = PyAVProbe().probe(mp4)
                durations[seg] = float(info.duration or 0.0)
                parts.append(mp4)
                raw.unlink(missing_ok=True)
            if not parts:
                raise MediaError("会话没有可用的录像 / the session has no usable recording")
            final = concat_mp4(parts, work / "session.mp4", timeout=3600)
            markers = build_markers(events, durations)
            flow_dict = flow_to_dict(flow)
            inputs = QcInputs(
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
                flow=flow_dict,
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
            photo_key = (s.identity.get("id_card_front") or {}).get("blob_key")
            with final.open("rb") as fh:
                rec = submit_session_recording(
                    self._uows,
                    self._blobs,
                    self._queue(),
                    branch_id=task.branch_id,
                    branch_path=task.branch_path,
                    data=fh,
                    inputs=inputs,
                    id_photo_key=photo_key,
                )
            archive_key = self._h265_copy(final, work) if self._h265 else None
            with self._uows() as uow:
                fresh = uow.live_sessions.get(s.id, for_update=True)
                assert fresh is not None
                identity = {k: v for k, v in fresh.identity.items() if k != "assembling"}
                identity["durations"] = {str(k): v for k, v in durations.items()}
                if archive_key:
                    identity["archive_h265_key"] = archive_key
                uow.live_sessions.save(replace(fresh, recording_id=rec.id, identity=identity))
                # the signed documents belong to the recording's evidence (ledger + evidence package)
                for i, (_, doc) in enumerate(sorted((fresh.identity.get("signed") or {}).items())):
                    ext = "png" if str(doc.get("name", "")).endswith(".png") else "pdf"
                    ledger.record_blob(
                        uow,
                        self._blobs,
                        subject_type="recording",
                        subject_id=rec.id,
                        kind=ledger.EvidenceKind.BLOB_STORED,
                        name=f"signed_{i + 1}.{ext}",
                        key=str(doc["blob_key"]),
                    )
                for note in notes:
                    uow.live_sessions.add_event(s.id, note, datetime.now(UTC))
                status = TaskStatus.QC if fresh.status == SessionStatus.COMPLETED else None
                if status is not None:
                    self._tasks.session_transition(uow, task.id, s.attempt_no, status, recording_id=rec.id)
                else:
                    uow.tasks.update_attempt(task.id, s.attempt_no, recording_id=rec.id)
                uow.commit()
            return {"session_id": s.id, "recording_id": rec.id, "segments": len(parts)}
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _h265_copy(self, src: Path, work: Path) -> str | None:
        """The archive copy in H.265 (settings: DUALREC_ARCHIVE_H265); a failure keeps the H.264."""
        import subprocess

        dst = work / "archive.mp4"
        cmd = [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(src),
            "-c:v",
            "libx265",
            "-preset",
            "fast",
        ]
        cmd += ["-crf", "28", "-tag:v", "hvc1", "-c:a", "copy", "-movflags", "+faststart", str(dst)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=7200, check=False)
        if done.returncode != 0:
            logger.warning("H.265 archive copy failed: %s", done.stderr[-300:])
            return None
        with dst.open("rb") as fh:
            return self._blobs.put(fh, content_type="video/mp4").key


class TaskQcResult:
    """What the business system is told when QC of a self-service recording finished."""

    @staticmethod
    def status(verdict: str) -> TaskStatus:
        return {"PASS": TaskStatus.PASSED, "REVIEW": TaskStatus.REVIEW}.get(verdict, TaskStatus.FAILED)


def task_qc_finished(uows: UnitOfWorkFactory, tasks: TaskService, recording_id: str) -> None:
    """Called when a recording's QC finished: a recording of a task's attempt moves the task."""
    with uows() as uow:
        rec = uow.recordings.get(recording_id)
        if rec is None or rec.verdict is None:
            return
        info = (rec.inputs or {}).get("task") or {}
        task_id, attempt = info.get("task_id"), info.get("attempt")
        if not task_id or not isinstance(attempt, int):
            return
        s = uow.live_sessions.for_attempt(str(task_id), attempt)
        if s is not None and s.status != SessionStatus.COMPLETED:
            return  # a failed / handed-over session's recording is evidence; the task already moved
        reasons = [str(r) for r in (rec.summary or {}).get("reasons", [])]
        signed = (s.identity.get("signed") or {}) if s is not None else {}
        result: dict[str, Any] = {
            "recording_id": rec.id,
            "verdict": rec.verdict,
            "risk_score": rec.risk_score,
            "reasons": reasons,
            "signed_documents": [
                {"name": d.get("name", ""), "sha256": d.get("sha256", ""), "blob_key": d.get("blob_key", "")}
                for _, d in sorted(signed.items())
            ],
        }
        tasks.session_transition(
            uow,
            str(task_id),
            attempt,
            TaskQcResult.status(rec.verdict),
            reason="; ".join(reasons)[:500],
            result=result,
            recording_id=rec.id,
        )
        uow.commit()
