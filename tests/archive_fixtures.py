"""Archive test data: recordings stored the way the upload/QC path stores them (blobs through the
encrypted store, ledger events, a native QC report), linked to tasks created through the tasks API,
and catalogued through ``ArchiveService.sync_recording`` (the real code path)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.core.recordings import Recording
from dualrec.services.evidence import ledger

CUSTOMER: dict[str, Any] = {
    "customer_id": "C-0001",
    "customer_name": "张三丰",
    "id_number": "11010519491231002X",
    "phone": "13800138000",
    "customer_type": "personal",
    "risk_level": "R3",
    "business_type": "insurance",
    "business_no": "INS-2026-0001",
    "contract_no": "HT-0001",
    "product": "安心终身寿险",
}

REPORT = {
    "verdict": "PASS",
    "duration": 61.25,
    "video_info": {
        "name": "recording.mp4",
        "width": 1280,
        "height": 720,
        "fps": 25.0,
        "video_time": 61.2,
        "audio_time": 61.25,
        "video_codec": "h264",
        "audio_codec": "aac",
        "audio_sample_rate": 48000,
        "audio_channels": 1,
        "bit_rate": 1_500_000,
    },
}


def create_task(client: TestClient, **overrides: Any) -> dict[str, Any]:
    r = client.post("/api/v1/tasks", json={**CUSTOMER, **overrides})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def add_recording(
    c: Container,
    *,
    branch_code: str = "HQ",
    task_id: str | None = None,
    verdict: str = "PASS",
    created_at: datetime | None = None,
    inputs_task: dict[str, Any] | None = None,
    content: bytes = b"\x00\x00\x00\x18ftypmp42 fake recording bytes",
) -> str:
    """A finished recording with its blob, a report and an evidence frame; catalogued. Returns its id."""
    now = created_at or datetime.now(UTC)
    with c.uows() as uow:
        branch = uow.branches.by_code(branch_code)
    assert branch is not None
    ref = c.blobs.put(content, content_type="video/mp4")
    report_key = c.blobs.put(
        json.dumps({**REPORT, "verdict": verdict}).encode(), content_type="application/json"
    ).key
    frame_key = c.blobs.put(b"\xff\xd8\xff fake jpeg", content_type="image/jpeg").key
    rec = Recording(
        id=str(uuid.uuid4()),
        branch_id=branch.id,
        branch_path=branch.path,
        created_by="admin",
        running_no=str((inputs_task or {}).get("running_no", "")),
        filename="recording.mp4",
        content_type="video/mp4",
        size=ref.size,
        sha256=ref.sha256,
        blob_key=ref.key,
        status="queued",
        created_at=now,
        updated_at=now,
        inputs={"task": inputs_task or {}, "flow": None, "markers": None, "id_photo_key": None},
    )
    artifacts = {"report": report_key, "evidence": {"face_0001.jpg": frame_key}}
    with c.uows() as uow:
        uow.recordings.add(rec)
        ledger.record_blob(
            uow,
            c.blobs,
            subject_type="recording",
            subject_id=rec.id,
            kind=ledger.EvidenceKind.BLOB_STORED,
            name="recording.mp4",
            key=ref.key,
        )
        uow.recordings.update(rec.id, status="done", verdict=verdict, risk_score=10, artifacts=artifacts)
        ledger.record_artifacts(uow, c.blobs, rec.id, artifacts)
        if task_id is not None:
            uow.tasks.update_attempt(task_id, 1, recording_id=rec.id)
        uow.commit()
    assert c.archive.sync_recording(rec.id)
    return rec.id
