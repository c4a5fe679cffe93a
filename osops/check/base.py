"""The check contract: declared arguments and perfdata, and one probe() to override."""

from __future__ import annotations

import abc

from osops.check import evaluation
from osops.check.values import UNITS, Detail, Perf, State, metric
from osops.options import Argument

__all__ = ["UNITS", "Argument", "Check", "Detail", "Perf", "State", "fan_out", "metric"]

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from typing import Any, ClassVar

    import nagiosplugin

    from osops.check.result import CheckResult
    from osops.check.threads import Item, Result


class Check(abc.ABC):
    """Base of every osops check.

    A check declares ``arguments``, ``perfdata`` and ``service`` as class
    attributes and overrides exactly one method, :meth:`probe`. The base owns
    :meth:`run`, which judges what the probe yields; thresholds, timeouts,
    output formats, ``--config`` files and exit codes belong to the framework
    (:mod:`osops.check.settings`, :mod:`osops.check.runner`), never to the check.
    """

    #: What the check watches, e.g. "nova", "rabbitmq"; "generic" for any service.
    service: ClassVar[str] = "generic"
    #: Where it must run: "anywhere" that reaches the service over the network (the
    #: monitoring master or a satellite), or "host", on the host it watches (a local
    #: socket, daemon or clock: an Icinga agent, ``command_endpoint``).
    runs_on: ClassVar[str] = "anywhere"
    #: Options beyond the framework's reserved ones.
    arguments: ClassVar[tuple[Argument, ...]] = ()
    #: Every metric the check can emit; anything else is a bug reported UNKNOWN.
    perfdata: ClassVar[tuple[Perf, ...]] = ()
    #: Label a bare ``-w RANGE`` / ``-c RANGE`` applies to; the first perfdata by default.
    primary: ClassVar[str | None] = None

    def __init__(self, options: Mapping[str, Any], timeout: float) -> None:
        """Keep the options; a constructor does no I/O.

        :param options: declared argument values by ``Argument.dest``
        :param timeout: seconds the whole check may take; pass it on to
            every socket and HTTP call
        """
        self.options = options
        self.timeout = timeout

    @classmethod
    def primary_label(cls) -> str | None:
        return cls.primary or (cls.perfdata[0].label if cls.perfdata else None)

    def run(
        self,
        name: str,
        warning: Mapping[str, str] | None = None,
        critical: Mapping[str, str] | None = None,
        alarm: bool = True,
        plugin: str | None = None,
    ) -> CheckResult:
        """Probe, judge the metrics against thresholds and summarise, within the timeout.

        The template method: override :meth:`probe`, never this. Errors of the
        probe propagate (:func:`osops.check.runner.failure` reports them).

        :param name: what the result is called (the check, or a suite entry)
        :param warning: warning ranges by perfdata label, over the declared defaults
        :param critical: critical ranges by perfdata label, over the declared defaults
        :param alarm: enforce the timeout with SIGALRM (main thread only); suites
            running checks in threads enforce it themselves
        :param plugin: the plugin's name, when ``name`` is a suite entry's
        """
        return evaluation.evaluate(self, name, warning or {}, critical or {}, alarm, plugin)

    def ranges(self) -> Mapping[str, tuple[str | None, str | None]]:
        """Default (warning, critical) ranges by perfdata label that follow from
        the check's options, over the declared ones (None keeps the declared
        one); ``-w``/``-c`` still win.

        For a comparison an option sets up: galera's ``--expected-size 3`` is
        ``cluster_size``'s critical range ``3:``, so the framework compares, not
        ``probe``. Default: none.
        """
        return {}

    @abc.abstractmethod
    def probe(self) -> Iterable[nagiosplugin.Metric | Detail]:
        """Measure the service.

        Acquisition only; the framework evaluates and presents:

        * a number: yield :func:`metric` (its label declared in ``perfdata``);
          whether it is WARNING or CRITICAL is for the thresholds (``-w``/``-c``,
          :meth:`ranges`, the declared defaults), never compared here;
        * a fact that is not a number: yield :class:`Detail`, with a state only
          when the fact decides one by itself ("cluster not Primary", "HTTP 500,
          expected 200"), OK for a fact worth the status line;
        * the service is down (refuses, fails TLS, answers 5xx, a synthetic
          operation fails): raise :class:`osops.exceptions.ServiceDown` naming
          it; that is the one idiom for "down": CRITICAL, the message as status
          line (never a CRITICAL Detail for it);
        * the state cannot be known (timeout, bad credentials, a malformed
          answer): raise :class:`osops.exceptions.CheckError`, UNKNOWN.

        Do not format, print or exit.

        :returns: an iterable of metrics and details
        :raises osops.exceptions.ServiceDown: the service is down (CRITICAL)
        :raises osops.exceptions.CheckError: the state cannot be determined (UNKNOWN)
        """


def fan_out(
    call: Callable[[Item], Result], items: Sequence[Item], concurrency: int, deadline: float
) -> Iterator[tuple[Item, Result | None, Exception | None]]:
    """``call(item)`` for each item, at most ``concurrency`` at once, until ``deadline``.

    For a check that calls an API once per project, host or provider: a hung
    call keeps its place (the API never sees more than ``concurrency``), none
    starts after ``deadline`` (a ``time.monotonic()`` value), and the results
    come as the calls end, as ``(item, result, None)`` or ``(item, None,
    error)``; items not reached are not yielded: count them and say so rather
    than wait past the check's timeout. See :func:`osops.check.threads.fan_out`.
    """
    from osops.check import threads  # typing and threads, only for a check that fans out

    return threads.fan_out(call, items, concurrency, deadline)
