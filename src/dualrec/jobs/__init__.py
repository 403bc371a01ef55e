"""Background jobs: the ``JobQueue`` port, the in-process backend and the Celery backend.

Importing this package never imports Celery (``celery_app`` loads it inside its functions).
"""

from dualrec.jobs.ports import (
    FINISHED_STATUSES,
    JobContext,
    JobHandler,
    JobQueue,
    JobRecord,
    JobStatus,
    JobStore,
)
from dualrec.jobs.selftest import SELFTEST_KIND, selftest_handler

__all__ = [
    "FINISHED_STATUSES",
    "SELFTEST_KIND",
    "JobContext",
    "JobHandler",
    "JobQueue",
    "JobRecord",
    "JobStatus",
    "JobStore",
    "selftest_handler",
]
