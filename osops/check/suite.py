"""Check suites: many checks from one YAML file, run concurrently in one process."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from osops.check import runner, secrets
from osops.check.base import Check, State
from osops.check.result import CheckResult
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

    __slots__ = ("concurrency", "entries", "path", "timeout")

    def __init__(
        self, path: str, entries: tuple[Entry, ...], concurrency: int, timeout: float
    ) -> None:
        self.path = path
        self.entries = entries
        self.concurrency = concurrency
        self.timeout = timeout


def load(path: str) -> Suite:
    """Read and validate a suite file.

    ``checks`` is a list of ``{check: PLUGIN, name: NAME, options: {...}}``;
    ``concurrency`` and ``timeout`` (per check, seconds) are optional.

    :raises UsageError: naming the file, line and field at fault
    """
    from osops.files import read_yaml

    data = read_yaml(path, path)
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise UsageError(f"{path}: expected a mapping with a list under 'checks'")
    unknown = set(data) - {"checks", "concurrency", "timeout"}
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
    try:
        concurrency = int(data.get("concurrency", 8))
        timeout = float(data.get("timeout", runner.DEFAULT_TIMEOUT))
    except (TypeError, ValueError):
        raise UsageError(f"{path}: concurrency and timeout must be numbers") from None
    if concurrency < 1 or timeout <= 0:
        raise UsageError(f"{path}: concurrency and timeout must be positive")
    return Suite(path, tuple(entries), concurrency, timeout)


def _run_one(
    suite: Suite, entry: Entry, load: Callable[[str], type[Check]]
) -> tuple[type[Check], dict[str, Any], dict[str, Any]]:
    cls = load(entry.check)
    options = {"timeout": suite.timeout, **entry.options}
    settings, values = runner.settle(
        entry.check, cls, options, f"{suite.path}: check {entry.name!r}"
    )
    return cls, settings, values


def run(suite: Suite, load: Callable[[str], type[Check]] = runner.load_check) -> list[CheckResult]:
    """Run every check of a suite concurrently; each result is named after its entry.

    A check's failure (bad options, a broken plugin, a timeout) is that
    check's UNKNOWN, never the suite's end.
    """
    prepared: dict[str, tuple[type[Check], dict[str, Any], dict[str, Any]]] = {}
    results: dict[str, CheckResult] = {}
    for entry in suite.entries:
        try:
            prepared[entry.name] = _run_one(suite, entry, load)
        except Exception as exc:  # reported as this check's UNKNOWN
            results[entry.name] = runner.failure(entry.name, exc)
    pool = concurrent.futures.ThreadPoolExecutor(suite.concurrency, "osops-check")
    plugin_of = {entry.name: entry.check for entry in suite.entries}
    futures = {
        name: pool.submit(runner.execute, cls, name, values, settings, False, plugin_of[name])
        for name, (cls, settings, values) in prepared.items()
    }
    started = time.monotonic()
    for name, future in futures.items():
        budget = prepared[name][1]["timeout"]
        # Checks run concurrently: each may still have its whole timeout left.
        remaining = max(0.0, started + budget + 0.5 - time.monotonic())
        try:
            results[name] = future.result(timeout=remaining)
        except concurrent.futures.TimeoutError:
            results[name] = CheckResult(name, State.UNKNOWN, f"timed out after {budget:g}s")
        except Exception as exc:  # reported as this check's UNKNOWN
            results[name] = runner.failure(name, exc)
    # Threads still blocked past their timeout end with their sockets' own timeouts.
    pool.shutdown(wait=False, cancel_futures=True)
    for name, result in results.items():
        if not result.check or result.check == name:
            results[name] = result.replace(check=plugin_of[name])
    for entry in suite.entries:  # an error message may quote what it was given
        cls, _, values = prepared.get(entry.name, (None, {}, entry.options))
        hidden = secrets.secrets_of(cls, values)
        results[entry.name] = secrets.hide_result(results[entry.name], hidden)
    return [results[entry.name] for entry in suite.entries]


def worst(results: Sequence[CheckResult]) -> State:
    """The suite's state: the highest exit code (UNKNOWN above CRITICAL, as nagiosplugin)."""
    return max((r.state for r in results), default=State.OK)
