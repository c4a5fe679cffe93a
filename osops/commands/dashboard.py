"""Commands on dashboards: list and validate the tool-neutral definitions, export one."""

from __future__ import annotations

import argparse
from typing import Any

from cliff.lister import Lister

from osops.commands.common import DocumentCommand, Plugins, StatusLister, add_output


def _add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help="definitions directory (default: $OSOPS_DASHBOARDS, else the "
        "ones installed with osops)",
    )


class ListDashboard(Lister):
    """List dashboard definitions: name, title, panels and whether each is valid."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        _add_dir(parser)
        return parser

    def take_action(self, parsed_args: Any) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        from osops.dashboard import definitions
        from osops.exceptions import DashboardError

        rows = []
        for path in definitions.files(parsed_args.dir):
            try:
                board = definitions.load(path)
            except DashboardError as exc:
                name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                rows.append((name, "", 0, path, f"invalid: {exc}"))
                continue
            rows.append((board.name, board.title, len(board.panels), path, "ok"))
        return ("Name", "Title", "Panels", "File", "Status"), rows


class ValidateDashboard(StatusLister):
    """Validate dashboard definitions against the schema; non-zero naming each problem."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        _add_dir(parser)
        parser.add_argument("files", nargs="*", metavar="FILE", help="default: every definition")
        return parser

    def take_action(self, parsed_args: Any) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        from osops.dashboard import definitions

        paths = parsed_args.files or definitions.files(parsed_args.dir)
        found = [problem for path in paths for problem in definitions.problems(path)]
        self.status = int(bool(found))
        self.app.stderr.write(
            f"{len(paths)} definitions, {len(found)} problems\n"
            if found
            else f"{len(paths)} definitions valid\n"
        )
        return ("Problem",), [(problem,) for problem in found]


class ExportDashboard(Plugins, DocumentCommand):
    """Export one dashboard definition to a tool's format: grafana, kibana or html."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        _add_dir(parser)
        parser.add_argument("name", metavar="NAME", help="definition (osops dashboard list)")
        parser.add_argument(
            "--to",
            required=True,
            metavar="EXPORTER",
            help="grafana, kibana, html (osops plugin list --kind exporter)",
        )
        parser.add_argument(
            "--option",
            dest="options",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="exporter option, repeatable",
        )
        add_output(parser)
        return parser

    def document(self, parsed_args: Any) -> str:
        import os

        from osops import guard, plugins
        from osops.dashboard import definitions
        from osops.exceptions import DashboardError
        from osops.options import parse_options

        path = os.path.join(parsed_args.dir or definitions.directory(), f"{parsed_args.name}.yaml")
        if not os.path.exists(path):
            known = ", ".join(os.path.basename(p)[:-5] for p in definitions.files(parsed_args.dir))
            raise DashboardError(f"no dashboard named {parsed_args.name!r} (known: {known})")
        owner = f"exporter {parsed_args.to!r}"
        cls = plugins.load("exporter", parsed_args.to, self.manager("exporter"))
        options = parse_options(cls.arguments, parsed_args.options, owner)
        with guard.running(owner):  # what it prints stays off the document (osops.guard)
            text: str = cls(options).export(definitions.load(path))
        return text
