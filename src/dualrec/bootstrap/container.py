"""The application Container: every long-lived object, built once from Settings."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text

from dualrec.bootstrap.integrity import IntegrityAuditor, build_integrity_auditor
from dualrec.bootstrap.litigation import archive_pusher
from dualrec.bootstrap.retention import RetentionReminder, build_retention_reminder
from dualrec.bootstrap.review import (
    ReviewServices,
    SamplingScheduler,
    build_review_services,
    build_sampling_scheduler,
)
from dualrec.bootstrap.rtc import build_rtc, call_composer
from dualrec.bootstrap.rtc_live import build_live_events
from dualrec.bootstrap.sessions import (
    SessionSweeper,
    build_session_extras,
    session_options,
    wav_transcriber,
)
from dualrec.bootstrap.storage import build_blob_store
from dualrec.bootstrap.webhooks import WebhookDispatcher, build_webhook_dispatcher
from dualrec.core.auth_rules import LockoutPolicy, ThrottlePolicy
from dualrec.db.engine import make_engine, make_session_factory
from dualrec.db.migrate import upgrade
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.jobs.ports import JobContext, JobHandler, JobQueue
from dualrec.pipeline.request import QcEngines
from dualrec.services.archive.catalogue import ArchiveService
from dualrec.services.common.blind_index import BlindIndex, PersonalDataSealer
from dualrec.services.common.job_kinds import (
    ARCHIVE_PUSH_JOB_KIND,
    ARCHIVE_SYNC_JOB_KIND,
    QC_JOB_KIND,
    RTC_COMPOSE_JOB,
    SESSION_ASSEMBLE_JOB,
)
from dualrec.services.common.secretbox import SecretBox
from dualrec.services.identity import passwords
from dualrec.services.identity.auth import AuthConfig, AuthService
from dualrec.services.recordings.qc_job import QcJobRunner
from dualrec.services.rtc.janus_stats import JanusStatsSampler
from dualrec.services.rtc.live_calls import LiveCallSupervisor
from dualrec.services.rtc.live_events import LiveEventService
from dualrec.services.rtc.rooms import RtcService
from dualrec.services.rtc.supervisor import JanusSupervisor
from dualrec.services.sessions.assembly import SessionAssembler
from dualrec.services.sessions.copying import HandwrittenCopies
from dualrec.services.sessions.documents import SessionDocuments
from dualrec.services.sessions.monitor import LiveMonitor
from dualrec.services.sessions.service import LiveSessionService
from dualrec.services.tasks.qc_result import task_qc_finished
from dualrec.services.tasks.service import TaskService
from dualrec.settings import Settings
from dualrec.storage.ports import BlobStore

__all__ = ["Container", "build_container", "job_handlers", "migrate_database", "worker_job_handlers"]


logger = logging.getLogger(__name__)


class LazyEngines:
    """Builds the AI engines on first use, once per process (models load lazily inside them)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engines: QcEngines | None = None
        self._lock = threading.Lock()

    def __call__(self) -> QcEngines:
        with self._lock:
            if self._engines is None:
                from dualrec.bootstrap.engines import build_qc_engines, with_llm_checker

                s = self._settings
                self._engines = with_llm_checker(
                    build_qc_engines(
                        data_dir=s.data_dir,
                        asr_model_dir=s.asr_model_dir,
                        device=s.device,
                        cpu_threads=s.cpu_threads,
                    ),
                    url=s.qc_llm_url,
                    model=s.qc_llm_model,
                    api_key=s.qc_llm_api_key.get_secret_value() if s.qc_llm_api_key else "",
                    timeout_seconds=s.qc_llm_timeout_seconds,
                    required=s.qc_llm_required,
                )
            return self._engines


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uows: UnitOfWorkFactory
    auth: AuthService
    secretbox: SecretBox
    blobs: BlobStore
    engines: Callable[[], QcEngines]
    tasks: TaskService
    archive: ArchiveService
    jobs: JobQueue | None = None
    webhooks: WebhookDispatcher | None = None  # started with the server (DUALREC_WEBHOOK_ENABLED)
    reminder: RetentionReminder | None = None  # daily retention notices (DUALREC_ARCHIVE_REMINDER_ENABLED)
    integrity: IntegrityAuditor | None = None  # the scheduled integrity audit (DUALREC_INTEGRITY_AUDIT_*)
    sessions: LiveSessionService | None = None  # the customers' self-service sessions (H5)
    sweeper: SessionSweeper | None = None  # expires sessions whose customer did not come back
    live_monitor: LiveMonitor | None = None  # frames, liveness and ID card of sessions
    session_docs: SessionDocuments | None = None  # document pages, signatures, server speech
    session_copies: HandwrittenCopies | None = None  # handwritten copies (抄录) read by OCR
    rtc: RtcService | None = None  # remote interviews' rooms and access (DUALREC_RTC_ENABLED)
    janus: JanusSupervisor | None = None  # Janus run beside serve (DUALREC_RTC_MANAGED)
    live_events: LiveEventService | None = None  # calls' live subtitles and alerts (DUALREC_RTC_ENABLED)
    rtc_live: LiveCallSupervisor | None = None  # a live worker per call (DUALREC_RTC_LIVE_ENABLED)
    janus_stats: JanusStatsSampler | None = None  # Janus' view of the calls (beside a managed Janus)
    review: ReviewServices | None = None  # QC operations: sampling, review, appeals, statistics
    sampler: SamplingScheduler | None = None  # the daily sampling rules (DUALREC_REVIEW_SAMPLING_*)
    _started: bool = field(default=False, repr=False)

    def database_ready(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    @property
    def queue(self) -> JobQueue:
        assert self.jobs is not None, "job queue not built"
        return self.jobs

    def start(self) -> None:
        """Start background work (the in-process job pool re-queues unfinished jobs here)."""
        if self.jobs is not None and not self._started:
            self.jobs.start()
            self._started = True
        if self.webhooks is not None:
            self.webhooks.start()
        if self.reminder is not None:
            self.reminder.start()
        if self.integrity is not None:
            self.integrity.start()
        if self.sweeper is not None:
            self.sweeper.start()
        if self.janus is not None:
            self.janus.start()
        if self.rtc_live is not None:
            self.rtc_live.start()
        if self.janus_stats is not None:
            self.janus_stats.start()
        if self.sampler is not None:
            self.sampler.start()
        if self.live_monitor is not None:
            self.live_monitor.pool.start()  # worker processes start with their first session

    def close(self) -> None:
        if self.live_monitor is not None:
            self.live_monitor.pool.stop()
        if self.sampler is not None:
            self.sampler.stop()
        if self.janus_stats is not None:
            self.janus_stats.stop()
        if self.rtc_live is not None:
            self.rtc_live.stop()
        if self.rtc is not None:
            self.rtc.nodes.close()
        if self.janus is not None:
            self.janus.stop()
        if self.reminder is not None:
            self.reminder.stop()
        if self.integrity is not None:
            self.integrity.stop()
        if self.sweeper is not None:
            self.sweeper.stop()
        if self.webhooks is not None:
            self.webhooks.stop()
        if self.jobs is not None and self._started:
            self.jobs.stop(wait=True)
            self._started = False
        self.engine.dispose()


def job_handlers(container: Container) -> dict[str, JobHandler]:
    from dualrec.bootstrap.evidence import evidence_notary
    from dualrec.bootstrap.jobs import builtin_job_handlers
    from dualrec.services.evidence.ledger import PeriodicCheckpointer
    from dualrec.settings import answer_thresholds

    settings = container.settings
    runner = QcJobRunner(
        container.uows,
        container.blobs,
        container.engines,
        settings.data_dir / "scratch",
        checkpointer=PeriodicCheckpointer(
            container.uows, lambda: evidence_notary(settings), settings.evidence_checkpoint_every
        ),
        thresholds=answer_thresholds(settings),  # the live session's answer accuracy (one setting)
        # QC result → the task of the attempt (services.tasks.qc_result), then the catalogue entry
        after_finish=(
            functools.partial(task_qc_finished, container.uows, container.tasks),
            container.archive.sync_recording,
            *((container.review.high_risk.evaluate,) if container.review is not None else ()),
        ),
    )
    return {
        **builtin_job_handlers(),
        QC_JOB_KIND: runner,
        ARCHIVE_PUSH_JOB_KIND: archive_pusher(settings, container.uows, container.blobs),
        ARCHIVE_SYNC_JOB_KIND: archive_sync_handler(container.archive),
        SESSION_ASSEMBLE_JOB: SessionAssembler(
            container.uows,
            container.blobs,
            lambda: container.queue,
            container.tasks,
            settings.data_dir / "scratch",
            archive_h265=settings.archive_h265,
        ),
        RTC_COMPOSE_JOB: call_composer(
            settings, container.uows, container.blobs, lambda: container.queue, container.tasks
        ),
    }


def archive_sync_handler(archive: ArchiveService) -> JobHandler:
    """``archive.sync``: create/refresh the catalogue entry of ``payload.recording_id``."""

    def handle(ctx: JobContext) -> dict[str, Any]:
        recording_id = str(ctx.payload["recording_id"])
        return {"recording_id": recording_id, "found": archive.sync_recording(recording_id)}

    return handle


class LazyWorkerHandler:
    """For Celery worker processes: builds this process's own container on the first job (after fork)."""

    def __init__(self, settings: Settings, kind: str) -> None:
        self._settings = settings
        self._kind = kind
        self._handler: JobHandler | None = None
        self._lock = threading.Lock()

    def __call__(self, ctx: JobContext) -> dict[str, Any] | None:
        with self._lock:
            if self._handler is None:
                self._handler = job_handlers(build_container(self._settings, with_jobs=False))[self._kind]
        return self._handler(ctx)


def worker_job_handlers(settings: Settings) -> dict[str, JobHandler]:
    """Handlers of a ``dualrec worker`` process: built-ins plus QC (each process builds its own container)."""
    from dualrec.bootstrap.jobs import builtin_job_handlers

    return {
        **builtin_job_handlers(),
        QC_JOB_KIND: LazyWorkerHandler(settings, QC_JOB_KIND),
        ARCHIVE_PUSH_JOB_KIND: LazyWorkerHandler(settings, ARCHIVE_PUSH_JOB_KIND),
        SESSION_ASSEMBLE_JOB: LazyWorkerHandler(settings, SESSION_ASSEMBLE_JOB),
        ARCHIVE_SYNC_JOB_KIND: LazyWorkerHandler(settings, ARCHIVE_SYNC_JOB_KIND),
        RTC_COMPOSE_JOB: LazyWorkerHandler(settings, RTC_COMPOSE_JOB),  # needs the Janus host's files
    }


def build_container(settings: Settings, *, migrate: bool = False, with_jobs: bool = True) -> Container:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    passwords.configure(
        time_cost=settings.password_hash_time_cost, memory_kib=settings.password_hash_memory_kib
    )
    url = settings.resolved_database_url
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    box = SecretBox(settings.secret_key.get_secret_value())
    index = BlindIndex(settings.secret_key.get_secret_value())
    # customers' names / ID numbers in tasks and recordings are sealed by the repositories
    uows = UnitOfWorkFactory(make_session_factory(engine), sealer=PersonalDataSealer(box, index))
    auth = AuthService(
        uows,
        AuthConfig(
            session_ttl=timedelta(minutes=settings.session_ttl_minutes),
            session_idle=timedelta(minutes=settings.session_idle_minutes),
            lockout=LockoutPolicy(
                settings.login_max_failures, timedelta(minutes=settings.login_lockout_minutes)
            ),
            signature_max_skew_seconds=settings.api_signature_max_skew_seconds,
            ip_throttle=ThrottlePolicy(
                settings.login_ip_max_failures, timedelta(minutes=settings.login_ip_window_minutes)
            ),
        ),
        box,
    )
    blobs = build_blob_store(settings)
    container = Container(
        settings=settings,
        engine=engine,
        uows=uows,
        auth=auth,
        secretbox=box,
        blobs=blobs,
        engines=LazyEngines(settings),
        tasks=TaskService(
            uows,
            box,
            secret_key=settings.secret_key.get_secret_value(),
            public_url=settings.public_url,
            link_ttl=timedelta(hours=settings.task_link_ttl_hours),
            blobs=blobs,
        ),
        archive=ArchiveService(uows, blobs, box, index),
    )
    container.webhooks = build_webhook_dispatcher(settings, uows, box)
    container.reminder = build_retention_reminder(settings, container.archive.retention)
    container.integrity = build_integrity_auditor(settings, uows)
    container.review = build_review_services(settings, uows, blobs, container.tasks)
    container.sampler = build_sampling_scheduler(settings, container.review.sampling)
    container.sessions = LiveSessionService(
        uows,
        container.blobs,
        container.tasks,
        lambda: container.queue,
        options=session_options(settings),
        transcribe=wav_transcriber(lambda: container.engines()),
    )
    container.sweeper = SessionSweeper(container.sessions, settings.session_sweep_seconds)
    container.live_monitor, container.session_docs, container.session_copies = build_session_extras(
        container.sessions,
        blobs,
        lambda: container.engines(),
        settings.data_dir / "cache" / "speech",
        settings,
    )
    container.rtc = build_rtc(settings, uows, container.tasks, lambda: container.queue, blobs)
    if container.rtc is not None:
        container.live_events = build_live_events(uows, container.tasks)
    if with_jobs:
        from dualrec.bootstrap.jobs import build_job_queue

        container.jobs = build_job_queue(settings, job_handlers(container), engine=engine)
    return container


def migrate_database(settings: Settings, revision: str = "head") -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url, revision)


def start_standalone_sampler(settings: Settings) -> SamplingScheduler | None:
    """For ``dualrec worker``: the daily sampling thread on the worker's own container (its engine is
    disposed in forked pool children, which inherit but must not use its connections). The run key
    ``rule:<id>:<day>`` is unique in the database, so servers and workers together sample once."""
    if not (settings.review_sampling_enabled and settings.review_sampling_in_worker):
        return None
    container = build_container(settings, with_jobs=False)
    os.register_at_fork(after_in_child=lambda: container.engine.dispose(close=False))
    sampler = container.sampler
    if sampler is not None:
        sampler.start()
    return sampler
