"""Running a coroutine from a synchronous test, whatever the main thread is doing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: the e2e tests' Playwright keeps an event loop running
    in the main thread for the whole session, where ``asyncio.run`` refuses to start."""
    out: list[T] = []
    err: list[BaseException] = []

    def target() -> None:
        try:
            out.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the caller's thread
            err.append(exc)

    thread = threading.Thread(target=target, name="test-asyncio")
    thread.start()
    thread.join()
    if err:
        raise err[0]
    return out[0]
