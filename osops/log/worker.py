"""A worker process of ``osops log parse``: one piece of a file to JSON lines, spooled.

The pool's initializer (:func:`start`) hands each worker the fused chain, the
chain record by record (should the fused one fail on a piece), the spool
directory and the slots file; :func:`work` serializes one piece into the slot
the parent gave it (:class:`Spooled`). The parent is :mod:`osops.log.parallel`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import tempfile
from collections.abc import Iterator
from typing import IO, NamedTuple

import orjson

from osops.exceptions import LogError
from osops.log.fusing import Fused
from osops.log.pipeline import Chain, read
from osops.log.progress import Progress

LOG = logging.getLogger(__name__)


class Slots(NamedTuple):
    """The file every worker writes its pieces into, one region (slot) per piece in flight.

    The same regions are written again and again, so after the first pieces
    no page is allocated, zeroed or freed for the output (a spool file per
    piece cost the parse a tenth of its time in the kernel).
    """

    #: The slots file's descriptor, shared by the parent and its forked workers.
    fd: int
    #: Bytes per slot; what a piece writes past that goes to a spool file of its own.
    size: int


class Spooled(NamedTuple):
    """Where one piece's JSON lines are: its slot, then what did not fit."""

    #: Bytes at the start of the piece's slot.
    used: int
    #: The spool file with the rest, the rest itself (a spool that cannot be
    #: written to: the whole piece, with ``used`` 0), or None.
    rest: str | bytes | None
    #: Records written, or -1 when not counted.
    records: int


# The worker processes' chain, spool directory and slots, set by the pool initializer.
_WORKER: tuple[Fused, Chain, str, Slots] | None = None


def record_by_record(
    chain: Chain,
    path: str,
    start: int = 0,
    line: int = 0,
    stop: int | None = None,
    progress: Progress | None = None,
) -> Iterator[bytes]:
    """JSON lines from the chain run record by record (all of a file, or a range)."""
    dumps = orjson.dumps
    records = chain.run(read(path, start, line, stop, chain.max_line))
    done = start
    while batch := list(itertools.islice(records, 500)):
        yield b"".join(dumps(record.to_dict()) + b"\n" for record in batch)
        if progress is not None:
            end = max(record.end for record in batch)
            progress.advance(max(0, end - done), len(batch))
            done = max(done, end)


def piece(fused: Fused, chain: Chain, path: str, start: int, stop: int, line: int) -> bytes:
    """One piece through the fused chain; record by record should the fused chain fail."""
    try:
        return b"".join(fused.serialize(path, start, stop, line))
    except LogError:
        raise
    except Exception as exc:  # a bug in a fused chain must not lose the records
        return b"".join(_instead(exc, chain, path, start, stop, line))


def _instead(
    exc: Exception, chain: Chain, path: str, start: int, stop: int, line: int
) -> Iterator[bytes]:
    """The piece record by record, after the fused chain failed on it."""
    LOG.warning(
        "fused chain failed on %s bytes %d-%d (%s); parsing that part record by record",
        path,
        start,
        stop,
        type(exc).__name__,
    )
    return record_by_record(chain, path, start, line, stop)


def start(fused: Fused, chain: Chain, spool: str, slots: Slots) -> None:
    global _WORKER
    _WORKER = (fused, chain, spool, slots)


# glibc's mallopt parameter: how much more than asked the heap grows by, and keeps.
_M_TOP_PAD = -2


def keep_freed_memory() -> None:
    """Keep 16 MiB of freed heap for reuse rather than giving it back at once (glibc).

    Each block of a file is about a megabyte allocated and freed; by default
    glibc may return the free top of the heap to the kernel after each, and
    then every page of the next block faults in anew: in a 300k-line run,
    80k page faults instead of 14k, and 0.4 s in the kernel instead of 0.2 s.
    Without glibc, nothing changes.
    """
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_TOP_PAD, 16 << 20)


def work(path: str, start: int, stop: int, line: int, count: bool, slot: int) -> Spooled:
    """Serialize one piece into slot ``slot`` (and, past it, a spool file of its own).

    Blocks go out as they come, so a piece is never whole in memory. Should
    the spool be full (a container's small /dev/shm), the piece itself goes
    back instead, through the pool's pipe. With ``count``, the records
    written go back too (for a progress line).
    """
    assert _WORKER is not None, "pool initializer did not run"
    fused, chain, spool, slots = _WORKER
    out = _Output(spool, slots, slot)
    records = 0 if count else -1
    try:
        try:
            for block in fused.serialize(path, start, stop, line):
                out.write(block)
                if count:
                    records += block.count(b"\n")
        except (OSError, LogError):
            raise  # the spool, most likely, or the log file gone: handled below
        except Exception as exc:  # a bug in a fused chain must not lose the records
            out.restart()
            records = 0 if count else -1
            for block in _instead(exc, chain, path, start, stop, line):
                out.write(block)
                if count:
                    records += block.count(b"\n")
        out.close()
    except LogError:
        out.discard()
        raise
    except OSError as exc:
        out.discard()
        LOG.debug("cannot spool a piece of %s (%s); sending it back", path, exc.strerror)
        whole = piece(fused, chain, path, start, stop, line)
        return Spooled(0, whole, whole.count(b"\n") if count else -1)
    return Spooled(out.used, out.spilled, records)


class _Output:
    """One piece's JSON lines as they come: into its slot, then into a spool file."""

    def __init__(self, spool: str, slots: Slots, slot: int) -> None:
        self._spool = spool
        self._fd = slots.fd
        self._room = slots.size
        self._at = slot * slots.size
        #: Bytes written to the slot.
        self.used = 0
        #: The spool file that took what did not fit, if anything did not.
        self.spilled: str | None = None
        self._file: IO[bytes] | None = None

    def write(self, block: bytes) -> None:
        if self._file is None:
            if self.used + len(block) <= self._room:
                view = memoryview(block)
                while view:
                    done = os.pwrite(self._fd, view, self._at + self.used)
                    self.used += done
                    view = view[done:]
                return
            self._file = tempfile.NamedTemporaryFile(dir=self._spool, delete=False)  # noqa: SIM115
            self.spilled = self._file.name
        self._file.write(block)

    def restart(self) -> None:
        """Forget what was written: the piece starts again."""
        self.used = 0
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def discard(self) -> None:
        """Close and remove the spool file, if any: nothing of this piece is kept."""
        with contextlib.suppress(OSError):
            self.close()
        _remove(self.spilled)


def _remove(name: str | None) -> None:
    if name is not None:
        with contextlib.suppress(OSError):
            os.unlink(name)
