"""The video decoder in a process of its own: a ``FrameSource`` whose decoding never waits for the GIL.

In one process the decoder thread needs the GIL between frames, and the face engines (dlib) hold it
for 15–130 ms per call, so decoding stalls whenever a frame is analysed and the two run one after
the other instead of side by side. Here a child Python process runs ``PyAVFrameSource`` and writes
the sampled frames to a pipe; a writer thread in the child keeps up to ``buffer_frames`` decoded
frames ready (bounded memory), so the decoder runs ahead while the parent analyses.

Wire format on the child's stdout, one message after another:
``F`` + ``<dII`` (t, height, width) + height×width×3 RGB bytes — a sampled frame;
``E`` + ``<I`` length + JSON ``DecodeReport`` — the end; ``X`` + ``<I`` length + JSON error — the
scan raised (a ``MediaError`` keeps its message and details). Anything else (the child died) is
reported as a ``MediaError`` with the tail of the child's stderr.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import queue
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from dualrec.errors import MediaError
from dualrec.i18n import msg
from dualrec.media.decode import DecodeOptions, PyAVFrameSource
from dualrec.media.ports import DecodeReport, VideoFrame

__all__ = ["ProcessFrameSource", "decoder_threads"]

logger = logging.getLogger(__name__)

_FRAME = struct.Struct("<dII")
_LENGTH = struct.Struct("<I")


class ProcessFrameSource:
    """``FrameSource`` that decodes in a child process (see the module docstring).

    ``runs_ahead`` tells the visual stage that no prefetch thread is needed: the child already
    decodes ahead of the analysis."""

    runs_ahead = True

    def __init__(
        self, options: DecodeOptions | None = None, *, buffer_frames: int = 12, stall_seconds: float = 120.0
    ) -> None:
        options = options or DecodeOptions()
        if options.threads <= 0:
            options = dataclasses.replace(options, threads=decoder_threads())
        self.options = options
        self.buffer_frames = max(1, buffer_frames)
        # a decoder that sends nothing for this long while the analysis waits is hung: it is killed
        # and the scan fails with reason "decoder_stalled" (decoding a sampled frame takes ms)
        self.stall_seconds = stall_seconds

    def scan(
        self,
        path: Path,
        *,
        fps: float,
        max_width: int = 640,
        on_frame: Callable[[VideoFrame], None],
        gap_threshold: float = 1.0,
    ) -> DecodeReport:
        if fps <= 0 or max_width <= 0:
            raise ValueError("fps and max_width must be positive")
        job = {
            "path": str(path),
            "fps": fps,
            "max_width": max_width,
            "gap_threshold": gap_threshold,
            "buffer_frames": self.buffer_frames,
            "options": dataclasses.asdict(self.options),
        }
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # so the child imports this dualrec
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        with tempfile.TemporaryFile() as stderr:
            try:
                child = subprocess.Popen(
                    [sys.executable, "-m", "dualrec.media.frame_process", json.dumps(job)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    env=env,
                )
            except OSError as exc:  # no way to start a process here: decode in this one
                logger.warning("decoder process could not start (%s); decoding in-process", exc)
                return PyAVFrameSource(self.options).scan(
                    path, fps=fps, max_width=max_width, on_frame=on_frame, gap_threshold=gap_threshold
                )
            watchdog = _Watchdog(child, self.stall_seconds)
            try:
                assert child.stdout is not None
                return _receive(watchdog.guard(child.stdout), on_frame, lambda: watchdog.error(stderr))
            finally:
                watchdog.stop()
                if child.poll() is None:
                    child.kill()
                child.wait()
                if child.stdout is not None:
                    child.stdout.close()

    def frames_at(self, path: Path, times: Sequence[float], *, max_width: int = 640) -> list[VideoFrame]:
        """A few frames by seeking: cheap, done in this process."""
        return PyAVFrameSource(self.options).frames_at(path, times, max_width=max_width)


def decoder_threads(cores: int | None = None) -> int:
    """Decoder threads when none are configured: the analysis needs a core of its own beside the
    decoder, and FFmpeg's frame threads cost CPU (measured on the 720p30 bench file, skipping
    non-reference frames: 12.8 CPU s with 1 thread, 16.9 with FFmpeg's default), so one thread on
    up to 4 cores, two above."""
    cores = cores or os.cpu_count() or 1
    return 1 if cores <= 4 else 2


class _Watchdog:
    """Kills the child when a read has waited ``stall`` seconds for it (a portable timeout: pipes
    cannot be polled on every platform); the blocked read then ends and the error says why."""

    def __init__(self, child: subprocess.Popen[bytes], stall: float) -> None:
        self.child, self.stall = child, stall
        self.waiting_since: float | None = None
        self.stalled = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dualrec-decoder-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(min(1.0, self.stall / 4)):
            since = self.waiting_since
            if since is not None and time.monotonic() - since > self.stall:
                self.stalled = True
                self.child.kill()
                return

    def guard(self, stream: IO[bytes]) -> Callable[[int], bytes]:
        def read(n: int) -> bytes:
            self.waiting_since = time.monotonic()
            try:
                return stream.read(n)
            finally:
                self.waiting_since = None

        return read

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def error(self, stderr: IO[bytes]) -> MediaError:
        code = self.child.wait()
        stderr.seek(0)
        tail = stderr.read()[-2000:].decode("utf-8", "replace").strip()
        if self.stalled:
            return MediaError(
                msg("media.video_decoder_process_sent_nothing", stall=self.stall),
                details={"reason": "decoder_stalled", "stderr": tail},
            )
        return MediaError(
            msg("media.video_decoder_process_exited_unexpectedly", code=code),
            details={"reason": "decoder_died", "exit_code": code, "stderr": tail},
        )


def _read(read: Callable[[int], bytes], n: int) -> bytes | None:
    data = read(n)
    return data if len(data) == n else None


def _receive(
    stream: Callable[[int], bytes], on_frame: Callable[[VideoFrame], None], died: Callable[[], MediaError]
) -> DecodeReport:
    while True:
        kind = stream(1)
        if kind == b"F":
            head = _read(stream, _FRAME.size)
            if head is None:
                raise died()
            t, h, w = _FRAME.unpack(head)
            body = _read(stream, h * w * 3)
            if body is None:
                raise died()
            image = np.frombuffer(bytearray(body), dtype=np.uint8).reshape(h, w, 3)
            on_frame(VideoFrame(t=t, image=image))
        elif kind in (b"E", b"X"):
            head = _read(stream, _LENGTH.size)
            body = _read(stream, _LENGTH.unpack(head)[0]) if head is not None else None
            if body is None:
                raise died()
            message = json.loads(body)
            if kind == b"X":
                raise _error(message)
            return _report(message)
        else:
            raise died()


def _report(data: dict[str, Any]) -> DecodeReport:
    return DecodeReport(
        frames_decoded=int(data["frames_decoded"]),
        first_pts=data["first_pts"],
        last_pts=data["last_pts"],
        gaps=tuple((float(a), float(b)) for a, b in data["gaps"]),
        errors=tuple(str(e) for e in data["errors"]),
        complete=bool(data["complete"]),
    )


def _error(data: dict[str, Any]) -> Exception:
    if data.get("type") == "MediaError":
        return MediaError(str(data["message"]), details=dict(data.get("details") or {}))
    if data.get("type") == "ValueError":
        return ValueError(str(data["message"]))
    return MediaError(
        msg("media.video_decoding_failed", value=data.get("type"), value2=data.get("message")),
        details={"reason": "decoder_error"},
    )


# ------------------------------------------------------------------------------------- the child


def _message(out: IO[bytes], kind: bytes, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    out.write(kind + _LENGTH.pack(len(body)) + body)


def _child(job: dict[str, Any], out: IO[bytes]) -> int:
    """Decode in a thread into a bounded queue; write frames from this thread (a blocked write
    holds no GIL, so the decoder keeps going until the queue is full)."""
    frames: queue.Queue[VideoFrame | None] = queue.Queue(maxsize=int(job["buffer_frames"]))
    outcome: dict[str, Any] = {}
    source = PyAVFrameSource(DecodeOptions(**job["options"]))

    def decode() -> None:
        try:
            outcome["report"] = source.scan(
                Path(job["path"]),
                fps=float(job["fps"]),
                max_width=int(job["max_width"]),
                on_frame=frames.put,
                gap_threshold=float(job["gap_threshold"]),
            )
        except Exception as exc:  # sent to the parent, which raises it there
            outcome["error"] = exc
        finally:
            frames.put(None)

    threading.Thread(target=decode, name="dualrec-decode", daemon=True).start()
    while (frame := frames.get()) is not None:
        image = np.ascontiguousarray(frame.image, dtype=np.uint8)
        h, w = image.shape[:2]
        out.write(b"F" + _FRAME.pack(frame.t, h, w))
        out.write(image.data)
    if "error" in outcome:
        exc = outcome["error"]
        details = exc.details if isinstance(exc, MediaError) else {}
        _message(out, b"X", {"type": type(exc).__name__, "message": str(exc), "details": details})
    else:
        _message(out, b"E", dataclasses.asdict(outcome["report"]))
    out.flush()
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m dualrec.media.frame_process JOB_JSON", file=sys.stderr)
        return 2
    try:
        return _child(json.loads(argv[0]), sys.stdout.buffer)
    except BrokenPipeError:  # the parent stopped reading (it gave up or died): nothing to do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
