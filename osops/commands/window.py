"""The time and level window of the log commands: --since, --until and --level."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from osops.log import pipeline
from osops.log.window import LEVELS, needs_first_time, window_options

#: The filter --since, --until and --level add (osops.log.window).
WINDOW = "window"


def add_window_options(parser: argparse.ArgumentParser) -> None:
    """``--since``, ``--until`` and ``--level``."""
    parser.add_argument(
        "--since",
        metavar="TIME",
        help="only records from this time on: YYYY-MM-DD[THH:MM[:SS]] or HH:MM[:SS] (on the "
        "date of --until, else of the first record read), as the logs write it (no time zone)",
    )
    parser.add_argument(
        "--until",
        metavar="TIME",
        help="only records before this time (exclusive; a time alone before --since is on "
        "the next day)",
    )
    parser.add_argument(
        "--level",
        type=str.upper,
        choices=tuple(LEVELS),
        metavar="LEVEL",
        help="only records at this level or above (DEBUG, INFO, AUDIT, WARNING, ERROR, CRITICAL)",
    )


def chain(
    parsed_args: Any,
    manager: Any = None,
    paths: Sequence[str] | None = None,
    window: bool = True,
) -> pipeline.Chain:
    """The chain of ``--filter`` steps, the window of ``--since/--until/--level`` last.

    :param manager: the filters' stevedore manager (tests), else the installed ones
    :param paths: the files, readable twice, where a time alone must take the
        date of the first record read
    :param window: add the window (the options given)
    """
    names, pairs = parsed_args.filters, list(parsed_args.filter_options)
    since, until = getattr(parsed_args, "since", None), getattr(parsed_args, "until", None)
    level = getattr(parsed_args, "level", None)
    if window and (since or until or level):
        plain = pipeline.build_chain(names, pairs, parsed_args.max_line_size, manager)
        first = (r for path in paths or parsed_args.files for r in plain.records(path))
        pairs += window_options(since, until, level, first)
        names = [*(names or pipeline.default_filters(manager)), WINDOW]
    return pipeline.build_chain(names, pairs, parsed_args.max_line_size, manager)


@contextlib.contextmanager
def readable(parsed_args: Any) -> Iterator[list[str]]:
    """The files, streams kept in a temporary file when they must be read twice.

    A time alone in ``--since/--until`` is on the date of the first record,
    which is read before the rest: standard input and FIFOs are kept first.
    """
    since, until = getattr(parsed_args, "since", None), getattr(parsed_args, "until", None)
    if needs_first_time(since, until) and any(pipeline.is_stream(p) for p in parsed_args.files):
        with pipeline.seekable(parsed_args.files) as paths:
            yield paths
    else:
        yield list(parsed_args.files)
