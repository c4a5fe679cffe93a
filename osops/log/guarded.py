"""A chain's steps and a sink's batches run guarded: prints kept, exits and bugs named.

What a filter or sink prints is caught under its name (:mod:`osops.guard`);
``sys.exit`` or an exception escaping one becomes a :class:`LogError` naming
it; a step that drops every record it is given is reported once.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Iterator, Sequence

from osops import guard, plugins
from osops.exceptions import LogError, OsopsError, SinkError
from osops.log.base import Sink
from osops.log.record import LogRecord

LOG = logging.getLogger(__name__)


def step(
    name: str, records: Iterator[LogRecord], given: list[int], out: list[int], warned: set[str]
) -> Iterator[LogRecord]:
    """One filter's records, pulled while it is marked running (:mod:`osops.guard`).

    Its own errors are handled by ``on_error`` in :meth:`Filter.run`; what
    still escapes (an error in ``flush``, ``sys.exit``) is a :class:`LogError`
    naming the filter. osops's own errors (a file that cannot be read) pass.

    :param given: the count of records the step was given, kept by the step before
    :param out: the count of records it gave, kept here
    :param warned: the chain's steps already reported for dropping every record
    """
    owner = f"filter {name!r}"
    active = guard.active()
    running = active.stack() if active is not None else None
    while True:
        if running is not None:
            running.append(owner)
        try:
            record = next(records)
        except StopIteration:
            break
        except OsopsError:
            raise
        except BaseException as exc:
            if not guard.plugin_fault(exc):
                raise
            raise LogError(f"{owner} failed: {plugins.describe_error(exc)}") from exc
        finally:
            if running is not None:
                running.pop()
        out[0] += 1
        yield record
    if given[0] and not out[0] and name not in warned:
        warned.add(name)
        LOG.warning(
            "filter %r dropped all %d records it was given; if that is not its job, "
            "its process() must return the record",
            name,
            given[0],
        )


def counting(records: Iterable[LogRecord], count: list[int]) -> Iterator[LogRecord]:
    """The records, counted into ``count[0]`` as they pass."""
    for record in records:
        count[0] += 1
        yield record


#: The name each sink was loaded by (:func:`osops.log.pipeline.build_sink`), for messages.
SINK_NAMES: weakref.WeakKeyDictionary[Sink, str] = weakref.WeakKeyDictionary()


def sink_name(sink: Sink) -> str:
    """The entry point name a sink was loaded by; its class name if it was not loaded."""
    return SINK_NAMES.get(sink) or type(sink).__name__


def deliver(sink: Sink, batch: Sequence[LogRecord]) -> None:
    """One batch into a sink, guarded: a sink's own bug is a :class:`LogError` naming it.

    :raises SinkError: the sink did not accept the batch (send it again)
    :raises LogError: the sink failed otherwise (a bug: not retried)
    """
    owner = f"sink {sink_name(sink)!r}"
    with guard.running(owner):
        try:
            sink.write(batch)
        except SinkError:
            raise  # the contract's way to refuse a batch: the sink's own message says where
        except BaseException as exc:
            if not guard.plugin_fault(exc):
                raise
            raise LogError(
                f"{owner} failed: {plugins.describe_error(exc)} (a sink raises SinkError "
                "when a batch is not accepted)"
            ) from exc
