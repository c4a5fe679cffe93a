"""Read log files as raw records and run them through filters, in order, into sinks."""

from __future__ import annotations

import contextlib
import functools
import gzip
import itertools
import logging
import os
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from osops import plugins, requirements
from osops.exceptions import LogError, PluginLoadError, PluginNotFound, UsageError
from osops.kinds import KINDS
from osops.log import guarded
from osops.log.base import MAX_LINE, Sink, cut
from osops.log.fusing import Fused, Step
from osops.log.record import LogRecord
from osops.options import parse_options

#: Appended when a chain lacks it: nothing leaves osops unredacted. It is first in
#: the default chain (its ``default_order`` is 0): each physical line is masked once,
#: and every field parsed out of it (message, traceback, URL) is then clean.
REDACT = "redact"
#: The path that means standard input.
STDIN = "-"
#: Errors of a compressed file that is cut short or is no gzip file at all.
GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)
_SKIP = 1 << 16
LOG = logging.getLogger(__name__)


def lines(stream: IO[bytes], limit: int = MAX_LINE) -> Iterator[tuple[bytes, int]]:
    """Each line of a stream and the bytes it took there, in time linear in its length.

    A line of more than ``limit`` bytes (without its newline) is given :func:`cut`;
    the rest of it is read past, never held.

    :returns: (the line, cut or not, with its newline if it had one; its length in the stream)
    """
    while raw := stream.readline(limit + 1):
        length = len(raw)
        if length > limit and not raw.endswith(b"\n"):
            ended = False
            while more := stream.readline(_SKIP):
                length += len(more)
                if more.endswith(b"\n"):
                    ended = True
                    break
            raw = cut(raw[:limit], length - ended) + (b"\n" if ended else b"")
        yield raw, length


def is_stream(path: str, empty: bool = True) -> bool:
    """Whether a path can only be read from start to end (stdin, a FIFO, a /proc file).

    :param empty: count a regular file that says it is empty as a stream too
        (/proc files report size 0 and have lines)
    """
    if path == STDIN:
        return True
    try:
        info = os.stat(path)
    except OSError:
        return False  # reported when it is opened
    return not stat.S_ISREG(info.st_mode) or (empty and info.st_size == 0)


def open_log(path: str) -> IO[bytes]:
    """Open a log for reading: ``-`` is standard input, ``.gz`` is read through gzip.

    :raises LogError: naming the path
    """
    if path == STDIN:
        try:
            return os.fdopen(os.dup(sys.stdin.fileno()), "rb")
        except (AttributeError, OSError, ValueError):
            raise LogError("-: standard input is closed") from None
    try:
        if path.endswith(".gz"):
            return gzip.open(path, "rb")  # type: ignore[return-value]  # a binary stream too
        return open(path, "rb")
    except OSError as exc:
        raise LogError(f"{path}: {exc.strerror or exc}") from None


def read(
    path: str, offset: int = 0, line: int = 0, stop: int | None = None, limit: int = MAX_LINE
) -> Iterator[LogRecord]:
    """Stream one file's lines as raw records with their byte offset and line number.

    Memory stays bounded whatever the file and its lines: a line over
    ``limit`` bytes is :func:`cut`. ``.gz`` files are read through gzip
    (offsets then count uncompressed bytes); ``-`` is standard input, and
    pipes, FIFOs and /proc files are read as they come.

    :param offset: byte offset to start at (the start of a line)
    :param line: number of the line before that offset
    :param stop: offset to stop before (a line start); None reads to the end
    :param limit: the longest line kept whole, in bytes
    :raises LogError: the file cannot be opened, or its compression is broken
    """
    stream = open_log(path)
    name = "" if path == STDIN else path
    with stream:
        try:
            if offset:
                stream.seek(offset)
            for number, (raw, length) in enumerate(lines(stream, limit), line + 1):
                if stop is not None and offset >= stop:
                    return
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                record = LogRecord(raw=text, file=name, offset=offset, line=number)
                offset += length
                record.end = offset
                yield record
        except GZIP_ERRORS as exc:
            raise LogError(f"{path}: {exc}") from None
        except OSError as exc:
            raise LogError(f"{path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def seekable(paths: Sequence[str]) -> Iterator[list[str]]:
    """Paths that can be read twice: streams (stdin, FIFOs) are first copied to a
    private temporary file, removed afterwards."""
    import shutil
    import tempfile

    with contextlib.ExitStack() as stack:
        out = []
        for path in paths:
            if not is_stream(path):
                out.append(path)
                continue
            spool = stack.enter_context(tempfile.NamedTemporaryFile(prefix="osops-log-"))
            with open_log(path) as source:
                shutil.copyfileobj(source, spool)
            spool.flush()
            out.append(spool.name)
        yield out


class Chain:
    """The configured filter steps; a fresh set of instances runs over each file."""

    def __init__(self, steps: Sequence[Step], max_line: int = MAX_LINE) -> None:
        self.steps = steps
        #: The longest line kept whole; longer ones are :func:`cut`.
        self.max_line = max_line
        #: Steps already reported for dropping every record: once is enough.
        self.warned: set[str] = set()

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.steps]

    def run(self, records: Iterable[LogRecord]) -> Iterator[LogRecord]:
        """Apply every step in order, lazily; loops explicitly so errors surface.

        Each step runs guarded (:func:`osops.log.guarded.step`): what it prints is kept off
        standard output under its name, an exception escaping it names it,
        and a step that drops every record it is given is reported once.
        """
        given = [0]
        stream = guarded.counting(records, given)
        for name, cls, options in self.steps:
            out = [0]
            stream = guarded.step(name, cls(options).run(stream), given, out, self.warned)
            given = out
        return stream

    def records(self, path: str) -> Iterator[LogRecord]:
        """Every record of one file, through the whole chain."""
        return self.run(read(path, limit=self.max_line))

    def fused(self) -> Fused | None:
        """The chain as one pass, if one of its filters can fuse it (see Filter.fuse)."""
        for _, cls, _ in self.steps:
            fused = cls.fuse(self.steps)
            if fused is not None:
                fused.max_line = self.max_line
                return fused
        return None


def default_filters(manager: Any = None) -> tuple[str, ...]:
    """What ``osops log`` commands run when no ``--filter`` is given: every installed
    filter that declares a ``default_order``, lowest first.

    The chain is built from what is installed, so core names no filter of
    another distribution; one that does not load is left out here (``osops
    plugin list`` shows it broken, and naming it with ``--filter`` says why).

    :param manager: the filters of this stevedore manager instead of the
        installed ones (tests inject ``ExtensionManager.make_test_instance``)
    """
    if manager is None:
        return _installed_defaults()
    return _ordered([(ext.name, ext.plugin) for ext in manager])


@functools.cache
def _installed_defaults() -> tuple[str, ...]:
    classes = []
    present = requirements.installed()  # one listing of sys.path for every filter
    for entry in plugins.scan([KINDS["filter"].namespace]):
        try:
            classes.append((entry.name, plugins.load_entry(entry, present)))
        except PluginLoadError:
            continue
    return _ordered(classes)


def _ordered(classes: Sequence[tuple[str, Any]]) -> tuple[str, ...]:
    places = {
        name: order
        for name, cls in classes
        if isinstance(order := getattr(cls, "default_order", None), int)
    }
    return tuple(sorted(places, key=lambda name: (places[name], name)))


def _load(kind_name: str, name: str, manager: Any = None) -> Any:
    try:
        return plugins.load(kind_name, name, manager)
    except PluginNotFound as exc:
        raise UsageError(str(exc)) from None


def build_chain(
    names: Sequence[str] | None,
    option_pairs: Sequence[str] = (),
    max_line: int = MAX_LINE,
    manager: Any = None,
) -> Chain:
    """Load filters by name, with ``NAME.KEY=VALUE`` options, redaction last if absent.

    :param names: the steps in order; None runs :func:`default_filters`
    :param manager: load the filters from this stevedore manager (tests)
    :raises UsageError: unknown filter, unknown option or bad value
    """
    wanted = list(names or default_filters(manager))
    if names is None and wanted in ([], [REDACT]):
        # A core-only install: it works, and says what it lacks rather than failing.
        LOG.warning(
            "no installed log filter but redact declares a place in the default chain: "
            "records are the raw lines, redacted, unparsed; install a distribution with a "
            "parse filter (osops plugin list --kind filter) or name filters with --filter"
        )
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
        cls = _load("filter", name, manager)
        options = parse_options(cls.arguments, per_filter.get(name, []), f"filter {name!r}")
        steps.append((name, cls, options))
    return Chain(steps, max_line)


def build_sink(name: str, option_pairs: Sequence[str] = (), manager: Any = None) -> Sink:
    """Load one sink by name with its ``KEY=VALUE`` options.

    :param manager: load the sink from this stevedore manager (tests)
    :raises UsageError: unknown sink, unknown option or bad value
    """
    cls = _load("sink", name, manager)
    sink: Sink = cls(parse_options(cls.arguments, list(option_pairs), f"sink {name!r}"))
    guarded.SINK_NAMES[sink] = name
    return sink


def batches(records: Iterable[LogRecord], size: int) -> Iterator[list[LogRecord]]:
    """Group a stream into lists of at most ``size`` records."""
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
