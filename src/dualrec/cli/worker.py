"""``dualrec worker`` — a Celery worker that runs background jobs (QC, archive...) from the queue."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

import typer

from dualrec.settings import load_settings

__all__ = ["worker"]

Pool = Literal["prefork", "threads", "solo"]


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", "-c", help="并发数 / parallel jobs (default DUALREC_JOB_WORKERS)"),
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", "-l", help="日志级别 / log level")] = "INFO",
    queue: Annotated[str, typer.Option("--queue", "-Q", help="队列名 / queue name")] = "dualrec",
    pool: Annotated[str, typer.Option("--pool", help="prefork | threads | solo")] = "prefork",
) -> None:
    """运行后台任务进程 / run a background job worker (needs DUALREC_JOB_BACKEND=celery and Redis)."""
    from dualrec.bootstrap.container import start_standalone_sampler, worker_job_handlers
    from dualrec.bootstrap.jobs import build_celery_worker_app
    from dualrec.bootstrap.retention import start_standalone_reminder
    from dualrec.bootstrap.webhooks import start_standalone_dispatcher

    if pool not in ("prefork", "threads", "solo"):
        raise typer.BadParameter("--pool must be prefork, threads or solo")
    settings = load_settings()
    if settings.job_backend != "celery":
        logging.getLogger(__name__).warning(
            "DUALREC_JOB_BACKEND is %r: the server runs jobs itself and sends none to this worker",
            settings.job_backend,
        )
    app = build_celery_worker_app(settings, handlers=worker_job_handlers(settings), queue_name=queue)
    workers = concurrency if concurrency is not None else settings.job_workers
    dispatcher = start_standalone_dispatcher(settings)  # webhooks (DUALREC_WEBHOOK_ENABLED)
    reminder = start_standalone_reminder(settings)  # retention notices (DUALREC_ARCHIVE_REMINDER_ENABLED)
    sampler = start_standalone_sampler(settings)  # daily sampling rules (DUALREC_REVIEW_SAMPLING_*)
    try:
        app.worker_main(
            [
                "worker",
                f"--loglevel={loglevel.upper()}",
                f"--concurrency={max(1, workers)}",
                f"--queues={queue}",
                f"--pool={pool}",
                "--hostname=dualrec@%h",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        if dispatcher is not None:
            dispatcher.stop()
        if reminder is not None:
            reminder.stop()
        if sampler is not None:
            sampler.stop()
