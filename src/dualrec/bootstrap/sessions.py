"""Wiring of the self-service sessions: the service, the server's ASR for spoken answers, the
assembler job and a sweeper thread that expires sessions whose customer did not come back."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.media.chinese import to_simplified
from dualrec.media.ports import Device, FaceAnalyzer
from dualrec.media.wav import decode_wav
from dualrec.pipeline.request import QcEngines
from dualrec.services.sessions.copying import HandwrittenCopies
from dualrec.services.sessions.documents import SessionDocuments
from dualrec.services.sessions.live_pool import AnalysisPool, ProcessPool
from dualrec.services.sessions.monitor import LiveMonitor
from dualrec.services.sessions.service import LiveSessionService, SessionOptions
from dualrec.services.sessions.speech import SpeechAudioCache
from dualrec.settings import Settings
from dualrec.storage.ports import BlobStore

__all__ = [
    "SessionSweeper",
    "build_session_extras",
    "decode_wav",
    "face_engine",
    "live_pool",
    "wav_transcriber",
]

logger = logging.getLogger(__name__)


def wav_transcriber(engines: Callable[[], QcEngines]) -> Callable[[bytes], str]:
    """WAV bytes → what the customer said, in simplified characters. Speech the recogniser heard in
    another language is left out (an answer in English is no Mandarin answer: the page asks again);
    a short answer (under 2 s for Whisper) is too short for the language to be detected and counts."""

    def transcribe(data: bytes) -> str:
        samples, rate = decode_wav(data)
        asr = engines().asr
        if asr is None:
            raise InvalidInputError(msg("bootstrap.speech_recognition_unavailable_server"))
        if getattr(samples, "size", 0) < rate // 4:
            return ""
        segments = asr.transcribe(samples, sample_rate=rate, language="zh")  # type: ignore[arg-type]
        said = "".join(s.text for s in segments if s.in_language("zh")).strip()
        return to_simplified(said)

    return transcribe


class SessionSweeper:
    """A daemon thread calling ``LiveSessionService.sweep`` (expire dropped sessions) and
    ``sweep_chunks`` (delete the chunks of ended attempts after their retention) every ``period``."""

    def __init__(self, service: LiveSessionService, period: float = 60.0) -> None:
        self._service = service
        self._period = period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dualrec-session-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            try:
                expired = self._service.sweep()
                if expired:
                    logger.info("expired %d self-service sessions", expired)
                swept = self._service.sweep_chunks()
                if swept:
                    logger.info("deleted the recording chunks of %d ended self-service attempts", swept)
            except Exception:  # the thread must survive a database hiccup
                logger.exception("session sweep failed")


def session_options(settings: Settings) -> SessionOptions:
    return SessionOptions(
        tts_voice="male" if settings.session_tts_voice == "male" else "female",
        tts_rate=settings.session_tts_rate,
        read_along_threshold=settings.session_read_along_threshold,
        copy_accuracy=settings.session_copy_accuracy,
        copy_min_confidence=settings.session_copy_min_confidence,
        page_min_seconds=settings.session_page_min_seconds,
        upload_bytes_per_minute=settings.session_upload_bytes_per_minute,
        upload_floor_bytes=settings.session_upload_floor_bytes,
        chunk_retention=timedelta(hours=settings.session_chunk_retention_hours),
    )


def scratch_dir(data_dir: Path) -> Path:
    return data_dir / "scratch"


def build_session_extras(
    sessions: LiveSessionService,
    blobs: BlobStore,
    engines: Callable[[], QcEngines],
    cache_dir: Path,
    settings: Settings | None = None,
) -> tuple[LiveMonitor, SessionDocuments, HandwrittenCopies]:
    """The live monitor (frames, liveness, ID card), the documents/speech of sessions and the
    handwritten copies (抄录) read by OCR."""
    monitor = LiveMonitor(
        sessions, blobs, lambda: engines().faces, lambda: engines().ocr, pool=live_pool(settings)
    )
    speech = SpeechAudioCache(_LazySynth(), cache_dir)
    copies = HandwrittenCopies(sessions, blobs, lambda: engines().ocr)
    return monitor, SessionDocuments(sessions, blobs, speech), copies


def live_pool(settings: Settings | None) -> AnalysisPool | None:
    """The live analysis's worker processes (``DUALREC_LIVE_WORKERS``, one per core by default),
    or None (analysis in the API process) when set to 0 or without settings."""
    if settings is None or settings.live_workers == 0:
        return None
    workers = settings.live_workers or max(1, len(os.sched_getaffinity(0)))
    factory = functools.partial(face_engine, settings.device)
    return ProcessPool(factory, workers, max_wait_s=settings.live_max_wait_s)


def face_engine(device: Device) -> FaceAnalyzer | None:
    """The face engine of an analysis worker process (dlib), None where it is not installed
    (the frames are then answered with ``engine_unavailable``, as without the pool)."""
    from dualrec.media.models import availability

    status = availability.dlib_status()
    if not status.ok:
        logger.warning("live analysis: the face engine is unavailable: %s", status.detail)
        return None
    from dualrec.media.models.dlib_faces import DlibFaceAnalyzer, DlibFaceOptions

    return DlibFaceAnalyzer(DlibFaceOptions(device="auto" if device == "cuda" else device))


class _LazySynth:
    """espeak-ng, found on first use (a missing binary is a clear error then, not at start-up)."""

    def __init__(self) -> None:
        self._synth: object | None = None

    def synthesize(self, text: str, *, voice: str = "female", rate: int = 170) -> bytes:
        if self._synth is None:
            from dualrec.media.models.espeak_tts import EspeakSynthesizer

            self._synth = EspeakSynthesizer()
        return self._synth.synthesize(text, voice=voice, rate=rate)  # type: ignore[attr-defined,no-any-return]
