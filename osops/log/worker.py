"""A worker process of ``osops log parse``: one piece of a file to JSON lines, spooled.

The pool's initializer (:func:`start`) hands each worker the fused chain, the
chain record by record (should the fused one fail on a piece) and the spool
directory; :func:`work` serializes one piece into a spool file. The parent is
:mod:`osops.log.parallel`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import tempfile
from collections.abc import Iterator

import orjson

from osops.exceptions import LogError
from osops.log.fusing import Fused
from osops.log.pipeline import Chain, read
from osops.log.progress import Progress

LOG = logging.getLogger(__name__)

# The worker processes' chain and spool directory, set by the pool initializer.
_WORKER: tuple[Fused, Chain, str] | None = None


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


def start(fused: Fused, chain: Chain, spool: str) -> None:
    global _WORKER
    _WORKER = (fused, chain, spool)


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


def work(path: str, start: int, stop: int, line: int, count: bool) -> tuple[str | bytes, int]:
    """Serialize one piece into a spool file; its name goes back to the parent.

    Blocks go to the file as they come, so a piece is never whole in memory.
    Should the spool be full (a container's small /dev/shm), the piece itself
    goes back instead, through the pool's pipe. With ``count``, the records
    written go back too (for a progress line; -1 without).
    """
    assert _WORKER is not None, "pool initializer did not run"
    fused, chain, spool = _WORKER
    name = None
    records = 0 if count else -1
    try:
        with tempfile.NamedTemporaryFile(dir=spool, delete=False) as fh:
            name = fh.name
            try:
                for block in fused.serialize(path, start, stop, line):
                    fh.write(block)
                    if count:
                        records += block.count(b"\n")
            except (OSError, LogError):
                raise  # the spool, most likely, or the log file gone: handled below
            except Exception as exc:  # a bug in a fused chain must not lose the records
                fh.seek(0)
                fh.truncate()
                records = 0 if count else -1
                for block in _instead(exc, chain, path, start, stop, line):
                    fh.write(block)
                    if count:
                        records += block.count(b"\n")
    except LogError:
        _remove(name)
        raise
    except OSError as exc:
        _remove(name)
        LOG.debug("cannot spool a piece of %s (%s); sending it back", path, exc.strerror)
        whole = piece(fused, chain, path, start, stop, line)
        return whole, whole.count(b"\n") if count else -1
    return name, records


def _remove(name: str | None) -> None:
    if name is not None:
        with contextlib.suppress(OSError):
            os.unlink(name)
