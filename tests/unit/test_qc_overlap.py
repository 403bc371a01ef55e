"""Decode/analysis overlap: items in order, a bounded queue, errors from either side raised."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from dualrec.pipeline.overlap import overlapped


def counter(n: int, seen: list[int] | None = None) -> Callable[[Callable[[int], None]], str]:
    def produce(put: Callable[[int], None]) -> str:
        for i in range(n):
            if seen is not None:
                seen.append(i)
            put(i)
        return "report"

    return produce


@pytest.mark.parametrize("depth", [0, 1, 4])
def test_items_arrive_in_order_and_the_producers_result_is_returned(depth: int) -> None:
    got: list[int] = []
    assert overlapped(counter(200), got.append, depth=depth) == "report"
    assert got == list(range(200))


def test_the_producer_runs_in_another_thread_at_most_depth_items_ahead() -> None:
    produced: list[int] = []
    ahead: list[int] = []
    threads: set[str] = set()

    def produce(put: Callable[[int], None]) -> None:
        threads.add(threading.current_thread().name)
        for i in range(50):
            produced.append(i)
            put(i)

    def consume(i: int) -> None:
        ahead.append(len(produced) - 1 - i)

    overlapped(produce, consume, depth=3, name="decoder")
    assert threads == {"decoder"}
    assert max(ahead) <= 3 + 1  # the queue plus the item being put


def test_a_producer_error_is_raised_in_the_caller() -> None:
    def produce(put: Callable[[int], None]) -> None:
        put(1)
        raise ValueError("corrupt stream")

    got: list[int] = []
    with pytest.raises(ValueError, match="corrupt stream"):
        overlapped(produce, got.append)
    assert got == [1]


def test_a_consumer_error_stops_the_producer() -> None:
    seen: list[int] = []

    def consume(i: int) -> None:
        if i == 5:
            raise RuntimeError("analyser broke")

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="analyser broke"):
        overlapped(counter(10_000, seen), consume, depth=2)
    assert len(seen) < 20  # it stopped instead of decoding to the end
    assert threading.active_count() == before
