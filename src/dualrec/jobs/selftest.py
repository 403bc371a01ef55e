"""The built-in ``system.selftest`` job: proves a worker really ran a job, and where.

Payload ``{"text": "..."}`` → result ``{"sha256": hex digest of the UTF-8 text, "length": number of
characters, "worker": "host/pid", "attempt": n}``. The caller can recompute the digest to check it.
"""

from __future__ import annotations

import hashlib
import os
import socket
from typing import Any

from dualrec.errors import InvalidInputError
from dualrec.jobs.ports import JobContext

__all__ = ["SELFTEST_KIND", "selftest_handler"]

SELFTEST_KIND = "system.selftest"


def selftest_handler(ctx: JobContext) -> dict[str, Any]:
    text = ctx.payload.get("text")
    if not isinstance(text, str):
        raise InvalidInputError('system.selftest needs a payload {"text": "..."}')
    ctx.report_progress(0.5)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    ctx.report_progress(1.0)
    return {
        "sha256": digest,
        "length": len(text),
        "worker": f"{socket.gethostname()}/{os.getpid()}",
        "attempt": ctx.attempt,
    }
