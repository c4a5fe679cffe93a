"""The cliff application behind every command but the lean ``check run`` and ``log parse``."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from cliff.app import App
from cliff.commandmanager import CommandManager

from osops import __version__
from osops.console import CHATTY_LIBRARIES, one_line_errors, printed


class OsopsApp(App):
    """osops: checks, log pipelines and dashboards for OpenStack operators."""

    def __init__(self) -> None:
        super().__init__(
            description=(
                "Shared operations toolkit for OpenStack operators: monitoring checks, "
                "log pipelines and dashboards, all as plugins. "
                "'osops plugin list' shows what is installed."
            ),
            version=__version__,
            command_manager=CommandManager("osops.cli"),
            deferred_help=True,
        )
        from osops.commands.complete import Complete

        # cliff's own, with the checks' names and options, and no need of bash-completion.
        self.command_manager.add_command("complete", Complete)

    def build_option_parser(
        self, description: str | None, version: str | None, argparse_kwargs: Any = None
    ) -> argparse.ArgumentParser:
        parser = super().build_option_parser(description, version, argparse_kwargs)
        return one_line_errors(parser)

    def configure_logging(self) -> None:
        super().configure_logging()
        if self.options.verbose_level < 2 and not self.options.debug:
            # Client libraries log every retry with a traceback; osops reports
            # the outcome in one line. -v -v (or --debug) shows them again.
            for name in CHATTY_LIBRARIES:
                logging.getLogger(name).setLevel(logging.CRITICAL)

    def prepare_to_run_command(self, cmd: Any) -> None:
        make_parser = cmd.get_parser
        # cliff's epilog names the distribution behind a command, which it finds
        # by reading the metadata of every installed distribution: 160 ms on
        # each start of every command. Only help shows it, so only help pays.
        cmd.get_epilog = lambda: cmd._epilog or ""

        def get_parser(prog_name: str) -> argparse.ArgumentParser:
            parser = one_line_errors(make_parser(prog_name))
            format_help = parser.format_help

            def with_epilog() -> str:
                parser.epilog = type(cmd).get_epilog(cmd)
                return format_help()

            parser.format_help = with_epilog  # type: ignore[method-assign]
            return parser

        cmd.get_parser = get_parser


def run(args: list[str]) -> int:
    """Run one cliff command line; no arguments shows the help.

    The app writes to the standard output it was made with; while it runs, a
    guard stands in for ``sys.stdout`` and keeps what plugins print off it
    (a filter's print would corrupt the JSON lines).
    """
    from osops import guard

    app = OsopsApp()
    with guard.stdout_guarded(printed):
        return int(app.run(args or ["--help"]))
