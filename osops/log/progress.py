"""A progress line on standard error for long log commands, when a person is watching.

``log parse``, ``log stats`` and ``log ship`` show bytes read (of the total,
where the files say it), records, their rate and the time left, drawn by
tqdm, only when standard error is a terminal: never into a pipe, a file, a
journal or Icinga. Asked for nothing, nothing is imported (:func:`start`
returns None), so the commands pay nothing where no one watches.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from osops.log.record import LogRecord

#: Records between two updates of a record-by-record count.
_EVERY = 256


def watching(stream: IO[str] | None) -> bool:
    """Whether ``stream`` is a terminal that can redraw a line (not TERM=dumb)."""
    try:
        return bool(stream is not None and stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError, OSError):  # closed, or no file behind it
        return False


def total_size(paths: Sequence[str], offsets: Sequence[int] = ()) -> int | None:
    """Bytes still to read in plain files; None where one says nothing of it.

    Standard input, FIFOs and /proc files have no size to go by, and a ``.gz``
    file is read (and counted) uncompressed.
    """
    total = 0
    for number, path in enumerate(paths):
        if path == "-" or path.endswith(".gz"):
            return None
        try:
            info = os.stat(path)
        except OSError:
            continue  # reported when it is read
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
            return None
        total += max(0, info.st_size - (offsets[number] if number < len(offsets) else 0))
    return total


class Progress:
    """One progress line: bytes of ``total``, records and their rate, the time left."""

    def __init__(self, stream: IO[str], total: int | None, verb: str = "read") -> None:
        from tqdm import tqdm

        self.records = 0
        self._bar: Any = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=stream,
            desc=verb,
            leave=False,  # gone once done: the command's own output follows
            dynamic_ncols=True,
        )

    def advance(self, size: int, records: int) -> None:
        """Count ``size`` more bytes read and ``records`` more records."""
        self.records += records
        elapsed = self._bar.format_dict.get("elapsed") or 0.0
        rate = f", {self.records / elapsed:,.0f}/s" if elapsed > 0 else ""
        self._bar.set_postfix_str(f"{self.records:,} records{rate}", refresh=False)
        self._bar.update(size)

    def close(self) -> None:
        self._bar.close()

    def records_of(self, records: Iterable[LogRecord]) -> Iterator[LogRecord]:
        """Pass records on, counting them and the bytes they came from (in file order)."""
        file, done, count, moved = None, 0, 0, 0
        for record in records:
            if record.file != file:  # a new file: its offsets start again
                file, done = record.file, 0
            moved += max(0, record.end - done)
            done = max(done, record.end)
            count += 1
            if count == _EVERY:
                self.advance(moved, count)
                count = moved = 0
            yield record
        self.advance(moved, count)


def start(stream: IO[str], total: int | None, verb: str = "read") -> Progress | None:
    """A progress line on ``stream`` if a person watches it; None (importing nothing) if not."""
    return Progress(stream, total, verb) if watching(stream) else None
