"""Auditor exports: the operation log and the litigation log by time range, business type and
operator, as CSV (Excel-friendly, with each row's audit-chain hash) and as a signed CJK PDF."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from dualrec.bootstrap.container import Container
from dualrec.services.identity.users_cli import create_user_as_system
from dualrec.services.pdf.pades import validate_signed_pdf
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login
from tests.litigation_fixtures import fake_server, upload_done


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with fake_server(tmp_path_factory.mktemp("data")) as (client, container):
        _users(container)
        login(client, "admin", ADMIN_PASSWORD)
        wealth = upload_done(client, "AUD-W-1", business_type="wealth")
        insurance = upload_done(client, "AUD-I-1", business_type="insurance")
        admin_pdf = client.get(f"/api/v1/recordings/{wealth}/litigation.pdf").content
        client.cookies.clear()
        login(client, "auditor1", PASSWORD)
        client.get(f"/api/v1/recordings/{insurance}/litigation.pdf").raise_for_status()
        yield (
            client,
            {"wealth": wealth, "insurance": insurance, "admin_pdf": hashlib.sha256(admin_pdf).hexdigest()},
        )


def _users(container: Container) -> None:
    create_user_as_system(
        container.uows,
        username="auditor1",
        role="auditor",
        branch_code="HQ",
        display_name="审计员",
        password=PASSWORD,
    )
    create_user_as_system(
        container.uows,
        username="iv1",
        role="interviewer",
        branch_code="HQ",
        display_name="面签员",
        password=PASSWORD,
    )


def test_litigation_log_filters_by_business_type_and_operator(
    logs: tuple[TestClient, dict[str, str]],
) -> None:
    client, ids = logs
    wealth = client.get("/api/v1/audit-exports/litigation", params={"business_type": "wealth"}).json()
    assert wealth["total"] >= 1
    assert {row["business_type"] for row in wealth["items"]} == {"wealth"}
    report = next(row for row in wealth["items"] if row["action"] == "evidence.litigation_report")
    assert report["operator"] == "admin" and report["target"] == f"recording:{ids['wealth']}"
    assert report["action_zh"] == "生成诉讼报告" and ids["admin_pdf"] in report["summary"]

    mine = client.get("/api/v1/audit-exports/litigation", params={"operator": "auditor1"}).json()["items"]
    assert mine and {row["operator"] for row in mine} == {"auditor1"}
    assert any(row["target"] == f"recording:{ids['insurance']}" for row in mine)
    # the operation log has everything else too: the uploads, with their recordings' business types
    ops = client.get("/api/v1/audit-exports/operations", params={"business_type": "insurance"}).json()
    assert {row["action"] for row in ops["items"]} >= {"recording.uploaded", "evidence.litigation_report"}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/audit-exports/litigation", params={"since": future}).json()["total"] == 0


def test_csv_export(logs: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = logs
    r = client.get("/api/v1/audit-exports/litigation.csv", params={"business_type": "wealth"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["序号", "时间", "操作人"] and rows[1][-1] == "hash"
    body = rows[2:]
    assert body and all(row[6] == "wealth" for row in body)
    assert any(ids["admin_pdf"] in row[9] and row[2] == "admin" for row in body)
    assert all(len(row[10]) == 64 for row in body)  # each row's audit-chain hash


def test_pdf_export_is_signed_and_readable(logs: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = logs
    r = client.get("/api/v1/audit-exports/litigation.pdf", params={"operator": "auditor1"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    cert = client.get("/api/v1/litigation/certificate.pem").text
    assert validate_signed_pdf(r.content, [cert]).ok
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "诉讼日志" in text and "生成诉讼报告" in text and "auditor1" in text and "保险" in text
    assert "操作人：auditor1" in text and "operator" not in text  # one language: zh-CN by default
    en = client.get("/api/v1/audit-exports/litigation.pdf", params={"operator": "auditor1", "lang": "en"})
    text_en = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(en.content)).pages)
    assert "Audit export: Litigation log" in text_en and "Operator: auditor1" in text_en.replace(
        "operator", "Operator"
    )
    assert "Insurance" in text_en and "诉讼日志" not in text_en and "操作人" not in text_en
    # the exports themselves are in the litigation log
    exports = client.get("/api/v1/audit-exports/litigation", params={"operator": "auditor1"}).json()["items"]
    assert any(row["action"] == "audit.exported" and "format=pdf" in row["summary"] for row in exports)


def test_only_auditors_may_export(logs: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = logs
    client.cookies.clear()
    login(client, "iv1", PASSWORD)
    try:
        for path in ("/api/v1/audit-exports/operations.csv", "/api/v1/audit-exports/litigation.pdf"):
            assert client.get(path).status_code == 403
    finally:
        client.cookies.clear()
        login(client, "auditor1", PASSWORD)
