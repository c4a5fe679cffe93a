"""The parse workers' spool: where their pieces wait, and how each reaches the output.

Each piece in flight has a slot of one unlinked file (:func:`slots_file`),
written again and again; a piece that outgrows its slot, or every piece when
the output is a pipe (see :func:`sendable`), goes to a file of its own.
:func:`append` copies a piece to the output, by the kernel where it may.
The workers' side is :mod:`osops.log.worker`; the parent, :mod:`osops.log.parallel`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from osops.exceptions import LogError
from osops.log import worker

LOG = logging.getLogger(__name__)


def sendable(out: BinaryIO) -> int | None:
    """The descriptor of ``out`` if the kernel may copy into it with sendfile, else None.

    Into a regular file or a device, sendfile has copied the bytes when it
    returns. Into a pipe or a socket it lends the spool's pages until the
    reader takes them, and a slot is written again as soon as it is free:
    a slow reader would read the next piece's bytes. There the bytes are
    copied here.
    """
    fd = descriptor(out)
    if fd is None:
        return None
    mode = os.fstat(fd).st_mode
    return fd if stat.S_ISREG(mode) or stat.S_ISCHR(mode) else None


def descriptor(out: BinaryIO) -> int | None:
    """``out``'s file descriptor, or None (a BytesIO)."""
    try:
        fd = out.fileno()
        os.fstat(fd)
    except (AttributeError, OSError, ValueError):
        return None
    return fd


@contextlib.contextmanager
def slots_file(spool: str, size: int) -> Iterator[BinaryIO]:
    """The workers' slots, an unlinked file in the spool, its pages allocated now.

    Where the spool (a container's small /dev/shm) cannot hold them, the
    slots go to the temporary directory instead, so no piece fails to spool.
    """
    with tempfile.TemporaryFile(dir=spool) as shared:
        try:
            if size:
                os.posix_fallocate(shared.fileno(), 0, size)
        except OSError as exc:
            LOG.debug("no room for %d bytes of slots in %s (%s)", size, spool, exc.strerror)
        else:
            yield shared
            return
    with tempfile.TemporaryFile() as shared:
        yield shared


def append(
    out: BinaryIO,
    target: int | None,
    anywhere: int | None,
    buffer: bytearray,
    slots: worker.Slots,
    slot: int,
    spooled: worker.Spooled,
) -> None:
    """Copy one spooled piece to ``out``: its slot, then the rest (removing its file).

    :param target: ``out``'s descriptor where sendfile may send a slot (:func:`sendable`)
    :param anywhere: ``out``'s descriptor, if any: a piece's own file, never written
        again, may be sent into anything
    :param buffer: for copying here where the kernel may not
    """
    if spooled.used:
        copy(out, target, buffer, slots.fd, slot * slots.size, spooled.used)
    rest = spooled.rest
    if isinstance(rest, bytes):
        out.write(rest)
    elif rest is not None:
        with open(rest, "rb") as fh:
            copy(out, anywhere, buffer, fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
        os.unlink(rest)


def copy(
    out: BinaryIO, target: int | None, buffer: bytearray, fd: int, at: int, size: int
) -> None:
    """``size`` bytes of ``fd`` from offset ``at`` into ``out``.

    :raises LogError: the spool holds fewer bytes than its worker wrote
    """
    sent = 0
    if target is not None:
        out.flush()
        try:
            while sent < size:
                done = os.sendfile(target, fd, at + sent, size - sent)
                if done == 0:
                    break
                sent += done
        except OSError as exc:
            if sent or exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            # A device sendfile cannot write to (a terminal): copied here below.
    view = memoryview(buffer)
    while sent < size:
        done = os.preadv(fd, [view[: min(size - sent, len(buffer))]], at + sent)
        if done == 0:
            break
        out.write(view[:done])
        sent += done
    if sent < size:
        raise LogError(f"a spooled piece ended {size - sent} bytes early: the spool was cut")
