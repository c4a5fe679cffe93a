"""Commands on checks: run one."""

from __future__ import annotations

import argparse
from typing import Any

from cliff.command import Command


class RunCheck(Command):
    """Run one monitoring check and print its result as a Nagios plugin would."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        parser.epilog = (
            "Every check takes -w/--warning and -c/--critical ([LABEL=]RANGE, repeatable), "
            "-t/--timeout SECONDS, -v (up to -vvv), --output-format nagios|json|prometheus "
            "and --config FILE. 'osops check run NAME --help' shows a check's own options. "
            "Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."
        )
        parser.add_argument(
            "check", metavar="NAME", help="check to run (osops plugin list --kind check)"
        )
        parser.add_argument("options", nargs=argparse.REMAINDER, help="options of the check")
        return parser

    def take_action(self, parsed_args: Any) -> int:
        # Reached only through cliff (e.g. 'osops --debug check run ...'); the
        # console script normally takes the lean route in osops.shell.
        from osops.check import runner

        return runner.main([parsed_args.check, *parsed_args.options])
