"""Reading a recording's stored native QC report (the sampling and the high-risk rules both look at
its findings)."""

from __future__ import annotations

import json
import logging
from typing import Any

from dualrec.storage.ports import BlobStore

__all__ = ["load_report"]

logger = logging.getLogger(__name__)


def load_report(blobs: BlobStore, key: str | None) -> dict[str, Any]:
    """The report stored under ``key`` ({} when there is none or it cannot be read: logged)."""
    if not key:
        return {}
    try:
        with blobs.open(key) as fh:
            data = json.loads(fh.read())
        return data if isinstance(data, dict) else {}
    except Exception:
        logger.exception("review: cannot read QC report %s", key)
        return {}
