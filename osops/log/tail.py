"""Lines of one file from a checkpoint on, following rotation by rename and copytruncate."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from osops.exceptions import LogError
from osops.log.base import MAX_LINE, cut
from osops.log.pipeline import GZIP_ERRORS, STDIN, is_stream, open_log
from osops.log.record import LogRecord

#: Seconds a following shipper waits, once a file stops growing, before it
#: ships a last line that has no newline yet as it is (see :class:`Tail`).
PARTIAL_AFTER = 5.0
_SKIP = 1 << 16
LOG = logging.getLogger(__name__)


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
