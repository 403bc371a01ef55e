"""Task documents: what a business system attaches to a task for the customer to read and sign.

Each entry of a task's ``documents`` is an object with a ``name`` (ending in .pdf, .doc, .docx, .ppt
or .pptx) and the document itself, either inline (``content_base64``) or as the key of a blob
already stored (``blob_key``); ``action`` is ``display`` (read and confirm each page, the default)
or ``sign`` (also signed by hand), and ``sign`` optionally places the signature (see
``pdf_sign.SignaturePlacement``). Word/PowerPoint files are converted to PDF with LibreOffice when it
is installed. Every document is stored as a new PDF blob owned by the task (a referenced blob is
copied, so deleting one task's documents never removes another's), and described by a
``DocumentRef`` — what the task row keeps (``to_dict``).

The content decides the format (PDF header, OOXML zip parts, OLE2 signature); a name whose
extension says otherwise is refused rather than guessed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from dualrec.errors import DualrecError, InvalidInputError
from dualrec.i18n import Message, msg
from dualrec.services.pdf.office_convert import OFFICE_KINDS, OfficeConverter
from dualrec.services.pdf.pages import inspect_pdf
from dualrec.services.pdf.signature_stamp import SignaturePlacement, sign_pdf_with_image
from dualrec.storage.ports import BlobStore, check_key

__all__ = [
    "MAX_DOCUMENTS",
    "MAX_DOCUMENT_BYTES",
    "DocumentRef",
    "discard_documents",
    "prepare_task_documents",
    "read_document",
    "sign_task_document",
    "sniff_kind",
    "store_task_document",
]

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # per document, before and after conversion
MAX_DOCUMENTS = 10
MAX_NAME_CHARS = 200
PDF_CONTENT_TYPE = "application/pdf"
KINDS = frozenset({"pdf"} | OFFICE_KINDS)
_FIELDS = frozenset({"name", "content_base64", "blob_key", "action", "sign"})
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class DocumentRef:
    name: str  # what the customer sees; always ends in .pdf (a converted file's extension is replaced)
    blob_key: str  # the stored PDF
    sha256: str  # of the stored PDF
    pages: int
    kind: str  # the format the business system sent: pdf, doc, docx, ppt, pptx
    size: int
    action: str = "display"  # display | sign
    sign: SignaturePlacement | None = None  # set when action == "sign"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "blob_key": self.blob_key,
            "sha256": self.sha256,
            "pages": self.pages,
            "kind": self.kind,
            "size": self.size,
            "action": self.action,
        }
        if self.sign is not None:
            out["sign"] = self.sign.to_dict()
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DocumentRef:
        sign = raw.get("sign")
        return cls(
            name=raw["name"],
            blob_key=raw["blob_key"],
            sha256=raw["sha256"],
            pages=int(raw["pages"]),
            kind=raw["kind"],
            size=int(raw["size"]),
            action=raw.get("action", "display"),
            sign=SignaturePlacement.from_dict(sign) if sign is not None else None,
        )


def _check_name(name: object) -> tuple[str, str]:
    """(the cleaned name, its extension in lower case)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(msg("tasks.each_document_needs_name"))
    name = name.strip()
    if len(name) > MAX_NAME_CHARS or _BAD_NAME.search(name):
        raise InvalidInputError(
            msg("tasks.invalid_document_name", MAX_NAME_CHARS=MAX_NAME_CHARS),
            details={"name": name[:MAX_NAME_CHARS]},
        )
    ext = PurePath(name).suffix.lower().lstrip(".")
    if ext not in KINDS:
        raise InvalidInputError(
            msg("tasks.only_pdf_word_powerpoint_documents"),
            details={"name": name},
        )
    return name, ext


def sniff_kind(data: bytes, ext: str) -> str:
    """The document's format from its bytes; ``ext`` (from the name) only tells doc from ppt."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, ValueError):
            names = set()
        if "word/document.xml" in names:
            return "docx"
        if "ppt/presentation.xml" in names:
            return "pptx"
    if data[:8] == _OLE2 and ext in ("doc", "ppt"):
        return ext
    raise InvalidInputError(msg("tasks.content_pdf_word_powerpoint_document"))


def store_task_document(
    blobs: BlobStore,
    name: str,
    data: bytes,
    *,
    converter: OfficeConverter | None = None,
    action: str = "display",
    sign: SignaturePlacement | None = None,
) -> DocumentRef:
    """Check (and convert) one document, store it as a PDF blob and describe it."""
    name, ext = _check_name(name)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _too_large(len(data))
    if not data:
        raise InvalidInputError(msg("tasks.document_empty"))
    kind = sniff_kind(data, ext)
    if kind != ext:
        raise InvalidInputError(
            msg("tasks.content_does_match_name", kind=kind, ext=ext),
            details={"name": name, "content": kind},
        )
    if kind != "pdf":
        data = (converter or OfficeConverter()).to_pdf(data, kind)
        if len(data) > MAX_DOCUMENT_BYTES:
            raise _too_large(len(data))
        name = str(PurePath(name).with_suffix(".pdf"))
    info = inspect_pdf(data)
    if action == "sign":
        sign = sign or SignaturePlacement()
        sign.resolve(info.sizes)  # a misplaced box is the business system's error: say so now
    elif action == "display":
        sign = None
    else:
        raise InvalidInputError(msg("tasks.action_must_display_sign"))
    ref = blobs.put(data, content_type=PDF_CONTENT_TYPE, max_bytes=MAX_DOCUMENT_BYTES)
    return DocumentRef(name, ref.key, ref.sha256, info.pages, kind, ref.size, action, sign)


def _too_large(size: int) -> InvalidInputError:
    limit_mb = MAX_DOCUMENT_BYTES // (1024 * 1024)
    return InvalidInputError(
        msg("tasks.document_larger_than_mb", limit_mb=limit_mb),
        details={"size": size, "limit_bytes": MAX_DOCUMENT_BYTES},
    )


def _document_bytes(blobs: BlobStore, raw: Mapping[str, Any]) -> bytes:
    has_inline, has_key = "content_base64" in raw, "blob_key" in raw
    if has_inline == has_key:
        raise InvalidInputError(msg("tasks.give_exactly_one_content_base64"))
    if has_inline:
        text = raw["content_base64"]
        if not isinstance(text, str):
            raise InvalidInputError(msg("tasks.content_base64_must_string"))
        if len(text) > (MAX_DOCUMENT_BYTES + 2) // 3 * 4 + 4:  # checked before decoding anything
            raise _too_large(len(text) * 3 // 4)
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError(msg("tasks.content_base64_valid_base64")) from exc
    key = check_key(raw["blob_key"])
    if not blobs.exists(key):
        raise InvalidInputError(msg("tasks.stored_blob_key"), details={"blob_key": key})
    size = blobs.stat(key).size
    if size > MAX_DOCUMENT_BYTES:
        raise _too_large(size)
    with blobs.open(key) as f:
        return f.read(MAX_DOCUMENT_BYTES + 1)


def prepare_task_documents(
    blobs: BlobStore, documents: Sequence[object], *, converter: OfficeConverter | None = None
) -> list[DocumentRef]:
    """A task's raw ``documents`` list → stored PDFs and their refs, in order.

    The first bad entry raises its error (same class, so a missing LibreOffice keeps its own code)
    with the message prefixed by ``documents[i]`` and ``details["fields"] = {"documents[i]": …}``,
    ``details["index"] = i``; the blobs already stored for earlier entries are deleted first."""
    if len(documents) > MAX_DOCUMENTS:
        raise InvalidInputError(
            msg("tasks.most_documents_per_task", MAX_DOCUMENTS=MAX_DOCUMENTS),
            details={"fields": {"documents": f"at most {MAX_DOCUMENTS}"}},
        )
    refs: list[DocumentRef] = []
    for i, raw in enumerate(documents):
        try:
            refs.append(_prepare_one(blobs, raw, converter))
        except DualrecError as exc:
            discard_documents(blobs, refs)
            field = f"documents[{i}]"
            inner = Message(exc.key, exc.params) if exc.key else exc.message
            raise type(exc)(
                msg("tasks.document_problem", field=field, problem=inner),
                details={**exc.details, "index": i, "fields": {field: exc.message}},
            ) from exc
    return refs


def _prepare_one(blobs: BlobStore, raw: object, converter: OfficeConverter | None) -> DocumentRef:
    if not isinstance(raw, Mapping):
        raise InvalidInputError(msg("tasks.each_document_must_object"))
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise InvalidInputError(
            msg(
                "tasks.unknown_document_fields_url" if "url" in unknown else "tasks.unknown_document_fields",
                fields=unknown,
            )
        )
    name, _ext = _check_name(raw.get("name"))  # a bad name is reported before any decoding
    action = raw.get("action", "sign" if "sign" in raw else "display")
    if action not in ("display", "sign"):
        raise InvalidInputError(msg("tasks.action_must_display_sign"))
    if action == "display" and "sign" in raw:
        raise InvalidInputError(msg("tasks.sign_only_action_sign"))
    placement = SignaturePlacement.from_dict(raw.get("sign")) if action == "sign" else None
    data = _document_bytes(blobs, raw)
    return store_task_document(blobs, name, data, converter=converter, action=action, sign=placement)


def discard_documents(blobs: BlobStore, refs: Sequence[DocumentRef]) -> None:
    """Delete the PDFs stored for ``refs`` (e.g. when the task they were prepared for is not created)."""
    for ref in refs:
        try:
            blobs.delete(ref.blob_key)
        except DualrecError:
            logger.warning("could not delete document blob %s", ref.blob_key, exc_info=True)


def read_document(blobs: BlobStore, ref: DocumentRef) -> bytes:
    """The stored PDF, checked against the SHA-256 recorded when it was attached."""
    with blobs.open(ref.blob_key) as f:
        data = f.read(MAX_DOCUMENT_BYTES + 1)
    if hashlib.sha256(data).hexdigest() != ref.sha256:
        raise InvalidInputError(
            msg("tasks.stored_document_does_match_recorded"),
            details={"blob_key": ref.blob_key},
        )
    return data


def sign_task_document(
    blobs: BlobStore, ref: DocumentRef, signature_png: bytes, *, signer_name: str, signed_at: datetime
) -> DocumentRef:
    """Stamp the signature into the document at its placement and store the signed PDF as a new
    blob; the returned ref (name ``…（已签署）.pdf``) describes it. The original is kept."""
    signed = sign_pdf_with_image(
        read_document(blobs, ref), signature_png, ref.sign, signer_name=signer_name, signed_at=signed_at
    )
    stored = blobs.put(signed, content_type=PDF_CONTENT_TYPE)
    name = f"{PurePath(ref.name).stem}（已签署）.pdf"
    return DocumentRef(name, stored.key, stored.sha256, ref.pages, "pdf", stored.size, "signed", ref.sign)
