"""Shipping: files through the filter chain into a sink, checkpointed, following rotation."""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable

from osops.exceptions import LogError, SinkError
from osops.files import check_writable, write_atomically
from osops.log.base import Sink
from osops.log.guarded import deliver
from osops.log.pipeline import Chain, batches, is_stream
from osops.log.record import LogRecord
from osops.log.tail import PARTIAL_AFTER, Tail

LOG = logging.getLogger(__name__)


__all__ = ["PARTIAL_AFTER", "State", "Tail", "ship"]


_FIELDS = ("inode", "offset", "line")  # of each file's entry in a state file


class State:
    """Where shipping of each file resumes: inode, byte offset and line number.

    Saved atomically, and only for records the sink has accepted. Offsets in a
    ``.gz`` file count uncompressed bytes. Streams (standard input, FIFOs)
    cannot be resumed and have no entry.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.files: dict[str, dict[str, int]] = {}
        if path and os.path.exists(path) and not os.path.isfile(path):
            self.check()  # a FIFO would block the read below; refused, named
        if path and os.path.exists(path):
            try:
                with open(path) as fh:
                    data = json.load(fh)
                self.files = {
                    str(k): {field: int(v[field]) for field in _FIELDS}
                    for k, v in data["files"].items()
                }
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                raise LogError(f"--state {path}: not a state file written by osops") from None

    def check(self) -> None:
        """Fail before anything is shipped if the state could not be saved.

        :raises UsageError: naming --state and why
        """
        if self.path:
            check_writable(self.path, f"--state {self.path}")

    def start(self, path: str) -> tuple[int, int]:
        """(offset, line) to resume ``path`` at: 0 when rotated or truncated since."""
        saved = self.files.get(os.path.abspath(path))
        if not saved or is_stream(path, empty=False):
            return 0, 0
        try:
            info = os.stat(path)
        except OSError:
            return 0, 0
        if info.st_ino != saved["inode"]:
            return 0, 0
        # A compressed file's size says nothing of its uncompressed offsets.
        if not path.endswith(".gz") and info.st_size < saved["offset"]:
            return 0, 0
        return saved["offset"], saved["line"]

    def advance(self, path: str, inode: int, offset: int, line: int) -> None:
        """Record that everything of ``path`` before ``offset`` was accepted; save at once."""
        self.files[os.path.abspath(path)] = {"inode": inode, "offset": offset, "line": line}
        if self.path:
            write_atomically(
                self.path,
                json.dumps({"files": self.files}, indent=1) + "\n",
                mode=0o600,
                what=f"--state {self.path}",
                stream=False,
            )


def ship(
    paths: list[str],
    chain: Chain,
    sink: Sink,
    state: State,
    follow: bool = False,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    retry_limit: float = 300.0,
    partial_after: float = PARTIAL_AFTER,
) -> int:
    """Ship files through the chain into the sink; returns records accepted.

    Offsets are checkpointed only after the sink accepted a batch, so a crash
    loses nothing (and repeats at most one batch). A failing sink is retried
    with exponential backoff; without ``follow`` it is given ``retry_limit``
    seconds before shipping stops with an error. The state file is checked
    first: nothing is shipped that could not be checkpointed.

    :param progress: told, after each batch accepted, the bytes of the file it
        covered and its records
    :raises UsageError: the state cannot be written
    :raises LogError: a file cannot be read
    :raises SinkError: the sink refused for longer than ``retry_limit``
    """
    stop = stop or threading.Event()
    state.check()
    ready: queue.Queue[tuple[Tail, int, list[LogRecord]] | BaseException | None] = queue.Queue(4)
    tails = [
        Tail(
            path,
            *state.start(path),
            follow=follow,
            stop=stop,
            max_line=chain.max_line,
            partial_after=partial_after,
        )
        for path in paths
    ]

    def produce(tail: Tail) -> None:
        try:
            while not stop.is_set():
                records = chain.run(tail.segment())
                # A segment is one file: the inode now is the one its records came from.
                for batch in batches(records, sink.batch_size):
                    ready.put((tail, tail.inode, batch))
                if not tail.follow:
                    break
        except BaseException as exc:  # handed to the shipping thread to report
            ready.put(exc)
        finally:
            tail.close()
            ready.put(None)

    # Where each file's accepted records end, for the bytes a batch covered: taken
    # before the readers start, which move their offsets on at once.
    reached = {id(tail): tail.offset for tail in tails}
    workers = [threading.Thread(target=produce, args=(t,), daemon=True) for t in tails]
    for worker in workers:
        worker.start()
    shipped, running = 0, len(workers)
    while running:
        try:
            item = ready.get(timeout=0.2)
        except queue.Empty:
            if stop.is_set():
                break  # a reader blocked on a pipe; what it has not handed over is not shipped
            continue
        if item is None:
            running -= 1
            continue
        if isinstance(item, BaseException):
            stop.set()
            raise item
        tail, inode, batch = item
        _deliver(sink, batch, stop, follow, retry_limit)
        # Only now, the sink having accepted the whole batch.
        last = batch[-1]
        if tail.resumable:
            state.advance(tail.path, inode, last.end, last.line + last.raw.count("\n"))
        shipped += len(batch)
        if progress is not None:
            before = reached[id(tail)]
            reached[id(tail)] = last.end
            # After a rotation the offsets start again: the batch covered its end.
            progress(last.end - before if last.end >= before else last.end, len(batch))
    sink.close()
    return shipped


def _deliver(
    sink: Sink, batch: list[LogRecord], stop: threading.Event, follow: bool, retry_limit: float
) -> None:
    delay, waited = 0.5, 0.0
    while True:
        try:
            deliver(sink, batch)
            return
        except SinkError as exc:
            if (not follow and waited >= retry_limit) or stop.is_set():
                raise
            LOG.warning("sink refused a batch (%s); retrying in %.1fs", exc, delay)
            stop.wait(delay)  # a stop (SIGTERM) cuts the wait short
            waited += delay
            delay = min(delay * 2, 30.0)
