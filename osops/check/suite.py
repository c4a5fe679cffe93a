"""Check suites: many checks from one YAML file, run concurrently in one process."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from osops import guard
from osops.check import runner, secrets, threads
from osops.check.base import Check, State
from osops.check.result import CheckResult
from osops.check.settings import DEFAULT_TIMEOUT, Settings, seconds, settle
from osops.exceptions import UsageError
from osops.value import Value


class Entry(Value):
    """One check of a suite: its display name, the plugin and its options."""

    __slots__ = ("check", "name", "options")

    def __init__(self, name: str, check: str, options: Mapping[str, Any]) -> None:
        self.name = name
        self.check = check
        self.options = options


class Suite(Value):
    """A parsed suite file."""

    __slots__ = ("concurrency", "deadline", "entries", "path", "timeout")

    def __init__(
        self,
        path: str,
        entries: tuple[Entry, ...],
        concurrency: int,
        timeout: float,
        deadline: float | None = None,
    ) -> None:
        self.path = path
        self.entries = entries
        self.concurrency = concurrency
        #: Seconds each check may take, from its own start.
        self.timeout = timeout
        #: Seconds the whole suite may take, if bounded: checks not started by
        #: then never run, and are reported so.
        self.deadline = deadline


def load(path: str) -> Suite:
    """Read and validate a suite file.

    ``checks`` is a list of ``{check: PLUGIN, name: NAME, options: {...}}``;
    ``concurrency``, ``timeout`` (per check, seconds, from its own start) and
    ``deadline`` (seconds for the whole suite) are optional.

    :raises UsageError: naming the file, line and field at fault
    """
    from osops.files import read_yaml

    data = read_yaml(path, path)
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise UsageError(f"{path}: expected a mapping with a list under 'checks'")
    unknown = set(data) - {"checks", "concurrency", "timeout", "deadline"}
    if unknown:
        raise UsageError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    entries: list[Entry] = []
    for number, item in enumerate(data["checks"], 1):
        if not isinstance(item, dict) or not isinstance(item.get("check"), str):
            raise UsageError(f"{path}: checks[{number}] needs 'check: PLUGIN'")
        extra = set(item) - {"check", "name", "options"}
        if extra:
            raise UsageError(f"{path}: checks[{number}]: unknown key {sorted(extra)[0]!r}")
        options = item.get("options") or {}
        if not isinstance(options, dict):
            raise UsageError(f"{path}: checks[{number}].options must be a mapping")
        name = str(item.get("name") or item["check"])
        if any(entry.name == name for entry in entries):
            raise UsageError(f"{path}: checks[{number}]: name {name!r} is used twice")
        entries.append(Entry(name, item["check"], options))
    concurrency = data.get("concurrency", 8)
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= MAX_CONCURRENCY
    ):
        raise UsageError(
            f"{path}: concurrency: expected a whole number from 1 to {MAX_CONCURRENCY}, "
            f"got {concurrency!r}"
        )
    timeout = seconds(data.get("timeout", DEFAULT_TIMEOUT), f"{path}: timeout")
    deadline = data.get("deadline")
    if deadline is not None:
        deadline = seconds(deadline, f"{path}: deadline")
    return Suite(path, tuple(entries), concurrency, timeout, deadline)


#: The most checks a suite runs at once (one thread each).
MAX_CONCURRENCY = 256


def _prepare(
    suite: Suite, entry: Entry, load: Callable[[str], type[Check]]
) -> tuple[type[Check], Settings, dict[str, Any]]:
    cls = load(entry.check)
    options = {"timeout": suite.timeout, **entry.options}
    settings, values = settle(entry.check, cls, options, f"{suite.path}: check {entry.name!r}")
    return cls, settings, values


def run(suite: Suite, load: Callable[[str], type[Check]] = runner.load_check) -> list[CheckResult]:
    """Run every check of a suite concurrently; each result is named after its entry.

    A check's failure (bad options, a broken plugin, a timeout) is that
    check's UNKNOWN, never the suite's end. Each check's timeout runs from its
    own start; past the suite's deadline, checks still running or never
    started are UNKNOWN, saying which.
    """
    prepared: dict[str, tuple[type[Check], Settings, dict[str, Any]]] = {}
    results: dict[str, CheckResult] = {}
    for entry in suite.entries:
        try:
            prepared[entry.name] = _prepare(suite, entry, load)
        except Exception as exc:  # reported as this check's UNKNOWN
            results[entry.name] = runner.failure(entry.name, exc)
    plugin_of = {entry.name: entry.check for entry in suite.entries}
    tasks = [
        (
            name,
            functools.partial(_run, cls, name, values, settings, plugin_of[name]),
            settings.timeout,
        )
        for name, (cls, settings, values) in prepared.items()
    ]
    for name, outcome in threads.run_all(tasks, suite.concurrency, suite.deadline).items():
        results[name] = _result(name, outcome, prepared[name][1].timeout, suite.deadline)
    for name, result in results.items():
        if not result.check or result.check == name:
            results[name] = result.replace(check=plugin_of[name])
    for entry in suite.entries:  # an error message may quote what it was given
        cls, _, values = prepared.get(entry.name, (None, Settings(), entry.options))
        hidden = secrets.secrets_of(cls, values)
        results[entry.name] = secrets.hide_result(results[entry.name], hidden)
    return [results[entry.name] for entry in suite.entries]


def _run(
    cls: type[Check], name: str, values: dict[str, Any], settings: Settings, plugin: str
) -> CheckResult:
    """One check of a suite, on its thread: the suite's threads keep its timeout.

    What it prints is kept off the suite's output (the ``osops`` app's guard)
    and makes it UNKNOWN, as in ``check run``.
    """
    where = f"check {name!r} during probe"
    with guard.running(where):
        check = cls(values, settings.timeout)
        result = check.run(name, settings.warning, settings.critical, alarm=False, plugin=plugin)
    active = guard.active()
    text = active.caught.pop(where, None) if active is not None else None
    return runner.printed_result(result, where, text) if text else result


def _result(
    name: str, outcome: threads.Outcome, timeout: float, deadline: float | None
) -> CheckResult:
    status = threads.Status
    if outcome.status is status.DONE:
        result: CheckResult = outcome.value
        return result
    if outcome.status is status.FAILED:
        assert outcome.error is not None
        return runner.failure(name, outcome.error)
    if outcome.status is status.TIMED_OUT:
        summary = f"timed out after {timeout:g}s"
    elif outcome.status is status.STOPPED:
        summary = f"stopped by the suite's deadline of {deadline:g}s after {outcome.seconds:.1f}s"
    else:
        summary = f"never ran: the suite's deadline of {deadline:g}s came first"
    return CheckResult(name, State.UNKNOWN, summary, duration=outcome.seconds)


def worst(results: Sequence[CheckResult]) -> State:
    """The suite's state: the highest exit code (UNKNOWN above CRITICAL, as nagiosplugin)."""
    return max((r.state for r in results), default=State.OK)
