"""Read log files as raw records and run them through filters, in order, into sinks."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from osops import plugins
from osops.exceptions import LogError, PluginLoadError, PluginNotFound, UsageError
from osops.log.base import Filter, Fused, Sink, Step
from osops.log.record import LogRecord
from osops.options import parse_options

#: What ``osops log`` commands run when no ``--filter`` is given. Redaction comes
#: first: each physical line is masked once, and every field parsed out of it
#: (message, traceback, URL) is then clean by construction.
DEFAULT_FILTERS = ("redact", "parse", "enrich")
#: Appended when a chain lacks it: nothing leaves osops unredacted.
REDACT = "redact"


def read(
    path: str, offset: int = 0, line: int = 0, stop: int | None = None
) -> Iterator[LogRecord]:
    """Stream one file's lines as raw records with their byte offset and line number.

    Memory stays constant whatever the file size; ``.gz`` files are read
    through gzip (offsets then count uncompressed bytes).

    :param offset: byte offset to start at (the start of a line)
    :param line: number of the line before that offset
    :param stop: offset to stop before (a line start); None reads to the end
    :raises LogError: the file cannot be opened
    """
    try:
        # Closed by the with-block below; opened here so the error names the path.
        stream: gzip.GzipFile | IO[bytes] = (
            gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")  # noqa: SIM115
        )
    except OSError as exc:
        raise LogError(f"{path}: {exc.strerror or exc}") from None
    with stream:
        if offset:
            stream.seek(offset)
        for number, raw in enumerate(stream, line + 1):
            if stop is not None and offset >= stop:
                return
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            record = LogRecord(raw=text, file=path, offset=offset, line=number)
            offset += len(raw)
            record.end = offset
            yield record


class Chain:
    """The configured filter steps; a fresh set of instances runs over each file."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = steps

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.steps]

    def run(self, records: Iterable[LogRecord]) -> Iterator[LogRecord]:
        """Apply every step in order, lazily; loops explicitly so errors surface."""
        stream: Iterable[LogRecord] = records
        for _, cls, options in self.steps:
            stream = cls(options).run(stream)
        return iter(stream)

    def records(self, path: str) -> Iterator[LogRecord]:
        """Every record of one file, through the whole chain."""
        return self.run(read(path))

    def fused(self) -> Fused | None:
        """The chain as one pass, if one of its filters can fuse it (see Filter.fuse)."""
        for _, cls, _ in self.steps:
            fused = cls.fuse(self.steps)
            if fused is not None:
                return fused
        return None


def _load(kind_name: str, name: str, contract: type) -> Any:
    try:
        entry = plugins.find(kind_name, name)
    except PluginNotFound as exc:
        hint = " (pip install osops-logging)" if name in ("parse", "enrich") else ""
        raise UsageError(f"{exc}{hint}") from None
    cls = plugins.load(entry)
    if not (isinstance(cls, type) and issubclass(cls, contract)):
        raise PluginLoadError(f"{kind_name} {name!r} does not implement {contract.__name__}")
    return cls


def build_chain(names: Sequence[str] | None, option_pairs: Sequence[str] = ()) -> Chain:
    """Load filters by name, with ``NAME.KEY=VALUE`` options, redaction last if absent.

    :raises UsageError: unknown filter, unknown option or bad value
    """
    wanted = list(names or DEFAULT_FILTERS)
    if REDACT not in wanted:
        wanted.append(REDACT)
    per_filter: dict[str, list[str]] = {}
    for pair in option_pairs:
        target, sep, rest = pair.partition(".")
        if not sep or target not in wanted:
            raise UsageError(
                f"--filter-option {pair!r}: expected FILTER.KEY=VALUE with FILTER one of "
                f"{', '.join(wanted)}"
            )
        per_filter.setdefault(target, []).append(rest)
    steps = []
    for name in wanted:
        cls = _load("filter", name, Filter)
        options = parse_options(cls.arguments, per_filter.get(name, []), f"filter {name!r}")
        steps.append((name, cls, options))
    return Chain(steps)


def build_sink(name: str, option_pairs: Sequence[str] = ()) -> Sink:
    """Load one sink by name with its ``KEY=VALUE`` options.

    :raises UsageError: unknown sink, unknown option or bad value
    """
    cls = _load("sink", name, Sink)
    sink: Sink = cls(parse_options(cls.arguments, list(option_pairs), f"sink {name!r}"))
    return sink


def batches(records: Iterable[LogRecord], size: int) -> Iterator[list[LogRecord]]:
    """Group a stream into lists of at most ``size`` records."""
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
