"""The check contract: declared arguments and perfdata, and one probe() to override."""

from __future__ import annotations

import abc
import enum

import nagiosplugin

from osops.options import Argument
from osops.value import Value

__all__ = ["RESERVED", "UNITS", "Argument", "Check", "Detail", "Perf", "State", "metric"]

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Iterable, Mapping
    from typing import Any, ClassVar

#: Units Nagios and Icinga understand in perfdata (plugin development guidelines).
UNITS = frozenset({"", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"})

#: Options the framework gives every check; a check must not declare these.
RESERVED = frozenset(
    {"warning", "critical", "timeout", "verbose", "output-format", "config", "help", "version"}
)


class State(enum.IntEnum):
    """Nagios plugin states, equal to the exit codes."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


class Perf(Value):
    """A metric a check emits, with its unit and default thresholds.

    :param label: perfdata label, snake_case
    :param help: what the number means, for docs and exports
    :param uom: Nagios unit: "", s, ms, us, %, B, KB, MB, GB, TB or c (counter)
    :param min: lowest possible value, if known in advance
    :param max: highest possible value, if known in advance
    :param warning: default warning range (Nagios range syntax), e.g. "1000"
    :param critical: default critical range, e.g. "0" for "alert when above zero"
    :param per: when the metric is emitted once per item, what an item is
        (e.g. "queue"); the label then reads ``label[item]``
    :param fmt: how the status line describes it; fields: name, value, uom,
        valueunit, min, max
    """

    __slots__ = ("label", "help", "uom", "min", "max", "warning", "critical", "per", "fmt")

    def __init__(
        self,
        label: str,
        help: str,
        uom: str = "",
        min: float | None = None,
        max: float | None = None,
        warning: str | None = None,
        critical: str | None = None,
        per: str | None = None,
        fmt: str = "{name} is {valueunit}",
    ) -> None:
        self.label = label
        self.help = help
        self.uom = uom
        self.min = min
        self.max = max
        self.warning = warning
        self.critical = critical
        self.per = per
        self.fmt = fmt


class Detail(Value):
    """A fact a probe found that is not a number.

    With a ``state`` it counts as a result of its own (e.g. "cluster is not
    Primary" is CRITICAL); without one it is long output (``-v``). With a
    ``label`` it explains that metric: when the metric's thresholds make it
    WARNING or CRITICAL, the status line shows this text ("2 of 14 down:
    nova-compute@cmp-3, ...") instead of the bare number.
    """

    __slots__ = ("label", "state", "text")

    def __init__(self, text: str, state: State | None = None, label: str | None = None) -> None:
        self.text = text
        self.state = state
        self.label = label


def metric(label: str, value: float, instance: str | None = None) -> nagiosplugin.Metric:
    """A measurement for a declared :class:`Perf`, optionally for one item of many.

    :param label: the declared perfdata label
    :param instance: the item (queue, network, backend) for ``per`` metrics
    """
    name = f"{label}[{instance}]" if instance is not None else label
    return nagiosplugin.Metric(name, value, context=label)


class Check(abc.ABC):
    """Base of every osops check.

    A check declares ``arguments``, ``perfdata`` and ``service`` as class
    attributes and overrides exactly one method, :meth:`probe`. Thresholds,
    timeouts, output formats, ``--config`` files and exit codes belong to the
    framework (:mod:`osops.check.runner`), never to the check.
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

    @abc.abstractmethod
    def probe(self) -> Iterable[nagiosplugin.Metric | Detail]:
        """Measure the service.

        Yield one :func:`metric` per measurement (its label declared in
        ``perfdata``) and :class:`Detail` objects for facts that are not
        numbers. Do not format, compare against thresholds or exit.

        :returns: an iterable of metrics and details
        :raises osops.exceptions.CheckError: the state cannot be determined
        """
