"""The process of ``osops check run``: one check from argv to stdout and its exit code.

This is the lean route: it imports nagiosplugin, argparse and the one check
being run, and nothing of cliff or stevedore. Here a failure of any kind
becomes one safe line, and secrets never reach the output.
"""

from __future__ import annotations

import errno
import os
import sys

import nagiosplugin

from osops import guard, plugins
from osops.check import secrets
from osops.check.base import Check, State
from osops.check.output import render
from osops.check.result import CheckResult
from osops.check.settings import build_parser, parse
from osops.exceptions import OsopsError, ServiceDown, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Callable, Sequence
    from typing import Any


def load_check(name: str) -> type[Check]:
    """Find and import one check class, without importing any other plugin.

    :raises PluginNotFound: no such check is installed
    :raises PluginLoadError: it is installed but broken
    """
    cls: type[Check] = plugins.load("check", name)
    return cls


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
    elif isinstance(exc, SystemExit):
        message = (
            f"check {name!r} called sys.exit({exc.code!r}); a check raises CheckError "
            "(UNKNOWN) or ServiceDown (CRITICAL) and never exits"
        )
    elif not isinstance(exc, Exception):
        message = f"check {name!r} raised {plugins.describe_error(exc)}"
    else:
        message = plugins.describe_error(exc)
    trace = []
    if verbose >= 3:
        import traceback  # only -vvv pays for it

        trace = traceback.format_exception(exc)
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
    # What the check prints (at import or in probe) is kept off the status line.
    with guard.stdout_guarded() as stdout:
        try:
            if not name:
                if any(a in ("-h", "--help") for a in argv):
                    out.write(USAGE + "\n")
                    return int(State.UNKNOWN)
                raise UsageError(USAGE)
            with guard.running(f"check {name!r} during import"):  # a load= of tests too
                cls = (load or load_check)(name)
            if any(a in ("-h", "--help") for a in argv[1:]):
                out.write(build_parser(name, cls).format_help())
                return int(State.UNKNOWN)
            settings, options = parse(name, cls, argv[1:])
            fmt = settings.output_format
            verbose = settings.verbose
            with guard.running(f"check {name!r} during probe"):
                check = cls(options, settings.timeout)
                result = check.run(name, settings.warning, settings.critical)
        except BaseException as exc:  # a check's own bug is UNKNOWN, never a traceback
            if not guard.plugin_fault(exc):
                raise
            result = failure(name, exc, verbose)
        printed = dict(stdout.caught)
    if printed:
        result = printed_result(result, *next(iter(printed.items())))
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


def printed_result(result: CheckResult, where: str, text: str) -> CheckResult:
    """UNKNOWN for a check that printed: its output would have replaced the status line.

    :param where: ``check 'NAME' during PHASE``, as it was marked running
    """
    summary = (
        f"{guard.printed(where, text)}; osops kept it off the status line "
        "(log it, or yield Detail(text))"
    )
    details = (f"the result it would have had: {result.state.name} - {result.summary}",)
    return CheckResult(result.name, State.UNKNOWN, summary, details=details, check=result.check)


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
