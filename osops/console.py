"""What every osops command line shares, through cliff or not: one-line usage errors,
quiet client libraries, plugins' prints reported. Imports nothing of osops.log."""

from __future__ import annotations

import argparse
import logging
from typing import NoReturn

from osops import guard

#: Client libraries that log every retry with a traceback; osops reports the
#: outcome in one line. -v -v (or --debug) shows them again (cliff's commands).
CHATTY_LIBRARIES = (
    "opensearch",
    "elasticsearch",
    "elastic_transport",
    "urllib3",
    "pika",
    "keystoneauth",
    "stevedore",
    "osops_logging",
    "osops_monitoring",
)


def one_line_errors(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Make ``parser`` say a usage error in one line, naming its ``--help``."""

    def error(message: str) -> NoReturn:
        parser.exit(2, f"{parser.prog}: error: {message} (see '{parser.prog} --help')\n")

    # argparse prints the whole usage block before the error; operators and
    # scripts want the one line that says what was wrong.
    parser.error = error  # type: ignore[method-assign]
    return parser


def printed(owner: str, text: str) -> None:
    """Report a plugin's write to standard output, which osops kept off it."""
    logging.getLogger("osops.guard").warning(
        "%s; osops kept it off (plugins log, never print)", guard.printed(owner, text)
    )
