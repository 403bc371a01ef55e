"""The background job that runs the QC pipeline on an uploaded recording and stores its reports."""

from __future__ import annotations

import io
import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from dualrec.core.audit import AuditAction
from dualrec.core.call_quality import CallQuality
from dualrec.core.flow import parse_flow, parse_markers
from dualrec.core.live_proof import LiveProof
from dualrec.core.live_record import LiveCallRecord
from dualrec.core.qc import CheckStatus, QcTask
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import NotFoundError
from dualrec.jobs.ports import JobContext
from dualrec.jobs.runner import PERMANENT_ERRORS
from dualrec.media.ports import Image
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.report import native_report, patent_report
from dualrec.pipeline.request import QcEngines, QcRequest
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM
from dualrec.services.evidence import ledger
from dualrec.services.recordings.report_pdf import PDF_ARTIFACTS, render_qc_pdf
from dualrec.services.recordings.service import QC_MAX_ATTEMPTS
from dualrec.storage.ports import BlobStore

__all__ = ["BlobEvidenceSink", "QcJobRunner"]

logger = logging.getLogger(__name__)


class BlobEvidenceSink:
    """Stores evidence frames as JPEG blobs; references are ``evidence/<name>`` (served by the API)."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs
        self.keys: dict[str, str] = {}

    def put(self, name: str, image: Image) -> str:
        from PIL import Image as PILImage

        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:80] or "frame"
        if not safe.endswith(".jpg"):
            safe += ".jpg"
        buf = io.BytesIO()
        PILImage.fromarray(image).save(buf, format="JPEG", quality=85)
        self.keys[safe] = self._blobs.put(buf.getvalue(), content_type="image/jpeg").key
        return f"evidence/{safe}"

    def load(self, ref: str) -> bytes | None:
        """JPEG bytes of a reference made by ``put`` (for the PDF's key frames)."""
        key = self.keys.get(ref.removeprefix("evidence/"))
        if key is None:
            return None
        with self._blobs.open(key) as fh:
            return fh.read()


class _JobProgress:
    def __init__(self, ctx: JobContext) -> None:
        self._ctx = ctx

    def update(self, stage: str, fraction: float) -> None:
        self._ctx.report_progress(min(0.95, max(0.0, fraction * 0.95)))


def _task(data: dict[str, Any]) -> QcTask:
    return QcTask(
        running_no=str(data.get("running_no") or ""),
        customer_name=data.get("customer_name"),
        id_number=data.get("id_number"),
        mode=data.get("mode"),
    )


def _decode_photo(blobs: BlobStore, key: str) -> Image:
    from PIL import Image as PILImage

    with blobs.open(key) as fh, PILImage.open(fh) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _live_images(blobs: BlobStore, proof: LiveProof) -> dict[str, Image]:
    """The session's liveness frame and card sides (the report's evidence; the frame's face is the
    one the recording is compared with). A missing or unreadable image is left out."""
    out: dict[str, Image] = {}
    for name, key in proof.image_keys().items():
        try:
            out[name] = _decode_photo(blobs, key)
        except Exception as exc:  # evidence of the session that cannot be read: said in the report
            logger.warning("live session image %s (%s) unreadable: %s", name, key, exc)
    return out


def _status_evidence(uow: UnitOfWork, recording_id: str, payload: dict[str, Any]) -> None:
    ledger.record_event(
        uow,
        subject_type="recording",
        subject_id=recording_id,
        kind=ledger.EvidenceKind.STATUS_CHANGED,
        payload=payload,
    )


def _outcome(report: QcReport) -> str:
    """One log line: the verdict, the checks behind it and what is wrong with the file, if anything
    (no finding texts otherwise: they may quote the customer's data)."""
    v = report.verdict
    parts = [f"{v.verdict.value}, risk {v.risk_score}"]
    for status in (CheckStatus.FAILED, CheckStatus.ERROR, CheckStatus.NOT_RUN):
        ids = [r.check_id for r in report.results if r.status is status]
        if ids:
            parts.append(f"{status.value}: {', '.join(ids)}")
    integrity = next((r for r in report.results if r.check_id == "file_integrity"), None)
    if integrity is not None and integrity.findings:
        parts.append(f"file: {integrity.findings[0].message}")
    elif integrity is not None and integrity.status is CheckStatus.ERROR:
        parts.append(f"file not checked: {integrity.reason}")
    return "; ".join(parts)


class QcJobRunner:
    """Job handler for ``qc.recording``: payload ``{"recording_id": ...}``."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        blobs: BlobStore,
        engines: Callable[[], QcEngines],
        scratch_dir: Path,
        render_pdf: bool = True,
        checkpointer: Callable[[], object] | None = None,
        after_finish: Sequence[Callable[[str], object]] = (),
        thresholds: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        # QC threshold overrides of the server (the live session's answer accuracy: one setting)
        self.thresholds: Mapping[str, Mapping[str, float]] = dict(thresholds or {})
        # told the recording id once its report is stored (the task of the attempt, the catalogue)
        self._after_finish = tuple(after_finish)
        self._uows = uows
        self._blobs = blobs
        self._engines = engines
        self._scratch = scratch_dir
        self._render_pdf = render_pdf
        self._checkpointer = checkpointer

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        recording_id = str(ctx.payload["recording_id"])
        with self._uows() as uow:
            rec = uow.recordings.get(recording_id)
            if rec is None:
                raise NotFoundError(f"recording {recording_id} vanished")
            uow.recordings.update(recording_id, status="running", error=None)
            uow.commit()
        self._scratch.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="qc-", dir=self._scratch))
        try:
            return self._run(ctx, rec.id, rec.blob_key, rec.filename, rec.inputs, workdir)
        except Exception as exc:
            final = ctx.attempt >= QC_MAX_ATTEMPTS or isinstance(exc, PERMANENT_ERRORS)
            status = "failed" if final else "queued"  # "queued" again while the queue retries it
            with self._uows() as uow:
                uow.recordings.update(
                    recording_id, status=status, error=f"{type(exc).__name__}: {exc}"[:2000]
                )
                if final:
                    _status_evidence(
                        uow, recording_id, {"status": "failed", "error_type": type(exc).__name__}
                    )
                uow.commit()
            raise
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run(
        self,
        ctx: JobContext,
        recording_id: str,
        blob_key: str,
        filename: str,
        inputs: dict[str, Any],
        workdir: Path,
    ) -> dict[str, Any]:
        suffix = Path(filename).suffix[:8] if Path(filename).suffix.isascii() else ""
        local = workdir / f"recording{suffix}"
        with self._blobs.open(blob_key) as src, local.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        flow = parse_flow(inputs["flow"]) if inputs.get("flow") else None
        markers = parse_markers(inputs["markers"], flow) if inputs.get("markers") else ()
        photo_key = inputs.get("id_photo_key")
        with self._uows.read() as uow:  # the editable list the console edits (flows' text review shares it)
            words = uow.sensitive_words.all()
        proof = LiveProof.from_dict(inputs["live_proof"]) if inputs.get("live_proof") else None
        request = QcRequest(
            path=local,
            task=_task(inputs.get("task") or {}),
            flow=flow,
            markers=markers,
            id_photo=_decode_photo(self._blobs, photo_key) if photo_key else None,
            sensitive_words=words,
            live_proof=proof,
            live_images=_live_images(self._blobs, proof) if proof is not None else {},
            thresholds=self.thresholds,
            call_quality=CallQuality.from_dict(inputs["call_quality"])
            if inputs.get("call_quality")
            else None,
            live_call=LiveCallRecord.from_dict(inputs["live_call"]) if inputs.get("live_call") else None,
        )
        sink = BlobEvidenceSink(self._blobs)
        report = run_qc(request, self._engines(), progress=_JobProgress(ctx), sink=sink)
        native = native_report(report)
        artifacts: dict[str, Any] = {
            "report": self._put_json(native),
            "patent": self._put_json(patent_report(report)),
            "evidence": sink.keys,
        }
        if self._render_pdf:
            # one PDF per language (each in that language only): "pdf" zh-CN, "pdf_en" English
            for artifact, language in PDF_ARTIFACTS.items():
                pdf = render_qc_pdf(report, native, load_image=sink.load, language=language)
                artifacts[artifact] = self._blobs.put(pdf, content_type="application/pdf").key
        verdict = report.verdict
        summary = {
            "reasons": list(verdict.reasons),
            "checks": {r.check_id: r.status.value for r in report.results},
        }
        with self._uows() as uow:
            uow.recordings.update(
                recording_id,
                status="done",
                verdict=verdict.verdict.value,
                risk_score=verdict.risk_score,
                summary=summary,
                artifacts=artifacts,
                finished_at=datetime.now(UTC),
                error=None,
            )
            audit.record(
                uow,
                actor=SYSTEM,
                action=AuditAction.RECORDING_QC_FINISHED,
                target_type="recording",
                target_id=recording_id,
                details={"verdict": verdict.verdict.value, "risk_score": verdict.risk_score},
                branch_id=rec.branch_id if (rec := uow.recordings.get(recording_id)) else None,
            )
            ledger.record_artifacts(uow, self._blobs, recording_id, artifacts)
            _status_evidence(
                uow,
                recording_id,
                {"status": "done", "verdict": verdict.verdict.value, "risk_score": verdict.risk_score},
            )
            uow.commit()
        logger.info("QC of recording %s done: %s", recording_id, _outcome(report))
        if self._checkpointer is not None:  # a signed ledger checkpoint every N evidence events
            self._checkpointer()
        for follow_up in self._after_finish:
            # the report is stored: a failing follow-up is logged and must not fail (and re-run) the QC
            try:
                follow_up(recording_id)
            except Exception:
                logger.exception("follow-up of QC of recording %s failed", recording_id)
        ctx.report_progress(1.0)
        return {
            "recording_id": recording_id,
            "verdict": verdict.verdict.value,
            "risk_score": verdict.risk_score,
        }

    def _put_json(self, data: dict[str, Any]) -> str:
        raw = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
        return self._blobs.put(raw, content_type="application/json").key
