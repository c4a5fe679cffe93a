"""The osops command: help, version, errors and exit codes."""

from __future__ import annotations

import subprocess

import pytest
from helpers import OSOPS, ROOT, run_osops

from osops import __version__


def test_version() -> None:
    proc = run_osops("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"osops {__version__}"


def test_help_lists_commands_from_entry_points() -> None:
    proc = run_osops("--help")
    assert proc.returncode == 0
    for command in ("check run", "plugin list", "plugin show", "plugin verify", "log parse"):
        assert command in proc.stdout


def test_no_arguments_shows_help_instead_of_a_shell() -> None:
    proc = run_osops()
    assert proc.returncode == 0
    assert "plugin list" in proc.stdout


def test_help_for_one_command() -> None:
    proc = run_osops("help", "check", "run")
    assert proc.returncode == 0
    assert "Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN." in " ".join(proc.stdout.split())


def test_bad_option_is_one_line_on_stderr() -> None:
    proc = run_osops("plugin", "list", "--kind", "nonsense")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "--kind" in proc.stderr and "nonsense" in proc.stderr


def test_failing_command_is_one_line_without_traceback() -> None:
    proc = run_osops("plugin", "show", "check", "no_such_check")
    assert proc.returncode == 1
    assert proc.stderr.startswith("no check named 'no_such_check' (installed: ")
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_command_exits_non_zero() -> None:
    proc = run_osops("frobnicate")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stdout + proc.stderr


# `osops log parse` skips cliff (osops.commands.lean); cliff's own route must say the same.
_CLIFF = (
    "import sys; sys.argv[0] = 'osops'; from osops import app; sys.exit(app.run(sys.argv[1:]))"
)
SAMPLE = ROOT / "contrib" / "logging" / "samples" / "hp-ms-01-c29.nova-api.log"


@pytest.mark.parametrize(
    "args",
    [
        (str(SAMPLE), "--jobs", "1"),
        (str(SAMPLE), "--format", "text", "--level", "warning"),
        ("/nonexistent.log",),
        ("--jobs", "0", str(SAMPLE)),
        ("--no-such-option", str(SAMPLE)),
        (str(SAMPLE), "--filter", "no_such_filter"),
        (str(SAMPLE), "--since", "tomorrow"),
        (str(SAMPLE), "-o", "/proc/nope/out.json"),
        (),
        # cliff's own options, anywhere on the line
        (str(SAMPLE), "-q"),
        (str(SAMPLE), "-v", "-v", "--jobs", "1"),
        (str(SAMPLE), "--version"),
        (str(SAMPLE), "--verb"),
        ("--help",),
    ],
)
def test_log_parse_says_what_cliff_says(args: tuple[str, ...]) -> None:
    lean = run_osops("log", "parse", *args)
    cliff = subprocess.run(
        [str(OSOPS.parent / "python"), "-c", _CLIFF, "log", "parse", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (lean.returncode, lean.stdout, lean.stderr) == (
        cliff.returncode,
        cliff.stdout,
        cliff.stderr,
    )
    assert "Traceback" not in lean.stderr


def test_log_parse_takes_no_detour_through_cliff() -> None:
    code = (
        "import sys; from osops.shell import main; main(['log', 'parse', '/dev/null']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cliff', 'stevedore')))"
    )
    done = subprocess.run(
        [str(OSOPS.parent / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_log_parse_with_debug_is_cliffs_with_its_traceback() -> None:
    proc = run_osops("log", "parse", "/nonexistent.log", "--debug")
    assert proc.returncode == 1
    assert proc.stderr.startswith("/nonexistent.log: No such file or directory\nTraceback")
