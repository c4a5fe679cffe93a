"""The values a check declares and yields: states, perfdata, details and metrics."""

from __future__ import annotations

import enum
import re

import nagiosplugin

from osops.value import Value

_LABEL = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
#: Units Nagios and Icinga understand in perfdata (plugin development guidelines).
UNITS = frozenset({"", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"})


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

    def problems(self) -> list[str]:
        """Contract violations of this declaration, empty when it is sound."""
        found = []
        if not _LABEL.match(self.label):
            found.append(f"perfdata label {self.label!r} is not snake_case")
        if self.uom not in UNITS:
            found.append(f"perfdata {self.label!r} has unit {self.uom!r}, not one Nagios knows")
        if not self.help.strip():
            found.append(f"perfdata {self.label!r} has no help text")
        for which in ("warning", "critical"):
            text = getattr(self, which)
            if text is not None and not valid_range(text):
                found.append(
                    f"perfdata {self.label!r} default {which} {text!r} is no Nagios range "
                    f"(e.g. '0.5', '10:', '~:2'; the unit belongs in uom)"
                )
        return found


def valid_range(text: str) -> bool:
    """Whether a threshold is a Nagios range (``10``, ``10:``, ``~:2``, ``@1:5``)."""
    try:
        nagiosplugin.Range(text)
    except ValueError:
        return False
    return True


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
