"""Commands on plugins: list, show, verify and document every installed plugin of every kind."""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from cliff.command import Command
from cliff.lister import Lister
from cliff.show import ShowOne

from osops import inventory, plugins
from osops.commands.common import DocumentCommand, Plugins, StatusLister, add_output
from osops.exceptions import OsopsError, RequirementMissing
from osops.kinds import KINDS


def _summary(obj: Any) -> str:
    doc = inspect.getdoc(obj) if isinstance(obj, type) and obj.__doc__ else ""
    return doc.strip().splitlines()[0] if doc else ""


class OfKind(Plugins, Command):
    """A command over the installed plugins: every kind, or the one ``--kind`` names."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        parser.add_argument("--kind", choices=sorted(KINDS), help="only this kind")
        return parser

    def inspect(self, parsed_args: Any) -> list[inventory.PluginInfo]:
        """The plugins ``--kind`` asks for, each loaded and checked."""
        kinds = [parsed_args.kind] if parsed_args.kind else None
        return inventory.inspect(kinds, self.managers)


class ListPlugin(OfKind, Lister):
    """List installed plugins of every kind, with their distribution and status."""

    def take_action(self, parsed_args: Any) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        columns = ("Kind", "Name", "Distribution", "Version", "Summary", "Status")
        rows = [
            (
                info.entry.kind,
                info.entry.name,
                info.entry.distribution,
                info.entry.version,
                _summary(info.obj),
                info.status,
            )
            for info in self.inspect(parsed_args)
        ]
        return columns, rows


def _describe_arguments(arguments: Any) -> str:
    lines = []
    for arg in arguments:
        flags = [arg.kind]
        if arg.required:
            flags.append("required")
        if arg.repeatable:
            flags.append("repeatable")
        if arg.secret:
            flags.append("secret")
        if arg.default is not None and not arg.secret:
            flags.append(f"default {arg.default!r}")
        if arg.choices:
            flags.append("one of " + "|".join(arg.choices))
        lines.append(f"{arg.name} ({', '.join(flags)}): {arg.help}")
    return "\n".join(lines)


def _describe_perfdata(perfdata: Any) -> str:
    lines = []
    for perf in perfdata:
        extra = [f"unit {perf.uom!r}"] if perf.uom else []
        if perf.warning is not None:
            extra.append(f"warning {perf.warning}")
        if perf.critical is not None:
            extra.append(f"critical {perf.critical}")
        if perf.per:
            extra.append(f"per {perf.per}")
        suffix = f" ({', '.join(extra)})" if extra else ""
        lines.append(f"{perf.label}{suffix}: {perf.help}")
    return "\n".join(lines)


class ShowPlugin(ShowOne):
    """Show one plugin's metadata: summary, arguments, perfdata and status."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        parser.add_argument("kind", choices=sorted(KINDS), help="plugin kind")
        parser.add_argument("name", help="plugin name")
        return parser

    def take_action(self, parsed_args: Any) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        from osops import conformance

        entry = plugins.find(parsed_args.kind, parsed_args.name)
        data: dict[str, Any] = {
            "kind": entry.kind,
            "name": entry.name,
            "distribution": entry.distribution,
            "version": entry.version,
            "entry_point": entry.value,
        }
        try:
            obj = plugins.load_entry(entry)
        except RequirementMissing as exc:  # what plugin list says: missing: ... (pip install ...)
            data["status"] = exc.reason
            return tuple(data), tuple(data.values())
        except OsopsError as exc:
            data["status"] = f"broken: {exc}"
            return tuple(data), tuple(data.values())
        problems = conformance.problems(entry.kind, entry.name, obj)
        data["summary"] = _summary(obj)
        data["description"] = (inspect.getdoc(obj) or "").partition("\n")[2].strip()
        for attr in KINDS[entry.kind].shown:
            data[attr] = getattr(obj, attr)
        # build: how a plugin with compiled parts was built (compiled, or pure Python).
        if hasattr(obj, "build"):
            data["build"] = obj.build
        if hasattr(obj, "arguments"):
            data["arguments"] = _describe_arguments(obj.arguments)
        if hasattr(obj, "perfdata"):
            data["perfdata"] = _describe_perfdata(obj.perfdata)
        data["status"] = "ok" if not problems else "broken: " + "; ".join(problems)
        return tuple(data), tuple(data.values())


class VerifyPlugin(OfKind, StatusLister):
    """Run the conformance checks over every installed plugin; non-zero if any fails."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        parser.add_argument(
            "--dist", metavar="NAME", help="only the plugins of this distribution (e.g. osops-ntp)"
        )
        return parser

    def take_action(self, parsed_args: Any) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        columns = ("Kind", "Name", "Distribution", "Problem")
        infos = self.inspect(parsed_args)
        strays = inventory.strays()
        scope = ""
        if parsed_args.dist:
            wanted = inventory.distribution_key(parsed_args.dist)
            infos = [i for i in infos if i.entry.distribution == wanted]
            strays = [s for s in strays if s.distribution == wanted]
            scope = f" of {wanted}"
        failures = [i for i in infos if not i.ok]
        rows = [(i.entry.kind, i.entry.name, i.entry.distribution, i.status) for i in failures]
        rows += [
            (s.group, ", ".join(s.names), s.distribution, f"warning: {s.warning}") for s in strays
        ]
        for stray in strays:
            self.app.stderr.write(f"warning: {stray.distribution}: {stray.warning}\n")
        if parsed_args.dist and not infos:
            self.status = 1
            self.app.stderr.write(f"no plugins{scope} installed (osops plugin list shows where)\n")
            return columns, rows
        self.status = int(bool(failures))
        warned = f"; {len(strays)} warning{'s' * (len(strays) != 1)}" if strays else ""
        if failures:
            self.app.stderr.write(
                f"{len(failures)} of {len(infos)} plugins{scope} fail conformance{warned}\n"
            )
        else:
            self.app.stderr.write(f"all {len(infos)} plugins{scope} conform{warned}\n")
        return columns, rows


class NewPlugin(Command):
    """Write a package with a new plugin of any kind: code, tests, packaging, ready to install."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        parser.add_argument("kind", choices=sorted(KINDS), help="plugin kind")
        parser.add_argument("name", help="entry point name, short snake_case (ntp_offset)")
        parser.add_argument(
            "--dist", metavar="DIST", help="distribution name (default: osops-NAME)"
        )
        parser.add_argument(
            "-o",
            "--output",
            metavar="DIR",
            help="the package's directory (default: ./DIST); an existing package gets the plugin",
        )
        return parser

    def take_action(self, parsed_args: Any) -> int:
        from pathlib import Path

        from osops import scaffold

        directory = Path(parsed_args.output) if parsed_args.output else None
        written = scaffold.create(parsed_args.kind, parsed_args.name, parsed_args.dist, directory)
        for path in written:
            self.app.stdout.write(f"{path}\n")
        return 0


class DocPlugin(OfKind, DocumentCommand):
    """Write the Markdown reference of every installed plugin, generated from its metadata."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = super().get_parser(prog_name)
        add_output(parser)
        return parser

    def document(self, parsed_args: Any) -> str:
        from osops import docs

        return docs.markdown(self.inspect(parsed_args))
