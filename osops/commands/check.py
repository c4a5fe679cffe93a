"""Commands on checks: run one, run a suite of them, export their monitoring configuration."""

from __future__ import annotations

import argparse
from typing import Any

from cliff.command import Command

from osops.commands.common import DocumentCommand, StatusLister, add_output
from osops.exceptions import UsageError


class RunCheck(Command):
    """Run one monitoring check and print its result as a Nagios plugin would."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        from osops.check.settings import usage_text

        parser.epilog = (
            f"{usage_text()} 'osops check run NAME --help' shows a check's own options. "
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


class SuiteCheck(StatusLister):
    """Run a suite of checks from a YAML file concurrently; exit with the worst state."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        parser.add_argument("suite", metavar="FILE", help="YAML: checks: [{check, name, options}]")
        parser.add_argument("--junit", metavar="FILE", help="also write JUnit XML here")
        parser.add_argument(
            "--save", metavar="FILE", help="also write the results as JSON, for a later --compare"
        )
        parser.add_argument(
            "--prometheus-textfile",
            metavar="DIR",
            help="also write the results for node_exporter's textfile collector into DIR",
        )
        parser.add_argument(
            "--compare",
            metavar="FILE",
            help="results saved before (e.g. before an upgrade): show what changed",
        )
        return parser

    def take_action(self, parsed_args: Any) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        import json

        from osops.check import junit, suite
        from osops.check.output import as_dict, prometheus_many
        from osops.files import write_atomically

        before = _saved_states(parsed_args.compare) if parsed_args.compare else None
        loaded = suite.load(parsed_args.suite)
        results = suite.run(loaded)
        self.status = int(suite.worst(results))
        if parsed_args.junit:
            write_atomically(
                parsed_args.junit,
                junit.render(loaded.path, results),
                what=f"--junit {parsed_args.junit}",
            )
        if parsed_args.prometheus_textfile:
            textfile = _textfile(parsed_args.prometheus_textfile, loaded.path)
            write_atomically(
                textfile, prometheus_many(results), what=f"--prometheus-textfile {textfile}"
            )
        if parsed_args.save:
            text = json.dumps([as_dict(r) for r in results], indent=2) + "\n"
            write_atomically(parsed_args.save, text, what=f"--save {parsed_args.save}")
        columns: tuple[str, ...] = ("Name", "State", "Summary", "Duration")
        rows: list[tuple[Any, ...]] = [
            (r.name, r.state.name, r.summary, round(r.duration, 3)) for r in results
        ]
        if before is not None:
            columns += ("Before", "Changed")
            rows = [
                (
                    *row,
                    before.get(r.name, "-"),
                    "yes" if before.get(r.name) != r.state.name else "",
                )
                for row, r in zip(rows, results, strict=True)
            ]
            changed = sum(1 for row in rows if row[-1])
            self.app.stderr.write(
                f"{changed} of {len(rows)} checks changed state since {parsed_args.compare}\n"
            )
        return columns, rows


def _textfile(directory: str, suite_path: str) -> str:
    """``DIR/osops_<suite>.prom``: one file per suite, so suites never overwrite each other."""
    import os
    import re

    if not os.path.isdir(directory):
        raise UsageError(f"--prometheus-textfile {directory}: not a directory")
    stem = re.sub(r"[^A-Za-z0-9_]", "_", os.path.splitext(os.path.basename(suite_path))[0])
    return os.path.join(directory, f"osops_{stem}.prom")


def _saved_states(path: str) -> dict[str, str]:
    import json

    try:
        with open(path) as fh:
            data = json.load(fh)
        return {item["check"]: item["state"] for item in data}
    except OSError as exc:
        raise UsageError(f"--compare {path}: {exc.strerror}") from None
    except (ValueError, TypeError, KeyError):
        raise UsageError(f"--compare {path}: not results written by --save") from None


class ExportCheck(DocumentCommand):
    """Export monitoring configuration for installed checks: Icinga 2, Nagios 4 or JSON."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        from osops.check.export import FORMATS

        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        parser.add_argument("--format", choices=FORMATS, default="icinga2", help="default icinga2")
        add_output(parser)
        parser.add_argument(
            "--services",
            action="store_true",
            help="icinga2: add example Service apply rules keyed on host vars",
        )
        parser.add_argument(
            "--osops",
            metavar="PATH",
            help="osops script to call (default: the one beside this Python)",
        )
        parser.add_argument(
            "--allow-broken",
            action="store_true",
            help="exit 0 when broken checks are left out (they are still named on stderr)",
        )
        parser.add_argument("checks", nargs="*", metavar="CHECK", help="only these checks")
        return parser

    #: One line per broken check left out of the export (stderr).
    broken: list[str]

    def take_action(self, parsed_args: Any) -> int:
        self.broken = []
        status = super().take_action(parsed_args)
        for line in self.broken:
            self.app.stderr.write(f"check export: {line}\n")
        if self.broken and not parsed_args.allow_broken:
            self.app.stderr.write(
                f"check export: {len(self.broken)} broken "
                f"check{'s' if len(self.broken) > 1 else ''} not exported "
                "(--allow-broken exports the others and exits 0)\n"
            )
            return 1
        return status

    def document(self, parsed_args: Any) -> str:
        from osops.check import export

        exportable = export.installed_checks(parsed_args.checks)
        self.broken = exportable.broken
        checks = exportable.checks
        command = parsed_args.osops or export.osops_command()
        if parsed_args.format == "icinga2":
            text = export.icinga2(checks, command, parsed_args.services)
        elif parsed_args.format == "nagios":
            text = export.nagios(checks, command)
        else:
            text = export.as_json(checks, command)
        return text
