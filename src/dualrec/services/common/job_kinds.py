"""The kinds of background job the services queue, each handled by one handler (bootstrap.container)."""

from __future__ import annotations

__all__ = [
    "ARCHIVE_PUSH_JOB_KIND",
    "ARCHIVE_SYNC_JOB_KIND",
    "QC_JOB_KIND",
    "RTC_COMPOSE_JOB",
    "SESSION_ASSEMBLE_JOB",
]

QC_JOB_KIND = "qc.recording"  # services.recordings.qc_job: run the QC pipeline on a recording
ARCHIVE_SYNC_JOB_KIND = "archive.sync"  # services.archive.catalogue: create/refresh a catalogue entry
ARCHIVE_PUSH_JOB_KIND = "archive.push"  # services.archive.push: send an evidence package to the archive
SESSION_ASSEMBLE_JOB = "session.assemble"  # services.sessions.assembly: chunks → one MP4 → QC
RTC_COMPOSE_JOB = (
    "rtc.compose"  # services.rtc.compose: a call's Janus recordings → per-party MP4s + composite → QC
)
