"""Word and PowerPoint documents converted to PDF by a real LibreOffice, then shown and signed.

LibreOffice is optional (a large install that dualrec never installs itself): without ``soffice`` on
PATH these tests are skipped, and tests/unit/test_documents*.py check the clear refusal instead.
The .docx is written by hand; the .doc, .pptx and .ppt are made from it / from a PDF by the same
LibreOffice, so every input is a file a real office suite reads."""

from __future__ import annotations

import base64
import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from dualrec.services.pdf.office_convert import OfficeConverter
from dualrec.services.tasks.documents import prepare_task_documents, read_document, sign_task_document
from dualrec.storage.filesystem import FilesystemBlobStore
from tests.document_factory import make_docx, make_pdf, signature_png

pytestmark = pytest.mark.slow

CONVERTER = OfficeConverter()
if not CONVERTER.available:
    pytest.skip("LibreOffice (soffice) is not installed: conversion is optional", allow_module_level=True)

PAGES = ["风险揭示书 第一页 本产品不保本", "第二页 客户确认并签署"]


def _soffice(src: Path, target: str, out: Path, *filters: str) -> Path:
    binary = CONVERTER.find()
    assert binary is not None
    subprocess.run(
        [
            binary,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(out / 'profile').as_uri()}",
            *filters,
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    made = out / f"{src.stem}.{target}"
    assert made.is_file()
    return made


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    work = tmp_path_factory.mktemp("office")
    docx = work / "sample.docx"
    docx.write_bytes(make_docx(PAGES))
    pdf = work / "slides.pdf"
    pdf.write_bytes(make_pdf(2, lines=2))
    pptx = _soffice(pdf, "pptx", work, "--infilter=impress_pdf_import")
    return {
        "docx": docx.read_bytes(),
        "doc": _soffice(docx, "doc", work).read_bytes(),
        "pptx": pptx.read_bytes(),
        "ppt": _soffice(pptx, "ppt", work).read_bytes(),
    }


@pytest.mark.parametrize("kind", ["docx", "doc", "pptx", "ppt"])
def test_office_documents_become_pdfs(samples: dict[str, bytes], kind: str, tmp_path: Path) -> None:
    blobs = FilesystemBlobStore(tmp_path)
    raw = {"name": f"文件.{kind}", "content_base64": base64.b64encode(samples[kind]).decode()}
    (ref,) = prepare_task_documents(blobs, [raw], converter=CONVERTER)
    assert (ref.name, ref.kind, ref.pages) == ("文件.pdf", kind, 2)
    reader = PdfReader(io.BytesIO(read_document(blobs, ref)))
    text = ["".join(page.extract_text().split()) for page in reader.pages]  # spacing varies
    if kind in ("docx", "doc"):
        assert "风险揭示书" in text[0] and "客户确认并签署" in text[1]
    else:
        assert "第1页" in text[0] and "第2页" in text[1]


def test_a_converted_word_document_is_signed(samples: dict[str, bytes], tmp_path: Path) -> None:
    blobs = FilesystemBlobStore(tmp_path)
    raw = {
        "name": "合同.docx",
        "content_base64": base64.b64encode(samples["docx"]).decode(),
        "action": "sign",
    }
    (ref,) = prepare_task_documents(blobs, [raw], converter=CONVERTER)
    signed = sign_task_document(
        blobs, ref, signature_png(), signer_name="张三", signed_at=datetime(2025, 3, 1, 2, 20, tzinfo=UTC)
    )
    reader = PdfReader(io.BytesIO(read_document(blobs, signed)))
    assert len(reader.pages) == 2 and len(reader.pages[1].images) == 1
    assert "客户确认并签署" in "".join(reader.pages[1].extract_text().split())  # the text is kept
