"""``osops log parse`` without cliff: its options and its work, for cliff and the lean route.

``log parse`` runs over gigabytes, in pipes and in scripts; cliff's
application costs about 70 ms of every start (its command manager,
stevedore, autopage), a tenth of parsing 300k lines on two cores. The
console script (:mod:`osops.shell`) sends ``osops log parse ...`` straight
to :func:`main` unless help is asked for; cliff's command
(:class:`osops.commands.log.ParseLog`) builds its parser with
:func:`add_parse_options` and runs :func:`parse`, so the two cannot differ.
This module imports nothing of cliff.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import IO, Any

from osops import guard
from osops.commands import window as _window
from osops.console import CHATTY_LIBRARIES, one_line_errors, printed
from osops.exceptions import LogError
from osops.log import pipeline, prefilter, progress, text
from osops.log.base import MAX_LINE

PROG = "osops log parse"
DESCRIPTION = "Parse log files into structured records: JSON lines (ECS fields) or text."
#: The exit statuses cliff gives a command killed by SIGPIPE or interrupted.
SIGPIPE_EXIT, SIGINT_EXIT = 141, 130


def byte_count(text: str) -> int:
    """argparse type: a number of bytes from 1 to 1 GiB."""
    return _whole(text, " of bytes", 1, 1 << 30, " bytes")


def job_count(text: str) -> int:
    """argparse type: a number of worker processes, 1 or more."""
    return _whole(text, "", 1)


def _whole(text: str, of: str, low: int, high: int | None = None, unit: str = "") -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number{of}") from None
    if high is not None and not low <= number <= high:
        raise argparse.ArgumentTypeError(f"{number}: must be from {low} to {high}{unit}")
    if number < low:
        raise argparse.ArgumentTypeError(f"{number}: must be {low} or more")
    return number


def add_chain_options(parser: argparse.ArgumentParser) -> None:
    """The files and the filter chain's options, shared by every log command."""
    parser.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        help="log files (.gz too), pipes and FIFOs; - is standard input",
    )
    parser.add_argument(
        "--filter",
        dest="filters",
        action="append",
        metavar="NAME",
        help="filter step, repeatable, in order (default: "
        f"{', '.join(pipeline.default_filters())}; redact is appended when missing)",
    )
    parser.add_argument(
        "--filter-option",
        dest="filter_options",
        action="append",
        default=[],
        metavar="FILTER.KEY=VALUE",
        help="option of one filter, e.g. parse.format=oslo",
    )
    parser.add_argument(
        "--max-line-size",
        type=byte_count,
        default=MAX_LINE,
        metavar="BYTES",
        help=f"longest line kept whole (default {MAX_LINE}); a longer one keeps "
        "this many bytes and is marked '[truncated by osops: line of N bytes]'",
    )


def add_parse_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Every option of ``osops log parse``."""
    add_chain_options(parser)
    parser.add_argument(
        "--format",
        choices=("json", "text"),
        default="json",
        help="json: one ECS object per line (default); text: for people",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write here instead of standard output"
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=job_count,
        metavar="N",
        help="worker processes for big files (default: the CPUs available, at most 8)",
    )
    _window.add_window_options(parser)
    return parser


def parse(parsed_args: Any, stdout: IO[str], stderr: IO[str], manager: Any = None) -> int:
    """Write the records of ``parsed_args.files`` as ``osops log parse`` does.

    :param manager: the filters' stevedore manager (tests), else the installed ones
    :raises OsopsError: a file, the output or a filter option is wrong
    """
    with _window.readable(parsed_args) as paths:
        return _parse(parsed_args, paths, stdout, stderr, manager)


def _parse(
    parsed_args: Any, paths: list[str], stdout: IO[str], stderr: IO[str], manager: Any
) -> int:
    from osops.log import parallel

    jobs = parsed_args.jobs or parallel.default_jobs()
    chain = _window.chain(parsed_args, manager, paths)
    out: IO[bytes]
    try:
        out = open(parsed_args.output, "wb") if parsed_args.output else stdout.buffer  # type: ignore[attr-defined]  # noqa: SIM115
    except OSError as exc:
        raise LogError(f"--output {parsed_args.output}: {exc.strerror}") from None
    # Records to the terminal need no progress line over them.
    watched = parsed_args.output or not progress.watching(stdout)
    bar = progress.start(stderr, progress.total_size(paths)) if watched else None
    try:
        stdout.flush()
        if parsed_args.format == "json":
            parallel.write_json_lines(chain, paths, out, jobs, bar)
        else:
            for path in paths:
                records = chain.records(path)
                for record in bar.records_of(records) if bar else records:
                    out.write((text.line(record) + "\n").encode())
    finally:
        if bar is not None:
            bar.close()
        if parsed_args.output:
            out.close()
        else:
            out.flush()
    return 0


def main(argv: Sequence[str]) -> int:
    """``osops log parse ARGS`` as cliff runs it, without cliff: same options, output, errors.

    As cliff's application at its default verbosity: messages of INFO and
    above on standard error, the chatty client libraries quiet, an error in
    one line and exit 1, 141 on a closed pipe, 130 on Ctrl-C. A line with
    what only cliff takes (its global options, -v, -q, --debug, --log-file,
    --version, anywhere on the line) goes to cliff.
    """
    stdout, stderr = sys.stdout, sys.stderr
    prefilter.compile_soon()  # on a second core while the filters are imported
    with guard.stdout_guarded(printed):
        # Inside the guard: the options' help names the filters, which imports them.
        parser = one_line_errors(argparse.ArgumentParser(prog=PROG, description=DESCRIPTION))
        parsed_args, rest = add_parse_options(parser).parse_known_args(list(argv))
    if rest:
        from osops import app

        return app.run(["log", "parse", *argv])
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler(stderr)
    console.setLevel(logging.INFO)
    console.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(console)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        with guard.stdout_guarded(printed):
            return parse(parsed_args, stdout, stderr)
    except BrokenPipeError:
        return SIGPIPE_EXIT
    except KeyboardInterrupt:
        return SIGINT_EXIT
    except Exception as exc:  # as cliff: the error's own words, one line
        logging.getLogger(PROG).error(exc)
        return 1
