"""JSON lines from log files: a fused chain over pieces of big files, in worker processes.

``osops log parse`` writes one JSON object per record. Where the chain can
be fused (:meth:`osops.log.base.Filter.fuse`), each plain file is cut into
pieces of about :data:`PIECE` bytes, just before a line that starts a record
whatever precedes it, and the pieces are serialized by a pool of processes;
their output is written in file order. Memory stays bounded: a few pieces
are in flight at a time. Compressed files, and chains that cannot be fused,
go record by record in this process.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from multiprocessing.pool import AsyncResult
from typing import Any, BinaryIO

from osops.exceptions import LogError
from osops.log import prefilter, spool, worker
from osops.log.fusing import Fused
from osops.log.pipeline import Chain, is_stream, lines
from osops.log.progress import Progress
from osops.log.worker import record_by_record

LOG = logging.getLogger(__name__)

#: Bytes of a file per piece: large enough to make a worker's round trip cheap,
#: small enough to keep every core busy and memory bounded.
PIECE = 1 << 20
#: Bytes of JSON lines a piece in flight has in the slots file (a megabyte of
#: log is about two and a half of JSON); the rest goes to a file of its own.
SLOT = 4 << 20
_READ = 1 << 20
_NEWLINE = re.compile(b"\n")
_COUNT = 1 << 18


def default_jobs() -> int:
    """The CPUs this process may run on, at most 8."""
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def write_json_lines(
    chain: Chain,
    paths: Sequence[str],
    out: BinaryIO,
    jobs: int = 1,
    progress: Progress | None = None,
) -> None:
    """Write every record of every file, in order, as JSON lines.

    :param out: a binary stream; with a file descriptor behind it, the workers'
        output is copied into it by the kernel
    :param jobs: worker processes; 1 runs everything in this process
    :param progress: told the bytes and records of each piece written
    :raises LogError: a file cannot be read
    """
    worker.keep_freed_memory()  # here and, forked, in the workers
    fused = chain.fused()
    plain = [path for path in paths if fused is not None and _splittable(path)]
    if fused is None or jobs < 2 or sum(_size(path) for path in plain) < 2 * PIECE:
        for block in json_lines(chain, paths, progress):
            out.write(block)
        return
    count = progress is not None  # the workers count records only for someone watching
    # Workers write their pieces to a spool (memory-backed where /dev/shm is)
    # rather than sending them back through a pipe, which would cost this
    # process a copy and a pickle of every byte. The directory is private
    # (mode 0700, a random name). Each piece in flight has a slot of one
    # unlinked file, written again and again; a piece too big for its slot
    # goes on in a file of its own.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # noqa: S108
    free = list(range(2 * jobs + 1))  # the most pieces in flight: see below
    target, anywhere = spool.sendable(out), spool.descriptor(out)
    # Into a pipe or a socket no slot is used: each piece goes to a file of its own, never
    # written again, which the kernel may lend the reader until it is read (spool.sendable).
    slot_size = SLOT if target is not None or anywhere is None else 0
    buffer = bytearray(_READ)
    with (
        tempfile.TemporaryDirectory(prefix="osops-parse-", dir=shm) as where,
        spool.slots_file(where, len(free) * slot_size) as shared,
    ):
        slots = worker.Slots(shared.fileno(), slot_size)
        prefilter.wait()  # no thread of this process may be inside Hyperscan at the fork
        context = multiprocessing.get_context("fork")
        initargs = (fused, chain, where, slots)
        with context.Pool(jobs, initializer=worker.start, initargs=initargs) as pool:
            window: collections.deque[tuple[AsyncResult[worker.Spooled], int, int]]
            window = collections.deque()

            def append_oldest() -> None:
                result, size, slot = window.popleft()
                spooled = result.get()
                spool.append(out, target, anywhere, buffer, slots, slot, spooled)
                free.append(slot)
                if progress is not None:
                    progress.advance(size, spooled.records)

            for path in paths:
                if not _splittable(path):
                    while window:
                        append_oldest()
                    for block in record_by_record(chain, path, progress=progress):
                        out.write(block)
                    continue
                for start, stop, line in pieces(fused, path):
                    slot = free.pop()
                    args = (path, start, stop, line, count, slot)
                    window.append((pool.apply_async(worker.work, args), stop - start, slot))
                    if len(window) > 2 * jobs:
                        append_oldest()
            while window:
                append_oldest()


def json_lines(
    chain: Chain, paths: Sequence[str], progress: Progress | None = None
) -> Iterator[bytes]:
    """Every record of every file, in order, as JSON lines in blocks of bytes, here."""
    fused = chain.fused()
    for path in paths:
        if fused is None or not _splittable(path):
            yield from record_by_record(chain, path, progress=progress)
        else:
            for start, stop, line in pieces(fused, path):
                block = worker.piece(fused, chain, path, start, stop, line)
                if progress is not None:
                    progress.advance(stop - start, block.count(b"\n"))
                yield block


def pieces(fused: Fused, path: str, size: int = PIECE) -> Iterator[tuple[int, int, int]]:
    """``(start, stop, line)`` byte ranges of one file, cut where records start.

    ``line`` is the number of the line before ``start``. The file is read as
    big as it is now; lines appended meanwhile are left for the next run.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with-block below
    except OSError as exc:
        raise LogError(f"{path}: {exc.strerror or exc}") from None
    with fh:
        total = os.fstat(fh.fileno()).st_size
        start = line = 0
        buffer = bytearray(_READ)
        while start < total:
            stop = _cut(fused, path, fh, start + size, total)
            yield start, stop, line
            line += _count_lines(fh, start, stop, buffer)
            start = stop


def _splittable(path: str) -> bool:
    """Whether a file can be cut into pieces: plain, and of a size that says what it holds."""
    return not path.endswith(".gz") and not is_stream(path)


def _cut(fused: Fused, path: str, fh: Any, target: int, total: int) -> int:
    """The first offset at or after ``target`` where a record starts (or the end)."""
    if target >= total:
        return total
    position = target - 1
    fh.seek(position)
    rest = True  # of the line ``target`` falls in
    # Lines as every reader sees them: a line too long is judged by its cut form.
    for raw, length in lines(fh, fused.max_line):
        if not rest and fused.starts_record(path, raw):
            return position
        position += length
        rest = False
    return total


def _count_lines(fh: Any, start: int, stop: int, buffer: bytearray) -> int:
    """The newlines between two offsets, read through ``buffer`` again and again.

    No further than ``stop``: a piece is a little more than the buffer, and
    reading a whole buffer for its last bytes read the file twice.
    """
    fh.seek(start)
    view = memoryview(buffer)
    count, left = 0, stop - start
    while left > 0:
        size = fh.readinto(view[: min(left, len(buffer))])
        if not size:
            break
        # The regex engine finds a literal with memchr: 2.5 times the speed of
        # count. A quarter of a megabyte at a time: a list of at most that many.
        for at in range(0, size, _COUNT):
            count += len(_NEWLINE.findall(buffer, at, min(size, at + _COUNT)))
        left -= size
    return count


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # reported when the file is read
