"""Documents in a self-service session: pages shown as watermarked images, each page confirmed as
read, the handwritten signature stamped into the PDF, and the server's speech for the flow's texts."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from dualrec.core.live_session import EventKind, SessionStatus
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.pdf.pages import Watermark, page_image_key, render_page
from dualrec.services.pdf.signature_stamp import signature_ink
from dualrec.services.sessions.service import LiveSessionService, SessionView
from dualrec.services.sessions.speech import SpeechAudioCache
from dualrec.services.tasks.documents import DocumentRef, read_document, sign_task_document
from dualrec.storage.ports import BlobStore

__all__ = ["SessionDocuments"]

MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
_CACHE_PAGES = 64


class SessionDocuments:
    def __init__(
        self, sessions: LiveSessionService, blobs: BlobStore, speech: SpeechAudioCache | None
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._speech = speech
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _document(self, token: str, index: int) -> tuple[Any, DocumentRef, Any]:
        task, _flow, s = self._sessions.context(token)
        if not 0 <= index < len(task.documents):
            raise NotFoundError(msg("sessions.such_document"), details={"index": index})
        return task, DocumentRef.from_dict(task.documents[index]), s

    def page_image(self, token: str, index: int, page: int, *, width: int = 720) -> bytes:
        """Page ``page`` (0-based) of document ``index`` as a JPEG with the customer's watermark."""
        task, ref, s = self._document(token, index)
        if not 0 <= page < ref.pages:
            raise NotFoundError(msg("sessions.such_page"), details={"pages": ref.pages})
        mark = Watermark(task.customer_name, task.business_no, s.started_at.astimezone(UTC))
        key = page_image_key(ref.sha256, page, width_px=width, watermark=mark)
        with self._lock:
            hit = self._pages.get(key)
            if hit is not None:
                self._pages.move_to_end(key)
                return hit
        image = render_page(read_document(self._blobs, ref), page, width_px=width, watermark=mark)
        with self._lock:
            self._pages[key] = image
            while len(self._pages) > _CACHE_PAGES:
                self._pages.popitem(last=False)
        return image

    def page_read(self, token: str, index: int, page: int, *, t: float = 0.0) -> SessionView:
        """The customer confirmed a page (in order, after its minimum reading time); the document
        is read when every page was confirmed."""
        _, ref, _ = self._document(token, index)
        if not 0 <= page < ref.pages:
            raise NotFoundError(msg("sessions.such_page"), details={"pages": ref.pages})
        return self._sessions.confirm_page(token, index, page, ref.pages, t=t)

    def sign(self, token: str, index: int | None, png: bytes, *, t: float = 0.0) -> SessionView:
        """The handwritten signature: stamped into document ``index`` (or kept alone without one)."""
        if len(png) > MAX_SIGNATURE_BYTES:
            raise InvalidInputError(msg("sessions.signature_image_too_large"))
        task, _, _ = self._sessions.context(token)
        self._at(token, "signing")
        now = datetime.now(UTC)
        if index is None:
            if task.documents:
                raise InvalidInputError(msg("sessions.say_which_document_signed"))
            signature_ink(png)  # refuses an empty or unreadable signature
            stored = self._blobs.put(png, content_type="image/png")
            record = {"name": "signature.png", "blob_key": stored.key, "sha256": stored.sha256}
            key = "signature"
        else:
            _, ref, _ = self._document(token, index)
            signed = sign_task_document(self._blobs, ref, png, signer_name=task.customer_name, signed_at=now)
            record = {"name": signed.name, "blob_key": signed.blob_key, "sha256": signed.sha256}
            key = str(index)

        def update(identity: dict[str, Any]) -> dict[str, Any]:
            done = dict(identity.get("signed") or {})
            done[key] = {**record, "at": now.isoformat()}
            return {**identity, "signed": done}

        return self._sessions.update_identity(token, update, kind=EventKind.SIGNED, t=t)

    def speech(self, token: str, node_id: str) -> bytes:
        """The server's voice for a node's script (for browsers without a Mandarin voice)."""
        if self._speech is None:
            raise ConflictError(msg("sessions.server_speech_synthesis"))
        _, flow, _ = self._sessions.context(token)
        node = flow.node(node_id)
        if node is None or not node.script.strip():
            raise NotFoundError(msg("sessions.such_text"))
        opts = self._sessions.options
        audio, _ = self._speech.audio_for(node.script, opts.tts_voice, opts.tts_rate)
        return audio

    def _at(self, token: str, node_type: str) -> None:
        _, flow, s = self._sessions.context(token)
        node = flow.node(s.flow_state.node_id or "")
        if s.status != SessionStatus.RUNNING or node is None or node.type != node_type:
            raise ConflictError(
                msg(
                    "sessions.not_at_document_display_step"
                    if node_type == "document_display"
                    else "sessions.not_at_signing_step"
                ),
                details={"session_status": s.status},
            )
