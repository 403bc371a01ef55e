"""The live worker process of one call (``python -m dualrec.bootstrap.rtc_live_main <task id>
<attempt>``), started by ``LiveCallSupervisor`` with the server's environment: builds what the
worker needs from the settings and runs ``LiveCallWorker`` until the call ends (docs/remote-interview.md)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from dualrec.bootstrap.rtc_live import live_dir, safe_name
from dualrec.services.rtc import tokens
from dualrec.services.rtc.janus_config import load_or_create_secrets
from dualrec.services.rtc.live_calls import LOCKED
from dualrec.services.rtc.live_events import LiveEventService
from dualrec.settings import Settings

__all__ = ["main"]

logger = logging.getLogger(__name__)


def _asr(settings: Settings) -> Any:
    from dualrec.media.models import availability

    if not availability.whisper_status(settings.asr_model_dir).ok:
        return None
    from dualrec.media.models.whisper_asr import WhisperOptions, WhisperSpeechRecognizer, default_model_dir

    # one thread, greedy decoding: a call's subtitles must not take the server's cores
    return WhisperSpeechRecognizer(
        WhisperOptions(
            model_dir=default_model_dir(settings.data_dir),
            custom_model_dir=settings.asr_model_dir,
            device=settings.device,
            cpu_threads=1,
            workers=1,
            beam_size=1,
        )
    )


def _vad() -> Any:
    import webrtcvad

    vad = webrtcvad.Vad(2)
    return lambda frame: vad.is_speech(frame, 16000)


def _stop_with_parent(stop: Callable[[], None]) -> None:
    """The worker ends when the server that started it is gone (killed: no SIGTERM came): the
    kernel sends SIGTERM (Linux ``PR_SET_PDEATHSIG``), and a thread watches the parent pid too."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        logger.warning("the server that started this live worker is gone: stopping")
        stop()

    threading.Thread(target=watch, name="live-parent", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    from dualrec.bootstrap.container import build_container
    from dualrec.bootstrap.rtc import janus_api, rtc_options
    from dualrec.bootstrap.sessions import face_engine
    from dualrec.services.rtc.live_rtp import forward_host
    from dualrec.services.rtc.live_worker import LiveCall, LiveCallWorker, WorkerOptions
    from dualrec.settings import load_settings

    args = sys.argv[1:] if argv is None else argv
    task_id, attempt = args[0], int(args[1])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per Janus request otherwise
    settings = load_settings()
    lock = (live_dir(settings) / f"{safe_name(task_id)}-{attempt}.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        logger.info("the call %s/%s is analysed by another process", task_id, attempt)
        return LOCKED
    container = build_container(settings, with_jobs=False)
    secrets = load_or_create_secrets(rtc_options(settings).paths.secrets_file)
    call = LiveCall(
        task_id=task_id,
        attempt=attempt,
        room=tokens.room_id(secrets.room_key, task_id, attempt),
        room_secret=tokens.room_secret(secrets.room_key, task_id, attempt),
        admin_key=secrets.room_admin_key,
        customer_feed=tokens.feed_id(secrets.room_key, task_id, attempt, "customer"),
        agent_feed=tokens.feed_id(secrets.room_key, task_id, attempt, "agent"),
        host=settings.rtc_live_forward_host or forward_host(settings.rtc_bind),
    )
    faces = functools.cache(lambda: face_engine(settings.device))

    def reference(key: str) -> Any:
        import numpy as np

        from dualrec.pipeline.live import decode_frame
        from dualrec.services.sessions.live_worker import CARD_LIMITS

        engine = faces()
        if engine is None:
            return None
        with container.blobs.open(key) as fh:
            image = decode_frame(fh.read(CARD_LIMITS.max_bytes + 1), CARD_LIMITS)
        found = engine.detect(image)
        if len(found) != 1:
            return None
        return np.asarray(engine.embed(image, found[0]), dtype=np.float64)

    worker = LiveCallWorker(
        call,
        # the media node the call was placed on (DUALREC_RTC_NODES)
        functools.partial(
            janus_api, settings, container.rtc.node_of(task_id, attempt) if container.rtc else None
        ),
        LiveEventService(container.uows, container.tasks),
        asr=lambda: _asr(settings),
        faces=faces,
        is_speech=_vad(),
        reference=reference,
        options=WorkerOptions(face_interval_s=settings.rtc_live_face_interval_ms / 1000),
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    _stop_with_parent(worker.stop)
    logger.info(
        "live worker %s for %s/%s: RTP on %s ports %s",
        os.getpid(),
        task_id,
        attempt,
        call.host,
        [s.port for s in worker._streams],
    )
    try:
        worker.run()
    finally:
        container.close()
        lock.close()
    return 0


if __name__ == "__main__":
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # a recognition may still run on a daemon thread at the hang-up: the interpreter's teardown
    # under it aborted the process (CTranslate2: "terminate called without an active exception")
    os._exit(code)
