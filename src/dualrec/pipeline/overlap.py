"""Overlap a producer (the decoder) and a consumer (the analysers) on two threads.

FFmpeg decodes with the GIL released, so decoding the next frames while the current one is analysed
uses the second core. The queue between them is bounded (memory stays at ``depth`` frames), items
arrive in order, and an exception on either side ends both and is raised in the caller's thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["overlapped"]

T = TypeVar("T")
R = TypeVar("R")

_END = object()
_POLL = 0.1  # seconds a blocked producer waits before it looks whether the consumer gave up


class _Cancelled(Exception):
    """Raised inside the producer when the consumer has stopped."""


def overlapped(
    produce: Callable[[Callable[[T], None]], R],
    consume: Callable[[T], None],
    *,
    depth: int = 4,
    name: str = "dualrec-producer",
) -> R:
    """Run ``produce(put)`` in a worker thread and ``consume(item)`` for every item it puts, in
    order, in the calling thread; return what ``produce`` returns. ``depth <= 0``: no thread, the
    producer calls ``consume`` directly."""
    if depth <= 0:
        return produce(consume)
    items: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def put(item: T) -> None:
        while True:
            if stop.is_set():
                raise _Cancelled
            try:
                items.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            outcome["value"] = produce(put)
        except _Cancelled:
            pass
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            while not stop.is_set():  # the end marker, unless nobody is listening any more
                try:
                    items.put(_END, timeout=_POLL)
                    break
                except queue.Full:
                    continue

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    try:
        while (item := items.get()) is not _END:
            consume(item)
    finally:
        stop.set()
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    result: R = outcome["value"]
    return result
