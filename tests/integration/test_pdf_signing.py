"""PAdES signatures with pyHanko: the demo certificate signs, pyHanko's validation API finds the
signature intact, trusted and covering the whole file; any changed byte of the signed content, a
changed signature value, an appended update or another certificate is caught; an RFC 3161 time stamp
from a local TSA (real HTTP exchange) validates."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fpdf import FPDF

from dualrec.errors import ConfigurationError, EngineUnavailableError
from dualrec.services.pdf.pades import (
    PdfSigner,
    generate_demo_certificate,
    load_pdf_signer,
    validate_signed_pdf,
)
from tests.tsa import local_tsa


def _pdf(text: str = "诉讼报告 / litigation report") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("cjk", "", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    pdf.set_font("cjk", size=12)
    for i in range(30):
        pdf.cell(0, 8, f"{text} {i}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> PdfSigner:
    path = tmp_path_factory.mktemp("keys") / "demo.p12"
    generate_demo_certificate(path)
    assert path.stat().st_mode & 0o777 == 0o600
    return load_pdf_signer(path, None)


@pytest.fixture(scope="module")
def signed(signer: PdfSigner) -> bytes:
    return signer.sign(_pdf(), reason="诉讼报告", location="CN")


def _contents_span(data: bytes) -> tuple[int, int]:
    """Offsets of the hex signature value between ``<`` and ``>`` (the one region not signed)."""
    start = data.rindex(b"/Contents <") + len(b"/Contents <")
    return start, data.index(b">", start)


def test_signed_pdf_validates_and_covers_the_whole_file(signer: PdfSigner, signed: bytes) -> None:
    assert signed.startswith(b"%PDF")
    check = validate_signed_pdf(signed, [signer.certificate.pem])
    assert check.ok, check
    assert check.intact and check.valid and check.trusted and check.whole_file
    assert "dualrec" in check.signer and check.timestamp_valid is None
    start, end = _contents_span(signed)
    assert not signed[start:end].endswith(b"00" * 8), "the signature value carries no zero padding"


def test_any_changed_byte_of_the_signed_content_breaks_the_signature(
    signer: PdfSigner, signed: bytes
) -> None:
    start, end = _contents_span(signed)
    rng = random.Random(5)
    trials = 0
    while trials < 150:
        pos = rng.randrange(len(signed))
        if start - 1 <= pos <= end:
            continue
        changed = bytearray(signed)
        changed[pos] ^= 1 << rng.randrange(8)
        check = validate_signed_pdf(bytes(changed), [signer.certificate.pem])
        assert not check.ok, f"byte {pos} changed and the signature still validates"
        trials += 1


def test_a_changed_signature_value_breaks_it(signer: PdfSigner, signed: bytes) -> None:
    _, end = _contents_span(signed)
    # the RSA signature value is the last 256 bytes (512 hex digits) of the container
    for offset in (4, 100, 300, 500):
        pos = end - offset
        changed = bytearray(signed)
        changed[pos] = ord("0") if changed[pos] != ord("0") else ord("1")
        assert not validate_signed_pdf(bytes(changed), [signer.certificate.pem]).ok


def test_appended_content_is_not_covered(signer: PdfSigner, signed: bytes) -> None:
    check = validate_signed_pdf(signed + b"\n%% appended\n", [signer.certificate.pem])
    assert check.intact and not check.whole_file and not check.ok


def test_another_certificate_is_not_trusted(signed: bytes, tmp_path: Path) -> None:
    other = generate_demo_certificate(tmp_path / "other.p12")
    check = validate_signed_pdf(signed, [other.pem])
    assert check.intact and check.valid and not check.trusted and not check.ok


def test_an_unsigned_or_broken_file_is_reported_not_signed(signer: PdfSigner) -> None:
    assert not validate_signed_pdf(_pdf(), [signer.certificate.pem]).signed
    assert not validate_signed_pdf(b"not a pdf", [signer.certificate.pem]).ok


def test_wrong_password_or_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_pdf_signer(tmp_path / "missing.p12", None)
    path = tmp_path / "demo.p12"
    generate_demo_certificate(path)
    with pytest.raises(ConfigurationError, match="cannot open"):
        load_pdf_signer(path, b"wrong password")
    with pytest.raises(FileExistsError):
        generate_demo_certificate(path)  # never overwrites a key


def test_rfc3161_time_stamp_from_a_local_tsa(tmp_path: Path) -> None:
    path = tmp_path / "demo.p12"
    info = generate_demo_certificate(path)
    with local_tsa() as tsa:
        signer = load_pdf_signer(path, None, tsa_url=tsa.url)
        data = signer.sign(_pdf(), reason="诉讼报告")
        assert tsa.requests >= 1
    check = validate_signed_pdf(data, [info.pem, tsa.ca_pem])
    assert check.ok and check.timestamp_valid is True, check
    # the token is only as good as its TSA: without the TSA's root the time stamp is not trusted
    assert validate_signed_pdf(data, [info.pem]).timestamp_valid is False


def test_an_unreachable_tsa_fails_the_signature_instead_of_skipping_the_time_stamp(tmp_path: Path) -> None:
    path = tmp_path / "demo.p12"
    generate_demo_certificate(path)
    signer = load_pdf_signer(path, None, tsa_url="http://127.0.0.1:9/tsa", tsa_timeout=2)
    with pytest.raises(EngineUnavailableError, match="time-stamp authority"):
        signer.sign(_pdf(), reason="诉讼报告")


def test_signing_and_validation_work_from_inside_an_event_loop(signer: PdfSigner) -> None:
    from tests.aio import run_async

    async def inside() -> bool:  # e.g. an async caller, or Playwright's sync API in a test
        data = signer.sign(_pdf(), reason="诉讼报告")
        return validate_signed_pdf(data, [signer.certificate.pem]).ok

    assert run_async(inside())  # a loop running in this thread; run_async keeps Playwright's apart
