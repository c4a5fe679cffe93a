"""Work on daemon threads: a suite's checks (:func:`run_all`), a check's calls (:func:`fan_out`).

A call in a thread cannot be killed. The two differ in what a hung one costs:

- :func:`run_all` runs tasks each under its own timeout from its own start:
  one that overruns is given up on, its thread left to end with its sockets'
  own timeouts, and a new thread takes its place so that the tasks queued
  behind it still run with their whole timeout. What suites run on.
- :func:`fan_out` runs many calls of one check to one API, at most N at
  once, until one deadline: a hung call keeps its place, so the API never
  sees more than N calls, and what was not reached by the deadline is
  left out for the check to count. What a check calling a service once per
  project, host or provider uses (quota_headroom, nova_hypervisors).

The threads are daemons: a process whose calls hang still exits once it has
reported them.
"""

from __future__ import annotations

import collections
import enum
import queue as _queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from osops.value import Value

#: How long past its timeout a task is waited for (checks enforce their own timeout).
GRACE = 0.5


class Status(enum.Enum):
    DONE = "done"
    FAILED = "failed"  # it raised
    TIMED_OUT = "timed out"  # still running at its start + timeout + GRACE
    STOPPED = "stopped"  # still running at the deadline of the whole run
    NOT_RUN = "not run"  # never started before that deadline


class Outcome(Value):
    """How one task ended: its value or exception, and how long it ran."""

    __slots__ = ("error", "seconds", "status", "value")

    def __init__(
        self,
        status: Status,
        value: Any = None,
        error: BaseException | None = None,
        seconds: float = 0.0,
    ) -> None:
        self.status = status
        self.value = value
        self.error = error
        self.seconds = seconds


#: One task: its name, what to call, and its timeout in seconds.
Task = tuple[str, Callable[[], Any], float]


def run_all(
    tasks: Sequence[Task], concurrency: int, deadline: float | None = None
) -> dict[str, Outcome]:
    """Run tasks at most ``concurrency`` at a time; return once every one has an outcome.

    :param deadline: seconds for the whole run, if any: tasks still running
        then are STOPPED, tasks not started NOT_RUN
    :returns: outcome by task name, for every task
    """
    timeouts = {name: timeout for name, _, timeout in tasks}
    queue = collections.deque(tasks)
    started: dict[str, float] = {}
    outcomes: dict[str, Outcome] = {}
    lock = threading.Condition()

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                name, func, _ = queue.popleft()
                started[name] = time.monotonic()
                lock.notify_all()  # its timeout runs from now
            try:
                outcome = Outcome(Status.DONE, value=func())
            except BaseException as exc:  # the caller decides what a failure means
                outcome = Outcome(Status.FAILED, error=exc)
            with lock:
                if name in outcomes:
                    return  # given up on: another thread has taken this one's place
                outcome.seconds = time.monotonic() - started[name]
                outcomes[name] = outcome
                lock.notify_all()

    def spawn() -> None:
        threading.Thread(target=work, name="osops-check", daemon=True).start()

    begin = time.monotonic()
    end = begin + deadline if deadline is not None else None
    with lock:
        for _ in range(min(concurrency, len(tasks))):
            spawn()
        while len(outcomes) < len(tasks):
            now = time.monotonic()
            running = {n: t for n, t in started.items() if n not in outcomes}
            if end is not None and now >= end:
                for name, _, _ in tasks:
                    if name in running:
                        outcomes[name] = Outcome(Status.STOPPED, seconds=now - running[name])
                    elif name not in outcomes:
                        outcomes[name] = Outcome(Status.NOT_RUN)
                queue.clear()
                break
            wake = [end] if end is not None else []
            for name, since in running.items():
                expires = since + timeouts[name] + GRACE
                if now >= expires:
                    outcomes[name] = Outcome(Status.TIMED_OUT, seconds=now - since)
                    if queue:
                        spawn()  # in place of the thread still stuck in it
                else:
                    wake.append(expires)
            if len(outcomes) < len(tasks):
                lock.wait(max(0.0, min(wake) - now) if wake else None)
    return outcomes


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
    done: _queue.SimpleQueue[tuple[Item, Result | None, Exception | None]]
    done = _queue.SimpleQueue()
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
            except _queue.Empty:
                return
    finally:
        with lock:
            stop.set()
            pending.clear()
