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
from osops.files import check_writable, write_atomically
from osops.log.base import MAX_LINE, Sink, cut
from osops.log.pipeline import GZIP_ERRORS, STDIN, Chain, batches, deliver, is_stream, open_log
from osops.log.record import LogRecord

LOG = logging.getLogger(__name__)


#: Seconds a following shipper waits, once a file stops growing, before it
#: ships a last line that has no newline yet as it is (see :class:`Tail`).
PARTIAL_AFTER = 5.0
_SKIP = 1 << 16


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
                    str(k): {kk: int(vv) for kk, vv in v.items()} for k, v in data["files"].items()
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
        if info.st_ino != saved.get("inode"):
            return 0, 0
        # A compressed file's size says nothing of its uncompressed offsets.
        if not path.endswith(".gz") and info.st_size < saved.get("offset", 0):
            return 0, 0
        return saved.get("offset", 0), saved.get("line", 0)

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


class Tail:
    """Lines of one file from an offset on; with ``follow``, lines still to come.

    Survives rotation by rename (the rest of the old file is read, then the new
    one from its start) and copytruncate (the file shrinks: start again at 0).
    A line is given out once its newline has been written; a last line without
    one, at the end of the input (not following, a rotated file, a stream, a
    ``.gz`` file), or once the file has not grown for ``partial_after`` seconds
    (following), and then only once: what is appended to it later is a line of
    its own. A line longer than ``max_line`` bytes is cut (see
    :func:`osops.log.pipeline.cut`). Compressed files and streams are read to
    their end, never followed.
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
        max_line: int = MAX_LINE,
        partial_after: float = PARTIAL_AFTER,
    ) -> None:
        self.path = path
        self.offset = offset
        self.line = line
        #: Offsets of a stream cannot be saved: nothing to resume it at.
        self.resumable = not is_stream(path, empty=False)
        self.follow = follow and self.resumable and not path.endswith(".gz")
        self.stop = stop
        self.idle = idle
        self.poll = poll
        self.max_line = max_line
        self.partial_after = partial_after
        self.inode = 0
        self._fh: Any = None
        self._head = bytearray()  # the line being read, up to max_line + 1 bytes
        self._length = 0  # its bytes so far, those past the head included
        self._grew = 0.0  # when it last grew

    def _open(self) -> bool:
        try:
            self._fh = open_log(self.path)
        except LogError:
            if not self.follow:
                raise
            return False
        self.inode = os.fstat(self._fh.fileno()).st_ino
        if self.offset:
            self._seek(self.offset)
        return True

    def _seek(self, offset: int) -> None:
        try:
            self._fh.seek(offset)
        except GZIP_ERRORS as exc:
            raise LogError(f"{self.path}: {exc}") from None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def segment(self) -> Iterator[LogRecord]:
        """Lines until the end of the file (or, following, until idle for a moment,
        or rotated: a segment is all of one file)."""
        quiet_since = time.monotonic()
        while not self.stop.is_set():
            if self._fh is None and not self._open():
                if not self.follow or time.monotonic() - quiet_since >= self.idle:
                    return
                time.sleep(self.poll)
                continue
            chunk = self._read()
            now = time.monotonic()
            if chunk:
                self._grew = now
                if chunk.endswith(b"\n"):
                    quiet_since = now
                    yield self._line(ended=True)
                continue
            if self._length and (not self.follow or now - self._grew >= self.partial_after):
                yield self._line(ended=False)  # the input's end, or a writer long quiet
                continue
            if not self.follow:
                return
            if self._rotated():
                if self._length:
                    yield self._line(ended=False)  # the old file's last line, as it was left
                self.close()
                self.offset = self.line = 0
                return
            if now - quiet_since >= self.idle:
                return
            time.sleep(self.poll)

    def _read(self) -> bytes:
        """The next piece of the current line, at most to its newline."""
        want = self.max_line + 1 - len(self._head)
        try:
            chunk: bytes = self._fh.readline(want if want > 0 else _SKIP)
        except GZIP_ERRORS as exc:
            raise LogError(f"{self.path}: {exc}") from None
        except OSError as exc:
            raise LogError(f"{self.path}: {exc.strerror or exc}") from None
        if chunk:
            self._length += len(chunk)
            if want > 0:
                self._head += chunk
        return chunk

    def _line(self, ended: bool) -> LogRecord:
        """The line read so far as a record; the offset moves past it."""
        length = self._length - ended
        head = bytes(self._head[:length])
        if length > self.max_line:
            head = cut(head[: self.max_line], length)
        record = LogRecord(
            raw=head.decode("utf-8", "replace").rstrip("\r\n"),
            file="" if self.path == STDIN else self.path,
            offset=self.offset,
            line=self.line + 1,
        )
        self.offset += self._length
        self.line += 1
        record.end = self.offset
        self._head.clear()
        self._length = 0
        return record

    def _rotated(self) -> bool:
        try:
            info = os.stat(self.path)
        except OSError:
            return False  # renamed away, the new file not there yet
        if info.st_ino != self.inode:
            LOG.info("%s was rotated: reading the new file from its start", self.path)
        elif info.st_size < self.offset + self._length:
            LOG.info("%s was truncated: reading again from its start", self.path)
        else:
            return False
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
    partial_after: float = PARTIAL_AFTER,
) -> int:
    """Ship files through the chain into the sink; returns records accepted.

    Offsets are checkpointed only after the sink accepted a batch, so a crash
    loses nothing (and repeats at most one batch). A failing sink is retried
    with exponential backoff; without ``follow`` it is given ``retry_limit``
    seconds before shipping stops with an error. The state file is checked
    first: nothing is shipped that could not be checkpointed.

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
            progress(shipped)
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
