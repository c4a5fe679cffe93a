"""The outcome of one check run, shared by every output format and by suites."""

from __future__ import annotations

from osops.check.values import State
from osops.value import Value


class PerfValue(Value):
    """One perfdata item as emitted: value, unit, thresholds and bounds."""

    __slots__ = ("label", "value", "uom", "warning", "critical", "min", "max")

    def __init__(
        self,
        label: str,
        value: float,
        uom: str = "",
        warning: str | None = None,
        critical: str | None = None,
        min: float | None = None,
        max: float | None = None,
    ) -> None:
        self.label = label
        self.value = value
        self.uom = uom
        self.warning = warning
        self.critical = critical
        self.min = min
        self.max = max

    @property
    def base_label(self) -> str:
        """The declared label, without the ``[item]`` of per-item metrics."""
        return self.label.partition("[")[0]

    @property
    def instance(self) -> str | None:
        _, sep, rest = self.label.partition("[")
        return rest[:-1] if sep and rest.endswith("]") else None


class CheckResult(Value):
    """State, status line, perfdata and long output of one check run."""

    __slots__ = ("check", "details", "duration", "name", "perfdata", "state", "summary")

    def __init__(
        self,
        name: str,
        state: State,
        summary: str,
        perfdata: tuple[PerfValue, ...] = (),
        details: tuple[str, ...] = (),
        duration: float = 0.0,
        check: str = "",
    ) -> None:
        #: The plugin that ran, when ``name`` is a suite entry's own name.
        self.check = check
        self.name = name
        self.state = state
        self.summary = summary
        self.perfdata = perfdata
        self.details = details
        self.duration = duration

    @property
    def exit_code(self) -> int:
        return int(self.state)
