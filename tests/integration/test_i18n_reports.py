"""Reports in one language (issue 19): the QC report PDF and the signed litigation report, each
rendered with ``lang=en`` holds no Chinese except data values (the transcript, node titles, names),
and with ``lang=zh-CN`` no English label and no "中文 / English" pair; without ``lang`` the
requester's language decides. The JSON report adds each finding's text in the requested language."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from dualrec.i18n import has_cjk, template_fields
from dualrec.i18n.catalog import MESSAGES
from dualrec.services.pdf.pades import validate_signed_pdf
from tests.conftest import ADMIN_PASSWORD, CSRF, login
from tests.litigation_fixtures import CUSTOMER_NAME, fake_server, upload_done

PAIR = re.compile(r"[\u3400-\u9fff][^/\n]*(?:\s|[\u3000-\u303f\uff00-\uffef])/\s[A-Za-z]{2,}")
CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    with fake_server(tmp_path_factory.mktemp("data")) as (client, _container):
        login(client, "admin", ADMIN_PASSWORD)
        yield client, upload_done(client, "I18N-0001")


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _data_values(report: dict[str, Any]) -> list[str]:
    """What was recorded or entered (not labels): these may be Chinese in any language's report."""
    values = [CUSTOMER_NAME, CUSTOMER_NAME[0] + "*", "总行"]
    values += [str(s.get("text") or "") for s in report.get("transcript", [])]
    for node in report.get("nodes", []):
        values += [str(node.get("title") or "")]
    for check in report.get("checks", []):
        for f in check.get("findings", []):
            values.append(str((f.get("evidence") or {}).get("quote") or ""))
            values += [str(v) for v in (f.get("params") or {}).values()]
    for card in (report.get("identity") or {}).get("id_card", []):
        values += [str(card.get("name") or "")]
    return sorted({v for v in values if v}, key=len, reverse=True)


def _chinese_outside_data(text: str, data: list[str]) -> list[str]:
    flat = text.replace("\n", "")
    for value in data:
        flat = flat.replace(value.replace("\n", ""), " ")
        for piece in CJK_RUN.findall(value):  # a value split by a line break or quoted in part
            if len(piece) >= 2:
                flat = flat.replace(piece, " ")
    return CJK_RUN.findall(flat)


def _english_labels(prefix: str) -> list[str]:
    """The English side of a report's labels (whole words only, no parameters)."""
    out = []
    for key, entry in MESSAGES.items():
        if key.startswith(prefix) and not template_fields(entry["en"]) and len(entry["en"]) >= 6:
            out.append(entry["en"])
    return out


def test_the_qc_report_pdf_in_each_language(server: tuple[TestClient, str]) -> None:
    client, rid = server
    report = client.get(f"/api/v1/recordings/{rid}/report").json()
    data = _data_values(report)

    en = client.get(f"/api/v1/recordings/{rid}/report.pdf", params={"lang": "en"})
    assert en.status_code == 200 and en.content.startswith(b"%PDF")
    text_en = _text(en.content)
    assert "Dual-recording QC report" in text_en and "Findings" in text_en and "Checks" in text_en
    assert "Customer on camera" in text_en or "Face presence" in text_en or "face" in text_en.lower()
    left = _chinese_outside_data(text_en, data)
    assert not left, f"Chinese outside data values in the English QC report: {left}"

    zh = client.get(f"/api/v1/recordings/{rid}/report.pdf", params={"lang": "zh-CN"})
    text_zh = _text(zh.content)
    assert "双录质检报告" in text_zh and "问题明细" in text_zh and "客户离开画面" in text_zh
    assert not PAIR.search(text_zh), PAIR.search(text_zh)
    shown = [label for label in _english_labels("report.qc.") if label in text_zh]
    assert not shown, f"English labels in the zh-CN QC report: {shown}"
    assert not re.search(r"\b(PASS|REVIEW|FAIL|not_run|face_presence)\b", text_zh)

    # without lang: the requester's language (Accept-Language here), zh-CN by default
    default = client.get(f"/api/v1/recordings/{rid}/report.pdf")
    assert default.content == zh.content
    by_header = client.get(f"/api/v1/recordings/{rid}/report.pdf", headers={"Accept-Language": "en"})
    assert by_header.content == en.content
    bad = client.get(f"/api/v1/recordings/{rid}/report.pdf", params={"lang": "fr"})
    assert bad.status_code == 422


def test_the_json_report_adds_the_findings_text_in_the_requested_language(
    server: tuple[TestClient, str],
) -> None:
    client, rid = server
    en = client.get(f"/api/v1/recordings/{rid}/report", params={"lang": "en"}).json()
    zh = client.get(f"/api/v1/recordings/{rid}/report", headers={"Accept-Language": "zh-CN"}).json()
    findings_en = [f for c in en["checks"] for f in c["findings"]]
    findings_zh = [f for c in zh["checks"] for f in c["findings"]]
    assert findings_en and len(findings_en) == len(findings_zh)
    keyed = [f for f in findings_en if f.get("message_key")]
    assert keyed, "findings carry their message key"
    for f_en, f_zh in zip(findings_en, findings_zh, strict=True):
        assert f_en["message"] == f_zh["message"]  # the stored text stays as stored
        assert f_en["message_localized"] and f_zh["message_localized"]
        assert not PAIR.search(f_zh["message_localized"]) and " / " not in f_en["message_localized"]
    gone = next(f for f in findings_en if f.get("message_key") == "finding.face_presence.customer_camera")
    assert gone["message_localized"].startswith("customer not on camera for ")
    assert gone["params"]["value"] > 3


def test_the_litigation_report_in_each_language(server: tuple[TestClient, str]) -> None:
    client, rid = server
    report = client.get(f"/api/v1/recordings/{rid}/report").json()
    data = _data_values(report)
    cert = client.get("/api/v1/litigation/certificate.pem").text
    subject = client.get("/api/v1/litigation/settings").json()["certificate_subject"]
    data = [subject, *data]  # the signing certificate's name is data too

    en = client.get(f"/api/v1/recordings/{rid}/litigation.pdf", params={"lang": "en"})
    assert en.status_code == 200, en.text
    assert validate_signed_pdf(en.content, [cert]).ok
    text_en = _text(en.content)
    assert "Dual-recording litigation evidence report" in text_en and "Wealth management" in text_en
    assert "1. Task and customer" in text_en and "Ledger proof" in text_en and "masked" in text_en
    left = _chinese_outside_data(text_en, data)
    assert not left, f"Chinese outside data values in the English litigation report: {left}"

    zh = client.get(f"/api/v1/recordings/{rid}/litigation.pdf", params={"lang": "zh-CN"})
    text_zh = _text(zh.content).replace(subject, "")
    assert "双录诉讼证据报告" in text_zh and "一、任务与客户信息" in text_zh and "理财" in text_zh
    assert not PAIR.search(text_zh), PAIR.search(text_zh)
    shown = [label for label in _english_labels("report.lit.") if label in text_zh]
    assert not shown, f"English labels in the zh-CN litigation report: {shown}"
    assert "wealth" not in text_zh and not re.search(r"\b(PASS|REVIEW|FAIL|inferred|markers)\b", text_zh)

    audit = client.get("/api/v1/audit-events", params={"action": "evidence.litigation_report"}).json()
    assert [e["details"]["language"] for e in audit["items"][:2]] == ["zh-CN", "en"]


def test_a_users_language_setting_chooses_the_report_language(
    server: tuple[TestClient, str], tmp_path: Path
) -> None:
    client, rid = server
    assert client.put("/api/v1/auth/me/language", json={"language": "en"}, headers=CSRF).status_code == 200
    try:
        text = _text(client.get(f"/api/v1/recordings/{rid}/report.pdf").content)
        assert "Dual-recording QC report" in text and "双录质检报告" not in text
        lit = _text(client.get(f"/api/v1/recordings/{rid}/litigation.pdf").content)
        assert "Dual-recording litigation evidence report" in lit and "双录诉讼证据报告" not in lit
        # an explicit lang still wins
        text = _text(client.get(f"/api/v1/recordings/{rid}/report.pdf", params={"lang": "zh-CN"}).content)
        assert "双录质检报告" in text
    finally:
        client.put("/api/v1/auth/me/language", json={"language": None}, headers=CSRF)
    assert has_cjk(_text(client.get(f"/api/v1/recordings/{rid}/report.pdf").content))
