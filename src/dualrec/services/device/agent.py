"""Use cases of the local QC agent on the recording device (SPEC §7; docs/agent.md).

Start the QC of a local file by ``runningNo`` (once: a duplicate start is answered, never run
twice), run queued QC with the same pipeline as ``dualrec check``, read the report in the SPEC §5
format, take the operator's confirmation, build the upload package and recover after a kill (a QC
that was running starts again from scratch; its report is stored once, when it finishes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dualrec.checks.registry import CheckRegistry, get_registry
from dualrec.core.agent_package import PackageFile, PackageManifest, package_id, parse_manifest
from dualrec.core.qc import QcTask, decide_verdict
from dualrec.db.agent_local import AgentStore, LocalTask, LocalUpload
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.media.ports import Image
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.report import native_report, patent_report
from dualrec.pipeline.request import QcEngines, QcOptions, QcRequest

__all__ = [
    "AgentStore",
    "DeviceAgent",
    "DeviceConfig",
    "LocalTask",
    "LocalUpload",
    "PackageChangedError",
    "sha256_file",
]

logger = logging.getLogger(__name__)


class PackageChangedError(ConflictError):
    """The recording is no longer the file that was inspected: it is not uploaded."""

    code = "package_changed"


@dataclass(frozen=True)
class DeviceConfig:
    recording_dirs: tuple[Path, ...]  # filePath must resolve (symlinks followed) inside one of these
    work_dir: Path  # evidence frames and upload packages
    device_name: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


class _FolderSink:
    """Evidence frames as JPEG files in one folder; references are ``evidence/<name>``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, name: str, image: Image) -> str:
        from PIL import Image as PILImage

        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:76].lstrip("._-") or "frame"
        if not safe.endswith(".jpg"):
            safe += ".jpg"
        self.folder.mkdir(parents=True, exist_ok=True)
        PILImage.fromarray(image).save(self.folder / safe, format="JPEG", quality=85)
        return f"evidence/{safe}"


class _StoreProgress:
    """Writes the QC progress to the task row at most every half second."""

    def __init__(self, store: AgentStore, running_no: str) -> None:
        self._store, self._running_no = store, running_no
        self._last = 0.0

    def update(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self._last < 0.5:
            return
        self._last = now
        with self._store.unit() as unit:
            unit.update_task(self._running_no, where_state="running", progress=round(min(fraction, 0.99), 3))
            unit.commit()


class DeviceAgent:
    def __init__(
        self,
        store: AgentStore,
        config: DeviceConfig,
        engines: Callable[[], QcEngines],
        *,
        options: QcOptions | None = None,
        registry: CheckRegistry | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self._engines = engines
        self._options = options or QcOptions()
        self._registry = registry

    @property
    def registry(self) -> CheckRegistry:
        return self._registry or get_registry()

    # ---- starting QC ---------------------------------------------------------------------------

    def resolve_recording(self, file_path: str) -> Path:
        """The real path of ``file_path`` if it lies inside a recording folder (symlinks followed)."""
        roots = [d.expanduser().resolve() for d in self.config.recording_dirs]
        if not roots:
            raise PermissionDeniedError(msg("device.recording_folder_configured_dualrec_agent"))
        path = Path(file_path).expanduser()
        if not path.is_absolute():
            raise InvalidInputError(msg("device.filepath_must_absolute_path"))
        try:
            real = path.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise InvalidInputError(msg("device.cannot_resolve_filepath", exc=exc)) from exc
        if not any(real.is_relative_to(root) for root in roots):
            raise PermissionDeniedError(msg("device.filepath_outside_configured_recording_folders"))
        if not real.is_file():
            raise NotFoundError(msg("device.recording_file_does_exist"))
        return real

    def check_ids(self, items: Sequence[str]) -> list[str]:
        """Catalogue ids for QC items given as ids (``black_screen``) or Chinese titles (``黑屏``)."""
        specs = self.registry.specs()
        by_name = {s.id: s.id for s in specs} | {s.title_zh: s.id for s in specs}
        unknown = [i for i in items if i not in by_name]
        if unknown:
            raise InvalidInputError(
                msg("device.unknown_qc_items", value=", ".join(unknown[:5])),
                details={"known": [s.id for s in specs]},
            )
        return list(dict.fromkeys(by_name[i] for i in items))

    def start_qc(
        self, *, running_no: str, file_path: str, business_type: str = "", check_items: Sequence[str] = ()
    ) -> tuple[LocalTask, bool]:
        """(the task, True) when QC was queued; (the existing task, False) for a duplicate start.
        A task whose QC ended in an error may be started again."""
        path = self.resolve_recording(file_path)
        ids = self.check_ids(check_items)
        with self.store.unit() as unit:
            current = unit.task(running_no)
            if current is not None and current.state != "error":
                return current, False
            values: dict[str, Any] = {
                "file_path": str(path),
                "business_type": business_type,
                "check_items": ids,
                "state": "queued",
                "progress": 0.0,
                "error": None,
                "finished_at": None,
            }
            if current is None:
                unit.add_task(running_no=running_no, created_at=_now(), **values)
            else:
                unit.update_task(running_no, **values)
            unit.commit()
            task = unit.task(running_no)
        assert task is not None
        return task, True

    # ---- running QC ----------------------------------------------------------------------------

    def recover(self) -> int:
        """After a restart: QC left running by a killed process is queued again. Returns how many."""
        with self.store.unit() as unit:
            n = unit.requeue_running_tasks()
            unit.commit()
        return n

    def has_queued(self) -> bool:
        with self.store.unit() as unit:
            return unit.next_queued_task() is not None

    def run_next(self) -> LocalTask | None:
        """Runs the oldest queued QC to the end and stores its report; None when nothing is queued."""
        with self.store.unit() as unit:
            task = unit.next_queued_task()
            if task is None:
                return None
            attempt = task.attempt + 1
            unit.update_task(
                task.running_no, where_state="queued", state="running", attempt=attempt, started_at=_now()
            )
            unit.commit()
        try:
            values = self._run_qc(task)
        except Exception as exc:
            logger.warning("agent QC of %s failed", task.running_no, exc_info=True)
            values = {"state": "error", "error": f"{type(exc).__name__}: {exc}"[:2000], "finished_at": _now()}
        with self.store.unit() as unit:
            unit.update_task(task.running_no, where_state="running", **values)
            unit.commit()
            return unit.task(task.running_no)

    def evidence_dir(self, running_no: str) -> Path:
        return self.config.work_dir / "evidence" / running_no

    def _run_qc(self, task: LocalTask) -> dict[str, Any]:
        path = self.resolve_recording(task.file_path)  # still inside the folders (a swapped symlink)
        size, digest = sha256_file(path)
        folder = self.evidence_dir(task.running_no)
        shutil.rmtree(folder, ignore_errors=True)  # frames of an attempt a kill interrupted
        request = QcRequest(path, task=QcTask(running_no=task.running_no))
        report = run_qc(
            request,
            self._engines(),
            options=self._options,
            progress=_StoreProgress(self.store, task.running_no),
            sink=_FolderSink(folder),
            registry=self._registry,
        )
        if task.check_items:
            report = self._only(report, task.check_items)
        return {
            "state": "done",
            "progress": 1.0,
            "file_size": size,
            "file_sha256": digest,
            "verdict": report.verdict.verdict.value,
            "risk_score": report.verdict.risk_score,
            "report": native_report(report),
            "check_data": patent_report(report),
            "error": None,
            "finished_at": _now(),
        }

    def _only(self, report: QcReport, ids: Sequence[str]) -> QcReport:
        """The report restricted to the requested QC items (verdict decided on them alone)."""
        keep = set(ids)
        results = tuple(r for r in report.results if r.check_id in keep)
        specs = tuple(s for s in report.specs if s.id in keep)
        verdict = decide_verdict(
            results,
            check_severity={s.id: s.severity for s in specs},
            required={k: why for k, why in report.required.items() if k in keep},
            waived=report.waived,
            fail_score=self._options.fail_score,
        )
        return dataclasses.replace(report, results=results, specs=specs, verdict=verdict)

    # ---- reading ---------------------------------------------------------------------------------

    def task(self, running_no: str) -> LocalTask:
        with self.store.unit() as unit:
            task = unit.task(running_no)
        if task is None:
            raise NotFoundError(msg("device.qc_task_runningno"))
        return task

    def evidence_path(self, running_no: str, ref: str) -> Path:
        return self.evidence_dir(running_no) / ref.removeprefix("evidence/")

    # ---- confirmation and upload queue -------------------------------------------------------------

    def confirm(self, *, running_no: str, operator: str = "") -> tuple[LocalUpload, bool]:
        """Queues the video + report for upload. (upload, False) when it was already confirmed."""
        with self.store.unit() as unit:
            task = unit.task(running_no)
            if task is None:
                raise NotFoundError(msg("device.qc_task_runningno"))
            if task.state != "done":
                raise ConflictError(
                    msg("device.qc_nothing_confirm", state=task.state),
                    details={"state": task.state},
                )
            current = unit.upload(running_no)
            if current is not None:
                return current, False
            unit.add_upload(running_no=running_no, operator=operator, state="queued", confirmed_at=_now())
            unit.commit()
            upload = unit.upload(running_no)
        assert upload is not None
        return upload, True

    def upload(self, running_no: str) -> LocalUpload | None:
        self.task(running_no)
        with self.store.unit() as unit:
            return unit.upload(running_no)

    def due_upload(self, now: float) -> LocalUpload | None:
        with self.store.unit() as unit:
            return unit.next_due_upload(now)

    def next_upload_time(self) -> float | None:
        with self.store.unit() as unit:
            return unit.next_upload_time()

    def update_upload(self, running_no: str, **values: Any) -> None:
        with self.store.unit() as unit:
            unit.update_upload(running_no, **values)
            unit.commit()

    def package(self, running_no: str) -> tuple[PackageManifest, list[Path]]:
        """The upload package (manifest + the paths of its files, in order), built once and kept:
        a restarted agent resumes the very same package."""
        task = self.task(running_no)
        with self.store.unit() as unit:
            upload = unit.upload(running_no)
        if upload is None:
            raise NotFoundError(msg("device.confirmed_upload"))
        if upload.manifest is not None:
            manifest = parse_manifest(upload.manifest)
            return manifest, [self._file_path(task, f) for f in manifest.files]
        manifest = self._build_manifest(task, upload)
        with self.store.unit() as unit:
            unit.update_upload(
                running_no, package_id=package_id(manifest), manifest=manifest.to_dict(), size=manifest.size
            )
            unit.commit()
        return manifest, [self._file_path(task, f) for f in manifest.files]

    def _package_dir(self, running_no: str) -> Path:
        return self.config.work_dir / "packages" / running_no

    def _file_path(self, task: LocalTask, f: PackageFile) -> Path:
        if f.role == "recording":
            return Path(task.file_path)
        if f.role == "evidence":
            return self.evidence_path(task.running_no, f.name)
        return self._package_dir(task.running_no) / f.name

    def _build_manifest(self, task: LocalTask, upload: LocalUpload) -> PackageManifest:
        recording = Path(task.file_path)
        size, digest = sha256_file(recording)
        if (size, digest) != (task.file_size, task.file_sha256):
            raise PackageChangedError(
                msg("device.recording_changed_after_qc_uploaded"),
                details={"sha256_at_qc": task.file_sha256, "sha256_now": digest},
            )
        folder = self._package_dir(task.running_no)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = (
            recording.suffix.lower() if recording.suffix[1:].isalnum() and len(recording.suffix) <= 8 else ""
        )
        files = [PackageFile(f"recording{suffix}", "recording", size, digest)]
        for role, data in (("report", task.report), ("check_data", task.check_data)):
            raw = json.dumps(data, ensure_ascii=False, indent=1, default=str).encode()
            (folder / f"{role}.json").write_bytes(raw)
            files.append(PackageFile(f"{role}.json", role, len(raw), hashlib.sha256(raw).hexdigest()))
        evidence = self.evidence_dir(task.running_no)
        frames = sorted(p for p in evidence.glob("*.jpg") if p.is_file()) if evidence.is_dir() else []
        for frame in frames[:200]:
            frame_size, frame_digest = sha256_file(frame)
            files.append(PackageFile(f"evidence/{frame.name}", "evidence", frame_size, frame_digest))
        return PackageManifest(
            running_no=task.running_no,
            business_type=task.business_type,
            operator=upload.operator,
            device=self.config.device_name,
            created_at=upload.confirmed_at,
            verdict=task.verdict or "REVIEW",
            risk_score=task.risk_score,
            files=tuple(files),
        )
