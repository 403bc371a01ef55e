"""Real documents made in the test: PDFs with Chinese text (fpdf2), signature PNGs drawn like a
finger on a canvas (Pillow), and a minimal Word .docx zip written by hand."""

from __future__ import annotations

import io
import zipfile

from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
A4 = (595.28, 841.89)


def make_pdf(pages: int = 3, *, size: tuple[float, float] = A4, lines: int = 12) -> bytes:
    """``pages`` pages; each starts with 第N页 and carries ``lines`` lines of black CJK text at the top."""
    pdf = FPDF(unit="pt", format=size)
    pdf.add_font("cjk", "", FONT)
    pdf.set_font("cjk", size=14)
    pdf.set_auto_page_break(False)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.set_xy(40, 40)
        pdf.cell(0, 24, f"第{n}页 风险揭示书", new_x="LMARGIN", new_y="NEXT")
        for i in range(lines):
            pdf.set_x(40)
            pdf.cell(
                0,
                20,
                f"{i + 1}. 本产品不保证本金，投资者应充分了解风险并审慎决策。",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    return bytes(pdf.output())


def transformed(
    pdf: bytes, *, rotate: dict[int, int] | None = None, crop: dict[int, tuple[float, ...]] | None = None
) -> bytes:
    """The PDF with /Rotate set on some pages and/or a crop box (left, bottom, right, top) on others."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for index, angle in (rotate or {}).items():
        writer.pages[index].rotate(angle)
    for index, (left, bottom, right, top) in (crop or {}).items():
        writer.pages[index].cropbox.lower_left = (left, bottom)
        writer.pages[index].cropbox.upper_right = (right, top)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf(pdf: bytes, password: str = "secret") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zero_page_pdf() -> bytes:
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def signature_png(
    *,
    size: tuple[int, int] = (600, 240),
    stroke: int = 8,
    background: tuple[int, int, int, int] = (0, 0, 0, 0),
    points: list[tuple[int, int]] | None = None,
) -> bytes:
    """A zigzag stroke like a quick signature (dark blue ink), on a transparent canvas by default."""
    img = Image.new("RGBA", size, background)
    pts = (
        points if points is not None else [(40, 180), (120, 60), (200, 200), (300, 50), (420, 190), (560, 80)]
    )
    if pts:
        ImageDraw.Draw(img).line(pts, fill=(10, 10, 60, 255), width=stroke, joint="curve")
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)


def make_docx(pages: list[str]) -> bytes:
    """A Word document with one paragraph per page (a page break before each but the first)."""
    paras = []
    for i, text in enumerate(pages):
        brk = '<w:r><w:br w:type="page"/></w:r>' if i else ""
        paras.append(f"<w:p>{brk}<w:r><w:t>{text}</w:t></w:r></w:p>")
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{''.join(paras)}</w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("word/document.xml", document)
    return out.getvalue()
