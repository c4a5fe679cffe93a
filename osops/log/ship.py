"""Shipping: files through the filter chain into a sink, checkpointed, following rotation."""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from osops.exceptions import LogError, SinkError
from osops.files import write_atomically
from osops.log.base import Sink
from osops.log.pipeline import Chain, batches
from osops.log.record import LogRecord

LOG = logging.getLogger(__name__)


class State:
    """Where shipping of each file resumes: inode, byte offset and line number.

    Saved atomically, and only for records the sink has accepted.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.files: dict[str, dict[str, int]] = {}
        if path and os.path.exists(path):
            try:
                with open(path) as fh:
                    data = json.load(fh)
                self.files = {
                    str(k): {kk: int(vv) for kk, vv in v.items()} for k, v in data["files"].items()
                }
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                raise LogError(f"--state {path}: not a state file written by osops") from None

    def start(self, path: str) -> tuple[int, int]:
        """(offset, line) to resume ``path`` at: 0 when rotated or truncated since."""
        saved = self.files.get(os.path.abspath(path))
        if not saved:
            return 0, 0
        try:
            info = os.stat(path)
        except OSError:
            return 0, 0
        if info.st_ino != saved.get("inode") or info.st_size < saved.get("offset", 0):
            return 0, 0
        return saved.get("offset", 0), saved.get("line", 0)

    def advance(self, path: str, inode: int, offset: int, line: int) -> None:
        self.files[os.path.abspath(path)] = {"inode": inode, "offset": offset, "line": line}
        if self.path:
            write_atomically(
                self.path,
                json.dumps({"files": self.files}, indent=1) + "\n",
                mode=0o600,
                what=f"--state {self.path}",
                stream=False,
            )


class Tail:
    """Lines of one file from an offset on; with ``follow``, lines still to come.

    Survives rotation by rename (the rest of the old file is read, then the new
    one from its start) and copytruncate (the file shrinks: start again at 0).
    A line is only given out once its newline has been written.
    """

    def __init__(
        self,
        path: str,
        offset: int,
        line: int,
        follow: bool,
        stop: threading.Event,
        idle: float = 1.0,
        poll: float = 0.2,
    ) -> None:
        self.path = path
        self.offset = offset
        self.line = line
        self.follow = follow
        self.stop = stop
        self.idle = idle
        self.poll = poll
        self.inode = 0
        self._fh: Any = None

    def _open(self) -> bool:
        try:
            self._fh = open(self.path, "rb")  # noqa: SIM115 - kept open across segments
        except OSError as exc:
            if not self.follow:
                raise LogError(f"{self.path}: {exc.strerror}") from None
            return False
        self.inode = os.fstat(self._fh.fileno()).st_ino
        self._fh.seek(self.offset)
        return True

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def segment(self) -> Iterator[LogRecord]:
        """Lines until the end of the file (or, following, until idle for a moment)."""
        quiet_since = time.monotonic()
        while not self.stop.is_set():
            if self._fh is None and not self._open():
                if not self.follow or time.monotonic() - quiet_since >= self.idle:
                    return
                time.sleep(self.poll)
                continue
            raw = self._fh.readline()
            if raw.endswith(b"\n"):
                record = LogRecord(
                    raw=raw.decode("utf-8", "replace").rstrip("\r\n"),
                    file=self.path,
                    offset=self.offset,
                    line=self.line + 1,
                )
                self.offset += len(raw)
                self.line += 1
                record.end = self.offset
                quiet_since = time.monotonic()
                yield record
                continue
            if raw:  # half a line: wait for the rest
                self._fh.seek(self.offset)
            if not self.follow:
                return
            if self._rotated():
                continue
            if time.monotonic() - quiet_since >= self.idle:
                return
            time.sleep(self.poll)

    def _rotated(self) -> bool:
        try:
            info = os.stat(self.path)
        except OSError:
            return False  # renamed away, the new file not there yet
        if info.st_ino != self.inode:
            LOG.info("%s was rotated: reading the new file from its start", self.path)
        elif info.st_size < self.offset:
            LOG.info("%s was truncated: reading again from its start", self.path)
        else:
            return False
        self.close()
        self.offset = self.line = 0
        return True


def ship(
    paths: list[str],
    chain: Chain,
    sink: Sink,
    state: State,
    follow: bool = False,
    stop: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
    retry_limit: float = 300.0,
) -> int:
    """Ship files through the chain into the sink; returns records accepted.

    Offsets are checkpointed only after the sink accepted a batch, so a crash
    loses nothing (and repeats at most one batch). A failing sink is retried
    with exponential backoff; without ``follow`` it is given ``retry_limit``
    seconds before shipping stops with an error.
    """
    stop = stop or threading.Event()
    ready: queue.Queue[tuple[Tail, list[LogRecord]] | BaseException | None] = queue.Queue(4)
    tails = [Tail(path, *state.start(path), follow=follow, stop=stop) for path in paths]

    def produce(tail: Tail) -> None:
        try:
            while not stop.is_set():
                records = chain.run(tail.segment())
                for batch in batches(records, sink.batch_size):
                    ready.put((tail, batch))
                if not follow:
                    break
        except BaseException as exc:  # handed to the shipping thread to report
            ready.put(exc)
        finally:
            tail.close()
            ready.put(None)

    workers = [threading.Thread(target=produce, args=(t,), daemon=True) for t in tails]
    for worker in workers:
        worker.start()
    shipped, running = 0, len(workers)
    while running:
        item = ready.get()
        if item is None:
            running -= 1
            continue
        if isinstance(item, BaseException):
            stop.set()
            raise item
        tail, batch = item
        _deliver(sink, batch, stop, follow, retry_limit)
        last = batch[-1]
        state.advance(tail.path, tail.inode, last.end, last.line + last.raw.count("\n"))
        shipped += len(batch)
        if progress is not None:
            progress(shipped)
    sink.close()
    return shipped


def _deliver(
    sink: Sink, batch: list[LogRecord], stop: threading.Event, follow: bool, retry_limit: float
) -> None:
    delay, waited = 0.5, 0.0
    while True:
        try:
            sink.write(batch)
            return
        except SinkError as exc:
            if (not follow and waited >= retry_limit) or stop.is_set():
                raise
            LOG.warning("sink refused a batch (%s); retrying in %.1fs", exc, delay)
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 30.0)
