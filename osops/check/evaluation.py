"""A probe's metrics judged against thresholds and summarised, within the timeout."""

from __future__ import annotations

import time

import nagiosplugin

from osops.check.result import CheckResult, PerfValue
from osops.check.values import Detail, State, valid_range
from osops.exceptions import CheckError, ServiceDown

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Mapping
    from typing import Any

    from osops.check.base import Check

_DETAIL = "_osops_detail"

#: How long after its timeout the alarm stops a check. A check that keeps its
#: own deadline (as it should) ends first, with its own message ("did not
#: answer within 10s"); the alarm is the backstop for one that does not.
ALARM_MARGIN = 0.3


class _DetailContext(nagiosplugin.Context):  # type: ignore[misc]
    """Evaluates a stated Detail to the state its probe gave it."""

    def evaluate(self, metric: Any, resource: Any) -> Any:
        state = _NP_STATES[metric.value[1]]
        return nagiosplugin.Result(state, metric.value[0], metric)


_NP_STATES = {
    State.OK: nagiosplugin.Ok,
    State.WARNING: nagiosplugin.Warn,
    State.CRITICAL: nagiosplugin.Critical,
    State.UNKNOWN: nagiosplugin.Unknown,
}


class _Resource(nagiosplugin.Resource):  # type: ignore[misc]
    """Adapts an osops check to nagiosplugin: fills declared units, keeps details."""

    def __init__(self, check: Check, name: str) -> None:
        self.check = check
        self.check_name = name
        self.details: list[Detail] = []
        self.explained: dict[str, str] = {}
        self.declared = {perf.label: perf for perf in check.perfdata}

    @property
    def name(self) -> str:
        return self.check_name

    def probe(self) -> list[Any]:
        metrics = []
        for item in self.check.probe():
            if isinstance(item, Detail):
                if item.label is not None:
                    self.explained[item.label] = item.text
                self.details.append(item)
                if item.state is not None:
                    metrics.append(
                        nagiosplugin.Metric(_DETAIL, (item.text, item.state), context=_DETAIL)
                    )
                continue
            perf = self.declared.get(item.context)
            if perf is None:
                declared = ", ".join(self.declared) or "none"
                raise CheckError(
                    f"check {self.check_name!r} emitted undeclared metric {item.name!r} "
                    f"(declared perfdata: {declared})"
                )
            metrics.append(
                item.replace(
                    uom=item.uom or perf.uom or None,
                    min=item.min if item.min is not None else perf.min,
                    max=item.max if item.max is not None else perf.max,
                )
            )
        return metrics


class _Summary(nagiosplugin.Summary):  # type: ignore[misc]
    """Status line: stated details first, then the metrics that decided the state."""

    def __init__(self, primary: str | None, resource: _Resource) -> None:
        self.primary = primary
        self.resource = resource

    def _describe(self, result: Any) -> str:
        if result.metric is not None and result.metric.context == _DETAIL:
            return str(result.hint)
        explained = self.resource.explained.get(result.metric.name) if result.metric else None
        return explained or str(result)

    def ok(self, results: Any) -> str:
        texts = [str(r.hint) for r in results if r.metric and r.metric.context == _DETAIL]
        if not texts:
            texts = [str(r) for r in results if r.metric and r.metric.context == self.primary]
        return ", ".join(texts) or ", ".join(str(r) for r in results)

    def problem(self, results: Any) -> str:
        worst = results.most_significant_state
        return ", ".join(self._describe(r) for r in results if r.state == worst)

    def empty(self) -> str:
        return "no metrics"


def evaluate(
    check: Check,
    name: str,
    warning: Mapping[str, str],
    critical: Mapping[str, str],
    alarm: bool = True,
    plugin: str | None = None,
) -> CheckResult:
    """Probe, evaluate against thresholds and summarise, within the check's timeout.

    Errors of the check itself propagate; :func:`osops.check.runner.failure`
    turns them into a result.

    :param warning: warning ranges by label, over the declared defaults
    :param critical: critical ranges by label, over the declared defaults
    :param alarm: enforce the timeout with SIGALRM (main thread only); suites
        running checks in threads enforce it themselves
    :param plugin: the plugin's name, when ``name`` is a suite entry's
    """
    ranges = {perf.label: (perf.warning, perf.critical) for perf in check.perfdata}
    for label, (warns, crits) in check.ranges().items():  # None keeps the declared one
        ranges[label] = (warns or ranges[label][0], crits or ranges[label][1])
    warning_of = {label: warning.get(label, ranges[label][0]) for label in ranges}
    critical_of = {label: critical.get(label, ranges[label][1]) for label in ranges}
    units = {perf.label: perf.uom for perf in check.perfdata}
    for which, given, final in (
        ("warning", warning, warning_of),
        ("critical", critical, critical_of),
    ):
        for label, value in final.items():
            if label not in given and value is not None and not valid_range(value):
                raise CheckError(
                    f"check {plugin or name!r} declares default {which} {value!r} for "
                    f"{label!r}, which is no Nagios range (e.g. '0.5', '10:', '~:2'; "
                    f"the unit belongs in uom={units[label] or 'UNIT'!r})"
                )
    contexts = [
        nagiosplugin.ScalarContext(
            perf.label, warning_of[perf.label], critical_of[perf.label], fmt_metric=perf.fmt
        )
        for perf in check.perfdata
    ]
    resource = _Resource(check, name)
    np_check = nagiosplugin.Check(
        resource, _DetailContext(_DETAIL), *contexts, _Summary(check.primary_label(), resource)
    )
    started = time.monotonic()
    try:
        if alarm:
            _with_timeout(check.timeout, np_check)
        else:
            np_check()
    except ServiceDown as exc:
        # The one "service down" idiom (see Check.probe): CRITICAL, its message
        # the status line, whatever was measured before it.
        return CheckResult(
            name=name,
            state=State.CRITICAL,
            summary=str(exc),
            duration=time.monotonic() - started,
            check=plugin or name,
        )
    duration = time.monotonic() - started
    perfdata = tuple(
        PerfValue(
            r.metric.name,
            r.metric.value,
            r.metric.uom or "",
            warning_of[r.metric.context],
            critical_of[r.metric.context],
            r.metric.min,
            r.metric.max,
        )
        for r in np_check.results
        if r.metric is not None and r.metric.context != _DETAIL
    )
    details = [d.text for d in resource.details if d.state is None]
    if np_check.state != nagiosplugin.Ok:
        details[:0] = [
            f"{r.state}: {r}"
            for r in np_check.results
            if r.state != nagiosplugin.Ok and r.metric and r.metric.context != _DETAIL
        ]
    return CheckResult(
        name=name,
        state=State(np_check.exitcode),
        summary=np_check.summary_str,
        perfdata=perfdata,
        details=tuple(details),
        duration=duration,
        check=plugin or name,
    )


def _with_timeout(seconds: float, func: Any) -> None:
    # SIGALRM interrupts blocking socket calls too; nagiosplugin's own helper
    # only takes whole seconds.
    import signal

    def expire(_signum: int, _frame: Any) -> None:
        raise nagiosplugin.Timeout(f"{seconds:g}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds + ALARM_MARGIN)
    try:
        func()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
