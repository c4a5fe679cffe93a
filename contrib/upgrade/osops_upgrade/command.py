"""``osops upgrade audit``: configuration findings between two releases, as a list."""

from __future__ import annotations

import argparse
from typing import Any

from cliff.lister import Lister

from osops.exceptions import OsopsError

#: Exit status for osops's own errors (a bad option, an unreadable file, no data).
USAGE_EXIT = 2


class AuditUpgrade(Lister):
    """Audit oslo.config files against a later release: removed, renamed, deprecated options.

    One row per finding. Exit status 0 when nothing is removed, unknown,
    value-removed or invalid; 1 when something is; 2 for osops's own errors.
    """

    status = 0

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        parser.add_argument(
            "paths",
            metavar="FILE|DIR",
            nargs="+",
            help="configuration files, .conf.d dirs, policy files (.yaml, .json)",
        )
        parser.add_argument(
            "--service", required=True, help="nova, neutron, cinder, glance, keystone, placement"
        )
        parser.add_argument(
            "--from",
            dest="start",
            metavar="RELEASE",
            help="release the files were written for: series (2025.1) or version "
            "(default: the oldest in the data)",
        )
        parser.add_argument(
            "--to",
            dest="target",
            metavar="RELEASE",
            help="release to upgrade to (default: the newest in the data)",
        )
        parser.add_argument("--junit", metavar="FILE", help="also write JUnit XML here")
        return parser

    def take_action(self, parsed_args: Any) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        from osops_upgrade import audit, junit

        findings, start, target = audit.audit(
            parsed_args.service, parsed_args.paths, parsed_args.start, parsed_args.target
        )
        if parsed_args.junit:
            junit.write(parsed_args.junit, parsed_args.service, start, target, findings)
        self.status = int(any(f.finding in audit.FAILING for f in findings))
        self.app.stderr.write(
            f"{parsed_args.service} {start.series} ({start.version}) -> "
            f"{target.series} ({target.version}): {len(findings)} findings\n"
        )
        return audit.COLUMNS, [f.row() for f in findings]

    def run(self, parsed_args: Any) -> int:
        try:
            status = int(super().run(parsed_args))
        except OsopsError as exc:
            self.app.stderr.write(f"{exc}\n")
            return USAGE_EXIT
        return status or self.status
