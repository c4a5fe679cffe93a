"""The log plugin contracts: a Filter is one pipeline step, a Sink is where records go."""

from __future__ import annotations

import abc
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from osops.log.record import LogRecord
from osops.options import Argument

if TYPE_CHECKING:
    from osops.log.fusing import Fused, Step

LOG = logging.getLogger(__name__)

#: Bytes of one line kept by default; a longer line keeps this much, marked (see :func:`cut`).
MAX_LINE = 1 << 20


def cut(head: bytes, length: int) -> bytes:
    """A line longer than the cap: its first bytes and a marker giving its length.

    Every reader (record by record, fused, shipping) cuts the same way, so a
    long line is one record whichever path reads it, never lost silently.

    :param head: the line's first bytes, as many as the cap
    :param length: the whole line's length in bytes, without its newline
    """
    return head + b" [truncated by osops: line of %d bytes]" % length


class Filter(abc.ABC):
    """One step of a log pipeline: parse, enrich, redact, sample or drop.

    Override :meth:`process`. The base class owns :meth:`run`, which feeds it
    every record in order and applies ``on_error`` when it raises. A step
    that holds records back (a parser folding traceback lines into the
    record that raised them) also overrides :meth:`flush`.
    """

    #: Options, given as ``--option KEY=VALUE`` or in a pipeline file.
    arguments: ClassVar[tuple[Argument, ...]] = ()
    #: What happens to a record when :meth:`process` raises: "drop" it (fail
    #: closed: redaction must be this) or "keep" it, tagged, as it came.
    on_error: ClassVar[str] = "drop"
    #: Its place in the chain ``osops log`` commands run when no ``--filter`` is
    #: given, lowest first (``redact`` is 0); None: only where it is named.
    default_order: ClassVar[int | None] = None

    def __init__(self, options: Mapping[str, Any]) -> None:
        """Keep the options; a constructor does no I/O.

        :param options: declared argument values by ``Argument.dest``
        """
        self.options = options
        self.errors = 0

    def run(self, records: Iterable[LogRecord]) -> Iterator[LogRecord]:
        """Apply this step to a stream of records, lazily and in order."""
        process = self.process
        for record in records:
            try:
                out = process(record)
            except Exception as exc:  # on_error decides; the pipeline goes on
                out = self._failed(record, exc)
            if out is not None:
                yield out
        yield from self.flush()

    def _failed(self, record: LogRecord, exc: Exception) -> LogRecord | None:
        self.errors += 1
        name = type(self).__name__
        # The record's text is not logged: it may hold the secret that broke redaction.
        LOG.warning(
            "%s failed on %s:%s (%s); record %s",
            name,
            record.file or "<stdin>",
            record.line,
            type(exc).__name__,
            "dropped" if self.on_error == "drop" else "kept",
        )
        if self.on_error == "drop":
            return None
        record.add_tag(f"filter_error:{name}")
        return record

    @abc.abstractmethod
    def process(self, record: LogRecord) -> LogRecord | None:
        """Handle one record.

        :param record: the next record of one file, in file order
        :returns: the record (changed or not), None to drop it, or, for a
            step that holds records back, the record it releases now
        """

    def flush(self) -> Iterable[LogRecord]:
        """Release what :meth:`process` held back at the end of a file.

        :returns: the remaining records; none by default
        """
        return ()

    @classmethod
    def fuse(cls, steps: Sequence[Step]) -> Fused | None:
        """Optionally, the whole chain ``steps`` (which includes this filter) as one pass.

        A chain that a filter can fuse runs, for ``osops log parse``, as a
        :class:`osops.log.fusing.Fused` instead of record by record; its
        output must be the same. The default, None, keeps the record-by-record
        chain.
        """
        return None


class Sink(abc.ABC):
    """Where records go: a file, Logstash, Elasticsearch or OpenSearch.

    Override :meth:`write`. It receives batches and returns only once the
    destination has accepted the whole batch: ``osops log ship`` checkpoints
    file offsets after it returns, so raising loses nothing.
    """

    #: Options, given as ``--option KEY=VALUE`` or in a config file.
    arguments: ClassVar[tuple[Argument, ...]] = ()
    #: Records per :meth:`write` call.
    batch_size: ClassVar[int] = 500

    def __init__(self, options: Mapping[str, Any]) -> None:
        """Keep the options; connect lazily in :meth:`write`, not here.

        :param options: declared argument values by ``Argument.dest``
        """
        self.options = options
        #: Records :meth:`write` could not send without failing the batch (a
        #: datagram the kernel refused): lost, and counted in the closing summary.
        self.send_errors = 0

    @abc.abstractmethod
    def write(self, records: Sequence[LogRecord]) -> None:
        """Deliver one batch.

        :param records: records in file order
        :raises osops.exceptions.SinkError: the batch was not (wholly) accepted
        """

    def close(self) -> None:
        """Flush and release connections; the default has nothing to release."""
