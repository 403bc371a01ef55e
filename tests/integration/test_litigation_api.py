"""The litigation report through the API: a signed PDF (pyHanko validates it against the certificate
the server publishes) with the task, the customer (masked by default), the nodes, the findings with
their times, the transcript with timestamps, the biometric results, the file hashes and the ledger
proof; unmasked only with sensitive:unmask; every report audited with its SHA-256."""

from __future__ import annotations

import hashlib
import io
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from dualrec.bootstrap.container import Container
from dualrec.services.identity.users_cli import create_user_as_system
from dualrec.services.pdf.pades import validate_signed_pdf
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login
from tests.litigation_fixtures import CUSTOMER_NAME, VALID_ID, fake_server, upload_done


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Container, str]]:
    with fake_server(tmp_path_factory.mktemp("data")) as (client, container):
        for username, role, branch in (
            ("auditor1", "auditor", "HQ"),
            ("compliance1", "compliance", "HQ"),
            ("interviewer1", "interviewer", "HQ"),
            ("auditor_sh", "auditor", "SH"),
        ):
            create_user_as_system(
                container.uows,
                username=username,
                role=role,
                branch_code=branch,
                display_name=username,
                password=PASSWORD,
            )
        login(client, "admin", ADMIN_PASSWORD)
        recording_id = upload_done(client, "LIT-0001")
        yield client, container, recording_id


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _as(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    return login(client, username, ADMIN_PASSWORD if username == "admin" else PASSWORD)


Server = tuple[TestClient, Container, str]


def test_the_report_is_signed_complete_and_masked_by_default(server: Server) -> None:
    client, container, rid = server
    client = _as(client, "admin")
    r = client.get(f"/api/v1/recordings/{rid}/litigation.pdf")
    assert r.status_code == 200, r.text
    pdf = r.content
    assert pdf.startswith(b"%PDF") and r.headers["content-type"] == "application/pdf"
    assert r.headers["x-content-sha256"] == hashlib.sha256(pdf).hexdigest()
    assert "attachment" in r.headers["content-disposition"] and "LIT-0001" in r.headers["content-disposition"]

    cert = client.get("/api/v1/litigation/certificate.pem").text
    check = validate_signed_pdf(pdf, [cert])
    assert check.ok and check.whole_file and check.intact, check
    settings = client.get("/api/v1/litigation/settings").json()
    assert settings["demo_certificate"] is True and settings["time_stamping"] is False
    assert settings["certificate_sha256"] == hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert)).hexdigest()

    text = _text(pdf)
    # task and customer, masked
    assert "LIT-0001" in text and "理财" in text  # the business type's display name
    assert "110105********002X" in text and VALID_ID not in text
    assert "张*" in text and CUSTOMER_NAME not in text
    # node timeline (flow nodes inferred from the transcript) and findings with their time range
    assert "风险揭示" in text and "推断" in text
    assert "00:11" in text and "客户离开画面" in text
    # the verbatim transcript with timestamps
    assert "[00:04.00–00:09.00] 本产品不保本，投资有风险，请您谨慎选择。" in text
    # biometric results: face comparison with distances; liveness and voiceprint said to be absent
    assert "人证比对" in text and "距离中位数" in text and "未采集声纹" in text and "活体检测" in text
    # every stored file's hash and the ledger proof
    report = client.get(f"/api/v1/recordings/{rid}/report").json()
    recording = client.get(f"/api/v1/recordings/{rid}").json()
    flat = text.replace("\n", "")
    assert recording["sha256"] in flat
    with container.uows() as uow:
        events = uow.evidence.for_subject("recording", rid)
    assert events and all(e.hash in flat for e in events)
    assert all(e.payload["sha256"] in flat for e in events if "sha256" in e.payload)
    assert "Merkle" in text and "检查点签名" in text
    assert {"PASS": "通过", "REVIEW": "待复核", "FAIL": "不通过"}[report["verdict"]] in text

    audit = client.get("/api/v1/audit-events", params={"action": "evidence.litigation_report"}).json()
    latest = audit["items"][0]
    assert latest["target_id"] == rid and latest["actor"] == "admin"
    assert latest["details"]["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert latest["details"]["masked"] is True and latest["details"]["business_type"] == "wealth"


def test_unmasked_report_needs_sensitive_unmask(server: Server) -> None:
    client, _, rid = server
    url = f"/api/v1/recordings/{rid}/litigation.pdf"
    unmasked = _as(client, "compliance1").get(url, params={"unmask": "true"})
    assert unmasked.status_code == 200
    text = _text(unmasked.content)
    assert VALID_ID in text and CUSTOMER_NAME in text and "未脱敏" in text

    auditor = _as(client, "auditor1")
    refused = auditor.get(url, params={"unmask": "true"})
    assert refused.status_code == 403 and refused.json()["permission"] == "sensitive:unmask"
    masked = auditor.get(url)
    assert masked.status_code == 200 and VALID_ID not in _text(masked.content)

    assert _as(client, "interviewer1").get(url).status_code == 403  # no evidence:export
    assert _as(client, "auditor_sh").get(url).status_code == 404  # another branch's recording


def test_a_changed_byte_breaks_the_signature(server: Server) -> None:
    client, _, rid = server
    client = _as(client, "admin")
    pdf = bytearray(client.get(f"/api/v1/recordings/{rid}/litigation.pdf").content)
    cert = client.get("/api/v1/litigation/certificate.pem").text
    pdf[len(pdf) // 3] ^= 0x01
    assert not validate_signed_pdf(bytes(pdf), [cert]).ok


def test_no_report_before_qc_is_done(tmp_path: Path) -> None:
    from tests.litigation_fixtures import upload

    with fake_server(tmp_path / "data", start_jobs=False) as (client, _):
        login(client, "admin", ADMIN_PASSWORD)
        rid = upload(client, "LIT-QUEUED")
        r = client.get(f"/api/v1/recordings/{rid}/litigation.pdf")
        assert r.status_code == 409 and "质检尚未完成" in r.json()["detail"]


def test_the_id_card_frame_is_shown_only_to_roles_that_may_see_personal_data(server: Server) -> None:
    client, _, rid = server
    report = _as(client, "admin").get(f"/api/v1/recordings/{rid}/report").json()
    (card,) = report["identity"]["id_card"]
    assert card["id_number"] == "110105********002X"  # stored masked in the report
    url = f"/api/v1/recordings/{rid}/{card['frame']}"
    assert client.get(url).status_code == 200
    refused = _as(client, "interviewer1").get(url)
    assert refused.status_code == 403 and refused.json()["permission"] == "sensitive:unmask"
    face = report["identity"]["face_comparison"]["samples"][0]["frame"]
    assert client.get(f"/api/v1/recordings/{rid}/{face}").status_code == 200  # faces: qc:read is enough
