"""Many API calls, a few at a time on daemon threads, given up at a deadline."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def fan_out(
    call: Callable[[Item], Result],
    items: Sequence[Item],
    concurrency: int,
    deadline: float,
) -> Iterator[tuple[Item, Result | None, Exception | None]]:
    """``call(item)`` for each item, at most ``concurrency`` at once, in the items' order.

    Yields ``(item, result, None)`` or ``(item, None, error)`` as each call
    ends, until every item is done or ``deadline`` (time.monotonic()) passes;
    items not done by then are not yielded. No call starts after the deadline
    or once the caller stops iterating, and the threads are daemons: a call
    still running then (a hung server) neither raises the number of calls at
    once nor keeps the process from exiting once the check has reported, as
    concurrent.futures' workers would, joined at exit.
    """
    pending = list(reversed(items))
    done: queue.SimpleQueue[tuple[Item, Result | None, Exception | None]] = queue.SimpleQueue()
    stop = threading.Event()
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if stop.is_set() or not pending:
                    return
                item = pending.pop()
            try:
                done.put((item, call(item), None))
            except Exception as exc:  # the caller decides what a failure means
                done.put((item, None, exc))

    for _ in range(min(max(1, concurrency), len(pending))):
        threading.Thread(target=work, name="osops-fan-out", daemon=True).start()
    try:
        for _ in range(len(items)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                yield done.get(timeout=remaining)
            except queue.Empty:
                return
    finally:
        with lock:
            stop.set()
            pending.clear()
