"""Run lines through filters and records into a sink, the way ``osops log`` commands do."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from osops import guard, plugins
from osops.log import guarded, pipeline
from osops.log.base import Filter, Sink
from osops.log.record import LogRecord
from osops.options import parse_options


def _name_of(cls: type[Any]) -> str:
    """A class's snake_case name, standing in for an entry point name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


def records_of(lines: str | Iterable[str], file: str = "test.log") -> list[LogRecord]:
    """Raw records as ``osops log`` reads them: one per line, with offset and line number."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    records = []
    offset = 0
    for number, line in enumerate(lines, 1):
        record = LogRecord(raw=line, file=file, offset=offset, line=number)
        offset += len(line.encode()) + 1
        record.end = offset
        records.append(record)
    return records


def _split(option_pairs: Sequence[str], names: Sequence[str]) -> dict[str, list[str]]:
    per_step: dict[str, list[str]] = {}
    for pair in option_pairs:
        target, sep, rest = pair.partition(".")
        if not sep or target not in names:
            raise ValueError(f"option {pair!r}: expected NAME.KEY=VALUE, NAME one of {names}")
        per_step.setdefault(target, []).append(rest)
    return per_step


def run_chain(
    filters: Sequence[str | type[Filter]],
    lines: str | Iterable[str] | Iterable[LogRecord],
    options: Sequence[str] = (),
    file: str = "test.log",
) -> list[LogRecord]:
    """Run lines (or records) through exactly these filters, in order, as ``--filter`` does.

    Unlike ``osops log parse``, no ``redact`` step is appended: the chain is
    exactly the one given. The chain runs through osops's own pipeline, guards
    included (a step that prints or drops every record is reported).

    :param filters: installed filter names, or Filter classes not installed yet
        (named by their class name in snake_case)
    :param options: ``NAME.KEY=VALUE`` strings, as ``--filter-option`` takes them
    :returns: the records that came out of the last step
    """
    classes = [
        (f, plugins.load("filter", f)) if isinstance(f, str) else (_name_of(f), f) for f in filters
    ]
    per_step = _split(options, [name for name, _ in classes])
    steps = [
        (name, cls, parse_options(cls.arguments, per_step.get(name, []), f"filter {name!r}"))
        for name, cls in classes
    ]
    items = [lines] if isinstance(lines, str) else list(lines)
    records = [
        item if isinstance(item, LogRecord) else record
        for item, record in zip(items, records_of([str(i) for i in items], file), strict=True)
    ]
    with _no_printing():
        return list(pipeline.Chain(steps).run(records))


@contextlib.contextmanager
def _no_printing() -> Iterator[None]:
    """Fail the test when a plugin prints: on ``osops log`` it would corrupt the output."""
    with guard.stdout_guarded() as stdout:
        before = dict(stdout.caught)
        yield
        printed = {k: v for k, v in stdout.caught.items() if before.get(k) != v}
    if printed:
        owner, text = next(iter(printed.items()))
        raise AssertionError(f"{owner} printed {guard.shown(text)} to standard output")


def run_sink(
    sink: str | type[Sink], records: Iterable[LogRecord], options: Sequence[str] = ()
) -> Sink:
    """Deliver records to a sink in its batches, then close it, as ``osops log ship`` does.

    :param sink: an installed sink's name, or a Sink class not installed yet
    :param options: ``KEY=VALUE`` strings, as ``--option`` takes them
    :returns: the sink, closed (its ``send_errors`` and any state kept for the test)
    :raises osops.exceptions.LogError: the sink failed, naming it
    """
    if isinstance(sink, str):
        instance = pipeline.build_sink(sink, options)
    else:
        instance = sink(parse_options(sink.arguments, list(options), f"sink {_name_of(sink)!r}"))
    try:
        with _no_printing():
            for batch in pipeline.batches(records, instance.batch_size):
                guarded.deliver(instance, batch)
    finally:
        instance.close()
    return instance
