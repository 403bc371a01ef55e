"""Encryption at rest (issue 5, "must show"): after seeding tasks, uploads with the customer's name, ID
number and ID photo, QC and the archive catalogue, neither a database dump nor the blob store contains
a customer's name, ID number or phone, nor the bytes of the face photo — and search still finds them.

SQLite always; PostgreSQL too (required under CI=true, skipped with the reason otherwise).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container, job_handlers
from dualrec.bootstrap.jobs import build_job_queue
from dualrec.core.idcard import gb11643_check_digit
from dualrec.services.flows.demo_content import seed_demo_content
from dualrec.services.identity.seed import seed_demo
from tests.archive_fixtures import CUSTOMER
from tests.conftest import ADMIN_PASSWORD, TEST_DATA, login, make_clip, make_settings
from tests.services import isolated_database_url

NAMES = ["欧阳测试甲", "司马样本乙", "Zhangtest Sample"]
PHONES = ["13912345678", "13698765432", "13500001111"]
PHOTO = TEST_DATA / "faces" / "obama.jpg"


def _id_number(i: int) -> str:
    first = f"3201021987070{i:03d}1"[:17]
    return first + gb11643_check_digit(first)


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Container, TestClient, str]]:
    from dualrec.bootstrap.engines import build_qc_engines

    with isolated_database_url(request.param, str(tmp_path)) as url:
        settings = make_settings(tmp_path / "data", database_url=url, job_workers=1)
        c = build_container(settings, migrate=True)
        seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        seed_demo_content(c.uows)
        engines = build_qc_engines(data_dir=settings.data_dir, asr=False, faces=False, ocr=False)
        c.engines = lambda: engines
        c.jobs = build_job_queue(settings, job_handlers(c), engine=c.engine)
        with TestClient(create_app(settings, container=c)) as client:
            yield c, login(client, "admin", ADMIN_PASSWORD), url
        c.close()


def _seed(c: Container, client: TestClient, clip: Path) -> list[str]:
    recordings = []
    for i, (name, phone) in enumerate(zip(NAMES, PHONES, strict=True)):
        task = {**CUSTOMER, "customer_name": name, "id_number": _id_number(i), "phone": phone}
        task.update(business_no=f"PRIV-{i}", customer_id=f"C-PRIV-{i}")
        r = client.post("/api/v1/tasks", json=task)
        assert r.status_code == 201, r.text
        task_id = r.json()["id"]
        inputs = {"running_no": f"PRIV-{i}", "customer_name": name, "id_number": _id_number(i)}
        with clip.open("rb") as fh, PHOTO.open("rb") as photo:
            r = client.post(
                "/api/v1/recordings",
                files={"file": ("clip.mp4", fh, "video/mp4"), "id_photo": ("id.jpg", photo, "image/jpeg")},
                data={"task": json.dumps(inputs, ensure_ascii=False)},
            )
        assert r.status_code == 202, r.text
        rid = r.json()["id"]
        with c.uows() as uow:
            uow.tasks.update_attempt(task_id, 1, recording_id=rid)
            uow.commit()
        recordings.append(rid)
    deadline = time.monotonic() + 300
    for rid in recordings:
        while client.get(f"/api/v1/recordings/{rid}").json()["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, "QC did not finish"
            time.sleep(0.3)
        assert c.archive.sync_recording(rid)
    return recordings


def _database_text(c: Container, url: str, tmp_path: Path) -> str:
    """Every row of every table as text (the portable 'dump'), plus the native dump tool's output."""
    parts = []
    with c.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                parts.append(f"{table}: {tuple(row)!r}")
                parts.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
            parts.extend(raw.iterdump())
    else:
        dump = subprocess.run(
            ["pg_dump", "--no-owner", url.replace("postgresql://", "postgresql://", 1)],
            capture_output=True,
            check=True,
        )
        parts.append(dump.stdout.decode("utf-8"))
    return "\n".join(parts)


def test_no_plaintext_personal_data_or_faces_at_rest(
    seeded: tuple[Container, TestClient, str], tmp_path: Path
) -> None:
    c, client, url = seeded
    clip = make_clip(tmp_path / "clip.mp4", 4)
    recordings = _seed(c, client, clip)

    secrets = [*NAMES, *PHONES, *(_id_number(i) for i in range(3))]
    db_text = _database_text(c, url, tmp_path)
    assert "archive_entries" in db_text and "PRIV-0" in db_text  # the dump holds the seeded rows
    leaks = [s for s in secrets if s in db_text or s.lower() in db_text.lower()]
    assert not leaks, f"plaintext personal data in the database: {leaks}"

    photo = PHOTO.read_bytes()
    probes = [s.encode() for s in secrets] + [
        photo[i : i + 48] for i in range(200, len(photo) - 48, len(photo) // 8)
    ]
    blob_files = [p for p in (c.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(blob_files) >= 3 * 5  # recordings, photos, reports, PDFs
    for path in blob_files:
        data = path.read_bytes()
        found = [p[:16] for p in probes if p in data]
        assert not found, f"plaintext in blob {path.name}: {found}"

    # the sealed data is still usable: exact search by name and ID number, shown in full to admins
    r = client.get("/api/v1/archive/entries", params={"customer_name": NAMES[1]}).json()
    assert [i["recording_id"] for i in r["items"]] == [recordings[1]]
    assert r["items"][0]["activity"]["customer_name"] == NAMES[1]
    r = client.get("/api/v1/archive/entries", params={"id_number": _id_number(2)}).json()
    assert [i["recording_id"] for i in r["items"]] == [recordings[2]]
    r = client.get("/api/v1/tasks", params={"customer_name": NAMES[0]}).json()
    assert r["total"] == 1 and r["items"][0]["customer_name"] == NAMES[0]
    with c.uows() as uow:
        rec = uow.recordings.get(recordings[0])
    assert rec is not None and rec.inputs["task"]["customer_name"] == NAMES[0]  # opened for QC
