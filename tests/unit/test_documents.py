"""Attaching documents to a task: inline Base64 or a stored blob, checked, stored as PDF blobs;
every bad entry is refused with its index and a clear reason, and nothing half-stored is left."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from dualrec.errors import InvalidInputError, OfficeConverterUnavailableError
from dualrec.services.pdf.office_convert import OfficeConverter
from dualrec.services.pdf.signature_stamp import SignaturePlacement
from dualrec.services.tasks import documents as docs
from dualrec.services.tasks.documents import (
    DocumentRef,
    discard_documents,
    prepare_task_documents,
    read_document,
    store_task_document,
)
from dualrec.storage.filesystem import FilesystemBlobStore
from tests.document_factory import encrypted_pdf, make_docx, make_pdf, zero_page_pdf

NO_OFFICE = OfficeConverter(binary="soffice-not-installed-here")


@pytest.fixture
def blobs(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "blobs")


def _stored_keys(store: FilesystemBlobStore) -> set[str]:
    return {p.name for p in store.root.glob("*/*/*") if not p.name.endswith(".json")}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_pdf_is_stored_and_described(blobs: FilesystemBlobStore) -> None:
    pdf = make_pdf(3)
    ref = store_task_document(blobs, " 风险揭示书.pdf ", pdf)
    assert (ref.name, ref.pages, ref.kind, ref.action, ref.sign) == (
        "风险揭示书.pdf",
        3,
        "pdf",
        "display",
        None,
    )
    assert ref.sha256 == hashlib.sha256(pdf).hexdigest() and ref.size == len(pdf)
    assert blobs.stat(ref.blob_key).content_type == "application/pdf"
    assert read_document(blobs, ref) == pdf


def test_the_task_list_takes_inline_and_stored_documents_in_order(blobs: FilesystemBlobStore) -> None:
    uploaded = blobs.put(make_pdf(1), content_type="application/pdf")
    refs = prepare_task_documents(
        blobs,
        [
            {"name": "风险揭示书.pdf", "content_base64": _b64(make_pdf(2))},
            {"name": "合同.pdf", "blob_key": uploaded.key, "sign": {"page": 0, "x": 300, "y": 60}},
            {"name": "确认书.pdf", "content_base64": _b64(make_pdf(4)), "action": "sign"},
        ],
    )
    assert [(r.name, r.pages, r.action) for r in refs] == [
        ("风险揭示书.pdf", 2, "display"),
        ("合同.pdf", 1, "sign"),
        ("确认书.pdf", 4, "sign"),
    ]
    assert refs[1].sign == SignaturePlacement(page=0, x=300.0, y=60.0)
    assert refs[2].sign == SignaturePlacement()  # last page, bottom-right
    # a referenced blob is copied: the task owns its PDF, the business system's upload stays as it was
    assert refs[1].blob_key != uploaded.key and refs[1].sha256 == uploaded.sha256
    assert blobs.exists(uploaded.key)
    # what the task row keeps comes back unchanged
    assert [DocumentRef.from_dict(r.to_dict()) for r in refs] == refs
    discard_documents(blobs, refs)
    assert _stored_keys(blobs) == {uploaded.key}


def test_a_bad_entry_is_named_by_index_and_earlier_documents_are_removed(blobs: FilesystemBlobStore) -> None:
    with pytest.raises(InvalidInputError) as err:
        prepare_task_documents(
            blobs,
            [
                {"name": "a.pdf", "content_base64": _b64(make_pdf(1))},
                {"name": "b.pdf", "content_base64": _b64(b"%PDF-1.4\nnot really a pdf")},
            ],
        )
    assert str(err.value).startswith("documents[1]: PDF 文件无法读取")
    assert err.value.details["index"] == 1
    assert set(err.value.details["fields"]) == {"documents[1]"}
    assert _stored_keys(blobs) == set()


PDF = make_pdf(2)
HALF_PDF = PDF[: len(PDF) // 2]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("合同.pdf", "每个文件须为对象"),
        ({"content_base64": _b64(PDF)}, "文件须有 name"),
        ({"name": "合同", "content_base64": _b64(PDF)}, "仅支持 PDF、Word"),
        ({"name": "合同.txt", "content_base64": _b64(PDF)}, "仅支持 PDF、Word"),
        ({"name": "../etc/合同.pdf", "content_base64": _b64(PDF)}, "文件名无效"),
        ({"name": "a.pdf"}, "须提供 content_base64 或 blob_key 之一"),
        ({"name": "a.pdf", "content_base64": _b64(PDF), "blob_key": "0" * 32}, "之一"),
        ({"name": "a.pdf", "url": "http://example.invalid/a.pdf"}, "不支持 url"),
        ({"name": "a.pdf", "content_base64": "这不是base64!"}, "不是有效的 Base64"),
        ({"name": "a.pdf", "content_base64": ""}, "文件为空"),
        ({"name": "a.pdf", "blob_key": "../../etc/passwd"}, "无效的存储键"),
        ({"name": "a.pdf", "blob_key": "0" * 32}, "不存在"),
        ({"name": "a.pdf", "content_base64": _b64(b"GIF89a" + bytes(100))}, "不是 PDF、Word 或 PowerPoint"),
        ({"name": "a.docx", "content_base64": _b64(PDF)}, "与扩展名（.docx）不符"),
        ({"name": "a.pdf", "content_base64": _b64(make_docx(["x"]))}, "与扩展名（.pdf）不符"),
        ({"name": "a.pdf", "content_base64": _b64(HALF_PDF)}, "PDF 文件无法读取"),
        ({"name": "a.pdf", "content_base64": _b64(encrypted_pdf(PDF))}, "PDF 已加密"),
        ({"name": "a.pdf", "content_base64": _b64(zero_page_pdf())}, "PDF 没有页面"),
        ({"name": "a.pdf", "content_base64": _b64(PDF), "action": "print"}, "action 须为 display 或 sign"),
        ({"name": "a.pdf", "content_base64": _b64(PDF), "sign": {"page": 2}}, "签名页码超出范围"),
        ({"name": "a.pdf", "content_base64": _b64(PDF), "sign": {"x": 500, "y": 10}}, "签名区域超出页面"),
        ({"name": "a.pdf", "content_base64": _b64(PDF), "sign": {"x": 10}}, "同时给出"),
        ({"name": "a.pdf", "content_base64": _b64(PDF), "sign": {"width": 5, "height": 5}}, "签名区域过小"),
        ({"name": "a.pdf", "content_base64": _b64(PDF), "sign": {"x": "left", "y": 1}}, "须为数字"),
        ({"name": "a.pdf", "content_base64": _b64(PDF), "sign": {"origin": "centre"}}, "sign.origin"),
        ({"name": "a.pdf", "content_base64": _b64(PDF), "sign": {"colour": "red"}}, "未知字段"),
    ],
)
def test_bad_documents_are_refused_with_a_reason(
    blobs: FilesystemBlobStore, entry: Any, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as err:
        prepare_task_documents(blobs, [entry], converter=NO_OFFICE)
    assert err.value.details["fields"].keys() == {"documents[0]"}
    assert _stored_keys(blobs) == set()


def test_display_with_sign_is_refused(blobs: FilesystemBlobStore) -> None:
    # (the table above matches on the message's start; this one reads the whole reason)
    with pytest.raises(InvalidInputError, match="action 为 display 时不能给出 sign"):
        prepare_task_documents(
            blobs, [{"name": "a.pdf", "content_base64": _b64(PDF), "action": "display", "sign": {}}]
        )


def test_the_size_limit_is_checked_before_decoding(
    blobs: FilesystemBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs, "MAX_DOCUMENT_BYTES", 1000)
    # not Base64 at all, but too long: refused for its size, before any decoding
    with pytest.raises(InvalidInputError, match="文件过大（最大 0 MB）") as err:
        prepare_task_documents(blobs, [{"name": "a.pdf", "content_base64": "!" * 2000}])
    assert err.value.details["limit_bytes"] == 1000
    # a decoded PDF just over the limit is refused too, and so is a stored blob over it
    big = blobs.put(make_pdf(2), content_type="application/pdf")
    with pytest.raises(InvalidInputError, match="文件过大"):
        prepare_task_documents(blobs, [{"name": "a.pdf", "blob_key": big.key}])
    with pytest.raises(InvalidInputError, match="文件过大"):
        store_task_document(blobs, "a.pdf", make_pdf(2))


def test_the_real_limit_is_20_mb_per_document() -> None:
    assert docs.MAX_DOCUMENT_BYTES == 20 * 1024 * 1024


def test_too_many_documents(blobs: FilesystemBlobStore) -> None:
    entry = {"name": "a.pdf", "content_base64": _b64(PDF)}
    with pytest.raises(InvalidInputError, match="文件最多 10 个"):
        prepare_task_documents(blobs, [entry] * 11)
    assert _stored_keys(blobs) == set()


def test_word_without_libreoffice_is_refused_with_its_own_error(blobs: FilesystemBlobStore) -> None:
    first = {"name": "a.pdf", "content_base64": _b64(PDF)}
    word = {"name": "合同.docx", "content_base64": _b64(make_docx(["第一页", "第二页"]))}
    with pytest.raises(OfficeConverterUnavailableError) as err:
        prepare_task_documents(blobs, [first, word], converter=NO_OFFICE)
    assert err.value.code == "office_converter_unavailable"
    assert "服务器未安装 LibreOffice，无法转换 Word/PowerPoint；请上传 PDF" in err.value.message
    assert err.value.message.startswith("documents[1]: ")
    assert err.value.details["index"] == 1
    assert _stored_keys(blobs) == set()


def test_without_soffice_on_path_the_default_converter_refuses(
    blobs: FilesystemBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert not OfficeConverter().available
    with pytest.raises(OfficeConverterUnavailableError, match="请上传 PDF"):
        store_task_document(blobs, "合同.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))


def test_a_changed_blob_is_noticed_when_read(blobs: FilesystemBlobStore) -> None:
    ref = store_task_document(blobs, "a.pdf", PDF)
    other = store_task_document(blobs, "b.pdf", make_pdf(1))
    with pytest.raises(InvalidInputError, match="摘要不符"):
        read_document(blobs, DocumentRef(ref.name, other.blob_key, ref.sha256, 2, "pdf", ref.size))


def test_the_stored_pdf_is_the_one_sent(blobs: FilesystemBlobStore) -> None:
    ref = store_task_document(blobs, "a.pdf", PDF)
    text = PdfReader(io.BytesIO(read_document(blobs, ref))).pages[1].extract_text()
    assert "第2页 风险揭示书" in text
