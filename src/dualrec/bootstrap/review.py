"""QC operations wiring (docs/review.md): the review services, the high-risk rules with their
e-mail adapter, and the daily sampling thread.

The sampler is a daemon thread in every ``dualrec serve`` (``Container.start``) and every
``dualrec worker`` (``container.start_standalone_sampler``, ``DUALREC_REVIEW_SAMPLING_IN_WORKER``).
It looks every
``DUALREC_REVIEW_SAMPLING_CHECK_SECONDS`` and runs each enabled rule for the day before once the
bank's local hour ``DUALREC_REVIEW_SAMPLING_HOUR`` has come; the run's key (rule and day) is unique
in the database, so several servers sample each day once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dualrec.bootstrap.periodic import PeriodicThread
from dualrec.core.review import Sample
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.common.mail import Mailer, SmtpConfig, SmtpMailer
from dualrec.services.review.appeals import AppealService
from dualrec.services.review.high_risk import HighRiskService
from dualrec.services.review.sampling import SamplingService
from dualrec.services.review.service import ReviewService
from dualrec.services.review.stats import StatsService
from dualrec.services.tasks.service import TaskService
from dualrec.settings import Settings
from dualrec.storage.ports import BlobStore

__all__ = [
    "ReviewServices",
    "SamplingScheduler",
    "build_mailer",
    "build_review_services",
    "build_sampling_scheduler",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewServices:
    sampling: SamplingService
    reviews: ReviewService
    appeals: AppealService
    stats: StatsService
    high_risk: HighRiskService


def build_mailer(settings: Settings) -> Mailer | None:
    """The SMTP adapter, or None while ``DUALREC_SMTP_HOST`` is empty (e-mail off)."""
    if not settings.smtp_host:
        return None
    return SmtpMailer(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else "",
            timeout_seconds=settings.smtp_timeout_seconds,
        )
    )


def build_review_services(
    settings: Settings, uows: UnitOfWorkFactory, blobs: BlobStore, tasks: TaskService
) -> ReviewServices:
    offset = settings.review_utc_offset_hours
    return ReviewServices(
        sampling=SamplingService(
            uows, blobs, utc_offset_hours=offset, sampling_hour=settings.review_sampling_hour
        ),
        reviews=ReviewService(uows, tasks, final_for_fail=settings.review_final_for_fail),
        appeals=AppealService(
            uows,
            blobs,
            tasks,
            appeal_days=settings.review_appeal_days,
            max_files=settings.review_appeal_max_files,
            max_file_bytes=settings.review_appeal_max_file_bytes,
        ),
        stats=StatsService(uows, utc_offset_hours=offset),
        high_risk=HighRiskService(
            uows,
            blobs,
            mailer=build_mailer(settings),
            email_to=settings.notify_email_to,
            console_url=settings.public_url,
        ),
    )


class SamplingScheduler(PeriodicThread):
    def __init__(self, sampling: SamplingService, *, check_seconds: float) -> None:
        super().__init__(name="dualrec-review-sampling", check_seconds=check_seconds, run_at_start=True)
        self._sampling = sampling

    def run_once(self) -> list[Sample]:
        try:
            samples = self._sampling.run_due()
        except Exception:
            logger.exception("review sampling failed; retrying at the next check")
            return []
        for s in samples:
            logger.info(
                "review sampling: rule %s picked %d of %d recordings, %d new in the queue (sample %d)",
                s.rule_id,
                len(s.selected),
                s.candidates,
                s.added,
                s.id,
            )
        return samples


def build_sampling_scheduler(settings: Settings, sampling: SamplingService) -> SamplingScheduler | None:
    if not settings.review_sampling_enabled:
        return None
    return SamplingScheduler(sampling, check_seconds=settings.review_sampling_check_seconds)
