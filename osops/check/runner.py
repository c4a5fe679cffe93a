"""Run one check from argv: options, thresholds, timeout, and the Nagios exit code.

This is the lean route of ``osops check run``: it imports nagiosplugin, argparse
and the one check being run, and nothing of cliff or stevedore.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import time
import traceback

import nagiosplugin

from osops import plugins
from osops.check import secrets
from osops.check.base import Check, Detail, State
from osops.check.output import FORMATS, render
from osops.check.result import CheckResult, PerfValue
from osops.exceptions import CheckError, OsopsError, PluginLoadError, ServiceDown, UsageError
from osops.options import resolve, secret_variable

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any, NoReturn

DEFAULT_TIMEOUT = 10.0
_DETAIL = "_osops_detail"


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def load_check(name: str) -> type[Check]:
    """Find and import one check class, without importing any other plugin.

    :raises PluginNotFound: no such check is installed
    :raises PluginLoadError: it is installed but broken
    """
    entry = plugins.find("check", name)
    cls = plugins.load(entry)
    if not (isinstance(cls, type) and issubclass(cls, Check)):
        raise PluginLoadError(
            f"check {name!r} from {entry.distribution}: {entry.value} is not an "
            "osops.check.base.Check (fix: osops plugin verify)"
        )
    return cls


def build_parser(name: str, cls: type[Check]) -> argparse.ArgumentParser:
    """The option parser of one check: its declared arguments and the reserved ones."""
    parser = _Parser(
        prog=f"osops check run {name}",
        description=(cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else None,
        argument_default=argparse.SUPPRESS,
    )
    reserved = parser.add_argument_group("framework options")
    reserved.add_argument(
        "-w",
        "--warning",
        action="append",
        metavar="[LABEL=]RANGE",
        help="warning threshold, Nagios range syntax; repeatable",
    )
    reserved.add_argument(
        "-c",
        "--critical",
        action="append",
        metavar="[LABEL=]RANGE",
        help="critical threshold, Nagios range syntax; repeatable",
    )
    reserved.add_argument(
        "-t",
        "--timeout",
        metavar="SECONDS",
        help=f"give up with UNKNOWN after this long (default {DEFAULT_TIMEOUT:g})",
    )
    reserved.add_argument(
        "-v",
        "--verbose",
        action="count",
        help="long output; -vvv adds tracebacks of osops's own errors",
    )
    reserved.add_argument(
        "--output-format", choices=FORMATS, help="nagios (default), json or prometheus"
    )
    reserved.add_argument(
        "--config", metavar="FILE", help="YAML mapping of long option names to values, under argv"
    )
    own = parser.add_argument_group(f"options of {name}")
    for arg in cls.arguments:
        kwargs: dict[str, Any] = {"help": arg.help, "dest": arg.dest}
        if arg.is_flag:
            kwargs["action"] = "store_const"
            kwargs["const"] = True
        else:
            kwargs["metavar"] = arg.metavar or arg.dest.upper()
            if arg.repeatable:
                kwargs["action"] = "append"
        own.add_argument(f"--{arg.name}", **kwargs)
    return parser


def _read_config(path: str) -> dict[str, Any]:
    from osops.files import read_yaml  # only checks given --config pay for YAML

    data = read_yaml(path, f"--config {path}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"--config {path}: expected a mapping of option names to values")
    return data


def parse(
    name: str, cls: type[Check], argv: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split argv into framework settings and the check's own option values.

    ``--config`` values sit under argv: what the command line gives wins.

    :returns: (framework settings, check options by dest)
    :raises UsageError: naming the option at fault
    """
    given = vars(build_parser(name, cls).parse_args(list(argv)))
    config = _read_config(given["config"]) if "config" in given else {}
    return settle(name, cls, config, f"--config {given.get('config')}", given)


_FRAMEWORK = frozenset({"warning", "critical", "timeout", "verbose", "output_format"})


def settle(
    name: str,
    cls: type[Check],
    config: Mapping[str, Any],
    where: str,
    given: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge option values from a mapping (a --config file, a suite entry) under argv's.

    :param config: long option names (or their snake_case) to values
    :param where: names the mapping in errors, e.g. "--config /etc/osops/x.yaml"
    :param given: what argparse parsed from argv, by dest
    :returns: (framework settings, check options by dest)
    :raises UsageError: an unknown option or a value that does not fit
    """
    declared = {arg.name: arg for arg in cls.arguments}
    framework = _FRAMEWORK
    merged: dict[str, Any] = {}
    for key, value in config.items():
        option = str(key).replace("_", "-")
        if option not in declared and option.replace("-", "_") not in framework:
            raise UsageError(f"{where}: unknown option {key!r}")
        merged[option] = value
    given = given or {}
    for arg in cls.arguments:
        # Secrets may also come from the environment (Icinga's CheckCommand env),
        # below --config and argv, so they never need to be on a command line.
        variable = secret_variable(arg.name)
        if arg.secret and arg.name not in merged and variable in os.environ:
            merged[arg.name] = os.environ[variable]
    by_dest = {arg.dest: arg.name for arg in cls.arguments}
    for dest, value in given.items():
        if dest in by_dest:
            merged[by_dest[dest]] = value
        elif dest in framework:
            merged[dest.replace("_", "-")] = value
    settings = {
        "warning": _as_list(merged.pop("warning", [])),
        "critical": _as_list(merged.pop("critical", [])),
        "timeout": seconds(merged.pop("timeout", DEFAULT_TIMEOUT)),
        "verbose": _verbose(merged.pop("verbose", 0)),
        "output_format": merged.pop("output-format", "nagios"),
    }
    if settings["output_format"] not in FORMATS:
        raise UsageError(
            f"--output-format: {settings['output_format']!r} is not one of {', '.join(FORMATS)}"
        )
    return settings, resolve(cls.arguments, merged, f"check {name!r}")


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


#: The longest timeout a check or a suite may be given, in seconds.
MAX_TIMEOUT = 3600.0


def seconds(value: Any, where: str = "--timeout") -> float:
    """A timeout: a number of seconds above 0 and at most :data:`MAX_TIMEOUT`.

    :raises UsageError: naming ``where`` and the range (YAML's true, .nan and .inf too)
    """
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: expected seconds, got {value!r}") from None
    if not 0 < number <= MAX_TIMEOUT:  # nan is neither
        raise UsageError(
            f"{where}: must be more than 0 seconds and at most {MAX_TIMEOUT:g}, got {value!r}"
        )
    return number


def _verbose(value: Any) -> int:
    # argv gives a count; a --config file or a suite whatever YAML holds
    # ("verbose:" with no value is YAML's null: not set).
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"--verbose: expected a count (0 to 3), got {value!r}")
    return min(value, 3)


def thresholds(cls: type[Check], name: str, specs: Iterable[str], option: str) -> dict[str, str]:
    """Map ``LABEL=RANGE`` and bare ``RANGE`` (the primary metric) to labels.

    :raises UsageError: unknown label, or a range Nagios would not accept
    """
    labels = {perf.label for perf in cls.perfdata}
    found: dict[str, str] = {}
    for spec in specs:
        label, sep, text = spec.partition("=")
        if not sep:
            label, text = cls.primary_label() or "", spec
            if not label:
                raise UsageError(f"--{option}: check {name!r} has no metric to compare")
        label = label.strip()
        if label not in labels:
            raise UsageError(
                f"--{option}: check {name!r} has no metric {label!r} "
                f"(metrics: {', '.join(sorted(labels)) or 'none'})"
            )
        try:
            nagiosplugin.Range(text)
        except ValueError:
            raise UsageError(f"--{option}: {text!r} is not a Nagios range") from None
        found[label] = text
    return found


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
                raise CheckError(f"check emitted undeclared metric {item.name!r}")
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


def execute(
    cls: type[Check],
    name: str,
    options: Mapping[str, Any],
    settings: Mapping[str, Any],
    alarm: bool = True,
    check: str | None = None,
) -> CheckResult:
    """Probe, evaluate against thresholds and summarise, within the timeout.

    Errors of the check itself propagate; :func:`main` turns them into UNKNOWN.

    :param alarm: enforce the timeout with SIGALRM (main thread only); suites
        running checks in threads enforce it themselves
    :param check: the plugin's name, when ``name`` is a suite entry's
    """
    instance = cls(options, settings["timeout"])
    warning = thresholds(cls, name, settings["warning"], "warning")
    critical = thresholds(cls, name, settings["critical"], "critical")
    contexts = [
        nagiosplugin.ScalarContext(
            perf.label,
            warning.get(perf.label, perf.warning),
            critical.get(perf.label, perf.critical),
            fmt_metric=perf.fmt,
        )
        for perf in cls.perfdata
    ]
    resource = _Resource(instance, name)
    np_check = nagiosplugin.Check(
        resource, _DetailContext(_DETAIL), *contexts, _Summary(cls.primary_label(), resource)
    )
    started = time.monotonic()
    if alarm:
        _with_timeout(settings["timeout"], np_check)
    else:
        np_check()
    duration = time.monotonic() - started
    perfdata = tuple(
        PerfValue(
            r.metric.name,
            r.metric.value,
            r.metric.uom or "",
            warning.get(r.metric.context, resource.declared[r.metric.context].warning),
            critical.get(r.metric.context, resource.declared[r.metric.context].critical),
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
        check=check or name,
    )


#: How long after its timeout the alarm stops a check. A check that keeps its
#: own deadline (as it should) ends first, with its own message ("did not
#: answer within 10s"); the alarm is the backstop for one that does not.
ALARM_MARGIN = 0.3


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


def failure(name: str, exc: BaseException, verbose: int = 0) -> CheckResult:
    """The result for a check that raised: CRITICAL for :class:`ServiceDown`, else UNKNOWN.

    One line; the traceback only as long output at ``-vvv``.
    """
    if isinstance(exc, ServiceDown):
        return CheckResult(name, State.CRITICAL, str(exc))
    if isinstance(exc, nagiosplugin.Timeout):
        message = f"timed out after {exc}"
    elif isinstance(exc, OsopsError):
        message = str(exc)
    else:
        message = plugins.describe_error(exc)
    trace = traceback.format_exception(exc) if verbose >= 3 else []
    lines = tuple(line for chunk in trace for line in chunk.rstrip("\n").splitlines())
    return CheckResult(name or "osops", State.UNKNOWN, message, details=lines)


def _quiet_libraries(verbose: int) -> None:
    """Client libraries log warnings to stderr; a check speaks on stdout only, unless -vv."""
    import logging

    root = logging.getLogger()
    if verbose >= 2:
        logging.basicConfig(
            level=logging.DEBUG if verbose >= 3 else logging.INFO,
            format="%(levelname)s %(name)s: %(message)s",
        )
    elif not root.handlers:
        root.addHandler(logging.NullHandler())


def _verbosity(argv: Sequence[str]) -> int:
    count = 0
    for arg in argv:
        if arg == "--verbose":
            count += 1
        elif arg.startswith("-") and not arg.startswith("--") and set(arg[1:]) == {"v"}:
            count += len(arg) - 1
    return count


USAGE = "usage: osops check run NAME [options]; osops plugin list --kind check lists NAMEs"


def main(
    argv: Sequence[str], out: Any = None, load: Callable[[str], type[Check]] | None = None
) -> int:
    """``osops check run NAME [options]``: print one result, return the Nagios exit code.

    :param out: where to write (standard output by default)
    :param load: finds a check class by name (:func:`load_check` by default)
    """
    out = out or sys.stdout
    verbose = _verbosity(argv)
    _quiet_libraries(verbose)
    name = argv[0] if argv and not argv[0].startswith("-") else ""
    cls: type[Check] | None = None
    options: dict[str, Any] = {}
    fmt = "nagios"
    try:
        if not name:
            if any(a in ("-h", "--help") for a in argv):
                out.write(USAGE + "\n")
                return int(State.UNKNOWN)
            raise UsageError(USAGE)
        cls = (load or load_check)(name)
        if any(a in ("-h", "--help") for a in argv[1:]):
            out.write(build_parser(name, cls).format_help())
            return int(State.UNKNOWN)
        settings, options = parse(name, cls, argv[1:])
        fmt = settings["output_format"]
        verbose = settings["verbose"]
        result = execute(cls, name, options, settings)
    except Exception as exc:  # a check's own bug is UNKNOWN, never a traceback
        result = failure(name, exc, verbose)
    shown = secrets.hide_result(result, secrets.secrets_of(cls, options))
    text = render(shown, fmt, verbose)
    try:
        if out is None:
            raise OSError(errno.EBADF, "closed")
        out.write(text)
        out.flush()
    except (OSError, ValueError) as exc:  # full, closed or gone: Icinga gets no status line
        _unwritable(out, exc)
        return int(State.UNKNOWN)
    return result.exit_code


def _unwritable(out: Any, exc: BaseException) -> None:
    """Say on stderr, in one line, that the result could not be written (UNKNOWN)."""
    reason = getattr(exc, "strerror", None) or str(exc)
    name = "standard output" if out in (None, sys.stdout) else getattr(out, "name", "the output")
    try:
        sys.stderr.write(f"osops: cannot write the check result to {name}: {reason}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # AttributeError: no stderr at all
        pass  # nowhere left to say it; the exit code still does
    if out is not None and out is sys.stdout:
        # What is still buffered would fail again at exit, with a traceback-like warning.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
