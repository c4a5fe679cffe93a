"""A check author's mistakes, each caught at run time with a message naming the check."""

from __future__ import annotations

import io
import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from osops.check import runner
from osops.check.base import Check, Perf, metric
from osops.exceptions import CheckError
from osops.testing import run_check, silent_listener


class Offset(Check):
    """Clock offset, as an NTP check would report it."""

    perfdata = (Perf("offset", "Seconds off.", uom="s", warning="0.5", critical="1"),)

    def probe(self) -> Iterator[Any]:
        yield metric("offset", 8e-06)


class Prints(Offset):
    """Prints while probing."""

    def probe(self) -> Iterator[Any]:
        print("debug: offset 8e-06")
        yield metric("offset", 8e-06)


class Exits(Offset):
    """Exits while probing."""

    def probe(self) -> Iterator[Any]:
        sys.exit(0)
        yield metric("offset", 0)


class Halt(BaseException):
    """Not an Exception: escapes `except Exception`."""


class Halts(Offset):
    """Raises a BaseException subclass."""

    def probe(self) -> Iterator[Any]:
        raise Halt("stop everything")
        yield metric("offset", 0)


class Interrupted(Offset):
    """Ctrl-C while probing."""

    def probe(self) -> Iterator[Any]:
        raise KeyboardInterrupt
        yield metric("offset", 0)


class Undeclared(Offset):
    """Emits a label it never declared."""

    def probe(self) -> Iterator[Any]:
        yield metric("delay", 0.1)


class UnitInRange(Offset):
    """A default threshold with a unit in it."""

    perfdata = (Perf("offset", "Seconds off.", uom="s", warning="0.5s"),)


class OwnTimeout(Offset):
    """Reads a server with its own deadline equal to the timeout it was given."""

    port = 0  # set by the test

    def probe(self) -> Iterator[Any]:
        port = self.port
        with socket.create_connection(("127.0.0.1", port), self.timeout) as conn:
            conn.settimeout(self.timeout)
            try:
                conn.recv(1)
            except TimeoutError:
                raise CheckError(
                    f"127.0.0.1:{port} did not answer within {self.timeout:g}s"
                ) from None
        yield metric("offset", 0)


def test_a_sound_check_prints_perfdata_without_exponents() -> None:
    run = run_check("offset", cls=Offset)
    assert run.output == "OFFSET OK - offset is 8e-06s | offset=0.000008s;0.5;1\n"
    assert run.perfdata["offset"].value == 8e-06


def test_print_in_probe_is_unknown_naming_the_check_and_keeps_the_status_line() -> None:
    run = run_check("ntp_offset", cls=Prints)
    assert (run.exit_code, run.output) == (
        3,
        "NTP_OFFSET UNKNOWN - check 'ntp_offset' printed 'debug: offset 8e-06' to standard "
        "output during probe; osops kept it off the status line (log it, or yield Detail(text))\n",
    )
    as_json = json.loads(run_check("ntp_offset", "--output-format", "json", cls=Prints).output)
    assert (as_json["state"], as_json["details"]) == (
        "UNKNOWN",
        ["the result it would have had: OK - offset is 8e-06s"],
    )


def test_print_at_import_is_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "noisy_plugin.py").write_text(
        "from osops.check.base import Check\nprint('loading noisy')\n"
        "class Noisy(Check):\n    '''Noisy.'''\n    def probe(self):\n        return ()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    def load(name: str) -> type[Check]:
        import noisy_plugin

        cls: type[Check] = noisy_plugin.Noisy
        return cls

    out = io.StringIO()
    assert runner.main(["noisy"], out=out, load=load) == 3
    assert out.getvalue() == (
        "NOISY UNKNOWN - check 'noisy' printed 'loading noisy' to standard output during "
        "import; osops kept it off the status line (log it, or yield Detail(text))\n"
    )


def test_sys_exit_in_probe_is_unknown_never_the_exit_it_chose() -> None:
    run = run_check("ntp_offset", cls=Exits)
    assert (run.exit_code, run.output) == (
        3,
        "NTP_OFFSET UNKNOWN - check 'ntp_offset' called sys.exit(0); a check raises CheckError "
        "(UNKNOWN) or ServiceDown (CRITICAL) and never exits\n",
    )


def test_a_base_exception_from_a_check_is_unknown() -> None:
    run = run_check("ntp_offset", cls=Halts)
    assert (run.exit_code, run.output) == (
        3,
        "NTP_OFFSET UNKNOWN - check 'ntp_offset' raised Halt: stop everything\n",
    )


def test_ctrl_c_is_not_swallowed() -> None:
    with pytest.raises(KeyboardInterrupt):
        run_check("ntp_offset", cls=Interrupted)


def test_an_undeclared_label_lists_the_declared_ones() -> None:
    run = run_check("ntp_offset", cls=Undeclared)
    assert (run.exit_code, run.output) == (
        3,
        "NTP_OFFSET UNKNOWN - check 'ntp_offset' emitted undeclared metric 'delay' "
        "(declared perfdata: offset)\n",
    )


def test_a_unit_in_a_default_threshold_is_named_at_run_time() -> None:
    run = run_check("ntp_offset", cls=UnitInRange)
    assert (run.exit_code, run.output) == (
        3,
        "NTP_OFFSET UNKNOWN - check 'ntp_offset' declares default warning '0.5s' for 'offset', "
        "which is no Nagios range (e.g. '0.5', '10:', '~:2'; the unit belongs in uom='s')\n",
    )
    # Given on the command line instead, the default is not used and the check runs.
    assert run_check("ntp_offset", "-w", "offset=0.5", cls=UnitInRange).exit_code == 0


def test_a_checks_own_deadline_equal_to_the_timeout_beats_the_alarm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with silent_listener() as port:
        monkeypatch.setattr(OwnTimeout, "port", port)
        run = run_check("ntp_offset", "-t", "1", cls=OwnTimeout)
    assert (run.exit_code, run.output) == (
        3,
        f"NTP_OFFSET UNKNOWN - 127.0.0.1:{port} did not answer within 1s\n",
    )


def test_in_a_suite_a_printing_check_is_unknown_and_an_exiting_one_too(tmp_path: Path) -> None:
    from osops import guard
    from osops.check import suite

    path = tmp_path / "suite.yaml"
    path.write_text(
        "checks:\n  - {name: noisy, check: prints}\n  - {name: quits, check: exits}\n"
        "  - {name: fine, check: offset}\n"
    )
    classes: dict[str, type[Check]] = {"prints": Prints, "exits": Exits, "offset": Offset}
    with guard.stdout_guarded():
        results = suite.run(suite.load(str(path)), load=classes.__getitem__)
    assert [(r.name, r.state.name, r.summary) for r in results] == [
        (
            "noisy",
            "UNKNOWN",
            "check 'noisy' printed 'debug: offset 8e-06' to standard output during probe; "
            "osops kept it off the status line (log it, or yield Detail(text))",
        ),
        (
            "quits",
            "UNKNOWN",
            "check 'quits' called sys.exit(0); a check raises CheckError (UNKNOWN) or "
            "ServiceDown (CRITICAL) and never exits",
        ),
        ("fine", "OK", "offset is 8e-06s"),
    ]
