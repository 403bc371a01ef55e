"""The catalogue record of an entry (SPEC §4 groups: file, AV metadata, activity, retention, archival)
as JSON-ready dicts, and CSV (UTF-8 with BOM for Excel) of one entry or a page of search results.

The record carries personal fields as the service presented them (masked unless the caller may see
them in full); nothing here opens sealed data.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from dualrec.core.archive import ArchiveEntry
from dualrec.core.retention import is_expired
from dualrec.services.common.csv_cells import safe_cell

__all__ = ["CSV_COLUMNS", "catalogue_csv", "catalogue_record"]

AV_KEYS = (
    "video_codec",
    "audio_codec",
    "width",
    "height",
    "resolution",
    "aspect_ratio",
    "fps",
    "bit_rate",
    "audio_sample_rate",
    "audio_channels",
    "video_time",
    "audio_time",
)


def catalogue_record(entry: ArchiveEntry, *, today: date, masked: bool) -> dict[str, Any]:
    base = f"/api/v1/recordings/{entry.recording_id}"
    links = {"self": f"/api/v1/archive/entries/{entry.recording_id}", "recording": base}
    if entry.status == "active":
        links["media"] = f"{base}/media"
    return {
        "recording_id": entry.recording_id,
        "status": entry.status,
        "masked": masked,
        "file": {
            "filename": entry.filename,
            "format": entry.file_format,
            "content_type": entry.content_type,
            "size": entry.size,
            "sha256": entry.sha256,
            "duration_seconds": round(entry.duration_ms / 1000, 3) if entry.duration_ms is not None else None,
            "created_at": entry.recorded_at,
        },
        "av": {k: entry.av.get(k) for k in AV_KEYS},
        "activity": {
            "business_type": entry.business_type,
            "business_no": entry.business_no,
            "contract_no": entry.contract_no,
            "product": entry.product,
            "customer_id": entry.customer_id,
            "customer_name": entry.customer_name,
            "id_number": entry.id_number,
            "phone": entry.phone,
            "branch_id": entry.branch_id,
            "branch_name": entry.branch_name,
            "created_by": entry.created_by,
            "task_id": entry.task_id,
            "attempt": entry.attempt_no,
            "recorded_at": entry.recorded_at,
            "qc_status": entry.qc_status,
            "qc_verdict": entry.qc_verdict,
        },
        "retention": {
            "code": entry.retention_code,
            "basis": entry.retention_basis,
            "manual": entry.retention_manual,
            "contract_end": entry.contract_end,
            "expires_on": entry.expires_on,
            "expired": is_expired(entry.expires_on, today),
        },
        "secrecy_level": entry.secrecy_level,
        "carrier_numbers": list(entry.carrier_numbers),
        "legal_hold": {
            "active": entry.legal_hold,
            "reason": entry.legal_hold_reason,
            "by": entry.legal_hold_by,
            "at": entry.legal_hold_at,
        },
        "deletion": {"deleted_at": entry.deleted_at, "tombstone_seq": entry.tombstone_seq},
        "links": links,
    }


CSV_COLUMNS: tuple[str, ...] = (
    "recording_id",
    "status",
    *(f"file.{k}" for k in ("filename", "format", "size", "sha256", "duration_seconds")),
    *(f"av.{k}" for k in AV_KEYS),
    *(
        f"activity.{k}"
        for k in (
            "business_type",
            "business_no",
            "contract_no",
            "product",
            "customer_id",
            "customer_name",
            "id_number",
            "phone",
            "branch_name",
            "created_by",
            "task_id",
            "attempt",
            "recorded_at",
            "qc_verdict",
        )
    ),
    *(f"retention.{k}" for k in ("code", "basis", "contract_end", "expires_on", "expired")),
    "secrecy_level",
    "carrier_numbers",
    "legal_hold.active",
    "legal_hold.reason",
    "deletion.deleted_at",
    "deletion.tombstone_seq",
)


def _cell(record: dict[str, Any], column: str) -> str:
    value: Any = record
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return safe_cell(str(value))  # no formulas in Excel


def catalogue_csv(records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow([_cell(record, c) for c in CSV_COLUMNS])
    return buf.getvalue()
