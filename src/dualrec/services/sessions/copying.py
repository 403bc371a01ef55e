"""The handwritten copy of a willingness sentence (抄录): the customer writes the sentence on the
page's writing pad; the server keeps the image as evidence, reads it with the OCR engine and scores
the text against the sentence (``LiveSessionService.copy_answer`` decides the node).

Handwriting recognition is far less certain than print: a copy read with confidence and matching at
``accuracy`` passes; anything else is asked again, and on the last try the node goes on marked for
human review with the reason, the image kept for the reviewer. It is never passed silently.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence

import numpy as np

from dualrec.core.live_session import SessionStatus
from dualrec.core.node_params import COPY, willingness
from dualrec.errors import ConflictError, InvalidInputError
from dualrec.i18n import msg
from dualrec.media.ports import Image, TextLine, TextRecognizer
from dualrec.services.pdf.signature_stamp import signature_ink
from dualrec.services.sessions.service import LiveSessionService, ScoredAttempt, SessionView
from dualrec.storage.ports import BlobStore

__all__ = ["MAX_COPY_BYTES", "HandwrittenCopies", "reading_order"]

logger = logging.getLogger(__name__)

MAX_COPY_BYTES = 4 * 1024 * 1024
_MARGIN = 48  # white border around the pad: text detection needs paper around the ink


def reading_order(lines: Sequence[TextLine]) -> list[TextLine]:
    """Lines top to bottom, and left to right within a row (rows: centres closer than half a line)."""

    def centre(line: TextLine) -> tuple[float, float, float]:
        ys = [p[1] for p in line.box] or [0.0]
        xs = [p[0] for p in line.box] or [0.0]
        return (min(ys) + max(ys)) / 2, min(xs), max(ys) - min(ys)

    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda ln: centre(ln)[0]):
        cy, _, h = centre(line)
        if rows and abs(centre(rows[-1][0])[0] - cy) < max(h, centre(rows[-1][0])[2]) / 2:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: centre(ln)[1])]


def _on_paper(png: bytes) -> Image:
    """The pad (transparent or white canvas) on white paper as RGB, with a white border; refuses a
    blank pad. The pad is not cropped to the ink: text detection misses characters whose strokes
    touch the edge of the picture (measured: a crop with a 24 px border lost the first two of six
    characters that the whole pad gives)."""
    from PIL import Image as PILImage

    try:
        signature_ink(png)  # a PNG of a sane size with enough ink
    except InvalidInputError as exc:
        if "ink_pixels" in exc.details:
            raise InvalidInputError(
                msg("sessions.nothing_written_pad"),
                details=exc.details,
            ) from exc
        raise
    with PILImage.open(io.BytesIO(png)) as img:
        pad = img.convert("RGBA")
    paper = PILImage.new("RGB", (pad.width + 2 * _MARGIN, pad.height + 2 * _MARGIN), (255, 255, 255))
    paper.paste(pad, (_MARGIN, _MARGIN), pad)
    return np.asarray(paper, dtype=np.uint8)


class HandwrittenCopies:
    def __init__(
        self, sessions: LiveSessionService, blobs: BlobStore, ocr: Callable[[], TextRecognizer | None]
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._ocr = ocr

    def submit(
        self, token: str, node_id: str, png: bytes, *, t: float = 0.0
    ) -> tuple[SessionView, ScoredAttempt]:
        if len(png) > MAX_COPY_BYTES:
            raise InvalidInputError(msg("sessions.image_too_large"), details={"limit": MAX_COPY_BYTES})
        _task, flow, s = self._sessions.context(token)
        node = flow.node(node_id)
        if s.status != SessionStatus.RUNNING or node is None or s.flow_state.node_id != node_id:
            raise ConflictError(msg("sessions.current_step"), details={"session_status": s.status})
        try:
            is_copy = node.type == "willingness" and willingness(node).mode == COPY
        except ValueError:
            is_copy = False
        if not is_copy:
            raise ConflictError(msg("sessions.current_step_handwritten_copy"))
        image = _on_paper(png)
        stored = self._blobs.put(png, content_type="image/png")
        written, confidence, unreadable = self._read(image)
        return self._sessions.copy_answer(
            token,
            node_id,
            written=written,
            confidence=confidence,
            unreadable=unreadable,
            evidence={"blob_key": stored.key, "sha256": stored.sha256},
            t=t,
        )

    def _read(self, image: Image) -> tuple[str, float | None, str]:
        """(text in reading order, mean confidence weighted by characters or None, why unreadable)."""
        engine = self._ocr()
        if engine is None:
            return "", None, "文字识别引擎不可用 / the OCR engine is unavailable"
        try:
            lines = reading_order([ln for ln in engine.recognize(image) if ln.text.strip()])
        except Exception as exc:  # an engine error is the engine's, not the customer's
            logger.exception("OCR of a handwritten copy failed")
            return "", None, f"文字识别出错（{type(exc).__name__}）/ the OCR engine failed"
        if not lines:
            return "", None, ""
        chars = sum(len(ln.text) for ln in lines)
        confidence = sum(ln.confidence * len(ln.text) for ln in lines) / chars
        return "".join(ln.text.strip() for ln in lines), confidence, ""
