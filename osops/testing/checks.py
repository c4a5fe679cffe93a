"""Run a check as Icinga would and read its output back: state, status line, parsed perfdata."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from osops.check.result import PerfValue
from osops.check.values import State
from osops.value import Value

# One perfdata item: 'quoted label' or bare label, = value[UOM];warn;crit;min;max.
# The value may carry a sign, a fraction and an exponent (8e-06): osops prints
# none, but other plugins and older osops releases do.
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_ITEM = re.compile(
    r"(?:'(?P<quoted>(?:[^']|'')+)'|(?P<bare>[^\s'=]+))="
    rf"(?P<value>{_NUMBER}|U)(?P<uom>[a-zA-Z%]*)"
    r"(?:;(?P<warning>[^;\s]*))?(?:;(?P<critical>[^;\s]*))?"
    r"(?:;(?P<min>[^;\s]*))?(?:;(?P<max>[^;\s]*))?(?=\s|$)"
)
_STATUS = re.compile(r"^(?P<name>\S+) (?P<state>OK|WARNING|CRITICAL|UNKNOWN)(?: - (?P<text>.*))?$")


class PerfItem(PerfValue):
    """One perfdata item as printed, its numbers parsed.

    A :class:`~osops.check.result.PerfValue` read back: ``value`` is None where the
    plugin printed ``U``, and a threshold it did not print is ``""``.
    """

    # No __slots__ of its own: Value takes the fields (equality, repr) from
    # ``__slots__``, which then names PerfValue's.
    value: float | None  # type: ignore[assignment]

    def __init__(
        self,
        label: str,
        value: float | None,
        uom: str = "",
        warning: str = "",
        critical: str = "",
        min: float | None = None,
        max: float | None = None,
    ) -> None:
        super().__init__(label, value, uom, warning, critical, min, max)  # type: ignore[arg-type]


def _float(text: str | None) -> float | None:
    return float(text) if text else None


def parse_perfdata(text: str) -> dict[str, PerfItem]:
    """Every item of a perfdata string, by label, in order.

    :raises ValueError: naming the part that is not perfdata
    """
    items: dict[str, PerfItem] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _ITEM.match(text, position)
        if match is None:
            raise ValueError(f"not perfdata at {text[position:]!r}")
        label = match["bare"] or match["quoted"].replace("''", "'")
        value = match["value"]
        items[label] = PerfItem(
            label,
            None if value == "U" else float(value),
            match["uom"],
            match["warning"] or "",
            match["critical"] or "",
            _float(match["min"]),
            _float(match["max"]),
        )
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return items


class CheckRun(Value):
    """What one check run printed and returned, parsed."""

    __slots__ = ("exit_code", "output", "stderr", "name", "state", "summary", "perfdata", "long")

    def __init__(self, exit_code: int, output: str, stderr: str = "") -> None:
        self.exit_code = exit_code
        #: Everything printed on standard output.
        self.output = output
        self.stderr = stderr
        parsed = parse_output(output)
        self.name: str = parsed["name"]
        self.state: State | None = parsed["state"]
        self.summary: str = parsed["summary"]
        self.perfdata: dict[str, PerfItem] = parsed["perfdata"]
        #: Long output: the lines after the status line.
        self.long: tuple[str, ...] = parsed["long"]

    @property
    def status_line(self) -> str:
        return self.output.partition("\n")[0]

    @property
    def values(self) -> dict[str, float | None]:
        """Perfdata values by label."""
        return {label: item.value for label, item in self.perfdata.items()}


def parse_output(output: str) -> dict[str, Any]:
    """Nagios plugin output split: name, state, summary, perfdata and long output.

    The state is None when the first line is no ``NAME STATE - text`` status line.
    """
    first, _, rest = output.partition("\n")
    text, sep, perf = first.partition(" | ")
    match = _STATUS.match(text)
    return {
        "name": match["name"] if match else "",
        "state": State[match["state"]] if match else None,
        "summary": (match["text"] or "") if match else text,
        "perfdata": parse_perfdata(perf) if sep else {},
        "long": tuple(rest.splitlines()),
    }


def run_check(
    name: str,
    *args: str,
    cls: type[Any] | None = None,
    process: bool = False,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> CheckRun:
    """Run ``osops check run NAME ARGS...`` and parse what it printed.

    In-process by default (fast, and coverage sees the check); ``process=True``
    starts the installed ``osops`` script as Icinga does.

    :param cls: run this class under ``name`` instead of the installed plugin
        (a check not installed yet); in-process only
    :param env: variables added to the environment (``process=True`` only)
    :param timeout: seconds a ``process=True`` run may take
    """
    if process:
        if cls is not None:
            raise ValueError("run_check: cls= runs in-process only")
        script = os.path.join(os.path.dirname(sys.executable), "osops")
        proc = subprocess.run(
            [script, "check", "run", name, *args],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=timeout,
            check=False,
        )
        return CheckRun(proc.returncode, proc.stdout, proc.stderr)
    from osops.check import runner

    out = io.StringIO()
    load = (lambda _name: cls) if cls is not None else None
    code = runner.main([name, *args], out=out, load=load)
    return CheckRun(code, out.getvalue())


def assert_perfdata_declared(run: CheckRun, check: type[Any], absent: Sequence[str] = ()) -> None:
    """Emitted perfdata equals the declared perfdata, both ways, units included.

    :param check: the check class (its ``perfdata`` declarations)
    :param absent: declared labels this run is not expected to emit
    """
    declared = {perf.label: perf for perf in check.perfdata}
    emitted = {item.base_label for item in run.perfdata.values()}
    undeclared = sorted(emitted - set(declared))
    if undeclared:
        raise AssertionError(
            f"emitted but not declared: {', '.join(undeclared)} (declared: {', '.join(declared)})"
        )
    missing = sorted(set(declared) - set(absent) - emitted)
    if missing:
        raise AssertionError(f"declared but not emitted: {', '.join(missing)}")
    for item in run.perfdata.values():
        uom = declared[item.base_label].uom
        if item.uom != uom:
            raise AssertionError(f"{item.label} printed in {item.uom!r}, declared {uom!r}")
