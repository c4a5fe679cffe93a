"""The fused-chain contract: a filter chain as one pass from bytes to JSON lines."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from typing import Any

from osops.log.base import MAX_LINE, Filter

#: One configured step of a chain: its name, its filter class and its options.
Step = tuple[str, type[Filter], Mapping[str, Any]]


class Fused(abc.ABC):
    """A filter chain fused into one pass from a file's bytes to JSON lines.

    ``osops log parse`` cuts big files at lines where :meth:`starts_record`
    holds and serializes the pieces in parallel, in worker processes: a
    fused chain must therefore be picklable and give, piece by piece, the
    same records as the chain it replaces gives for the whole file.
    """

    #: The longest line kept whole, in bytes (the chain's, set when it fuses): a
    #: longer line must become what :func:`osops.log.base.cut` makes of it.
    max_line: int = MAX_LINE

    @abc.abstractmethod
    def starts_record(self, path: str, line: bytes) -> bool:
        """Whether a file may be cut just before ``line`` (one line, newline included)."""

    @abc.abstractmethod
    def serialize(self, path: str, start: int, stop: int, line: int) -> Iterator[bytes]:
        """JSON lines, one per record, for the records whose first line lies in a byte range.

        :param start: byte offset of the first line (a line start)
        :param stop: offset to stop at (a line start, or the file's size)
        :param line: number of the line before ``start``
        :raises osops.exceptions.LogError: the file cannot be read
        """
