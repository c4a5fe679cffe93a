"""Commands on logs: parse, stats, trace and ship, over the configured filter chain."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from typing import Any

from cliff.command import Command
from cliff.lister import Lister

from osops.commands import lean
from osops.commands import window as _window
from osops.commands.common import Plugins, seconds
from osops.exceptions import LogError
from osops.log import pipeline, progress
from osops.log.record import LogRecord


def _chain(
    command: Plugins, parsed_args: Any, paths: Sequence[str] | None = None, window: bool = True
) -> pipeline.Chain:
    return _window.chain(parsed_args, command.manager("filter"), paths, window)


def _records(command: Plugins, parsed_args: Any, paths: Sequence[str]) -> Iterator[LogRecord]:
    chain = _chain(command, parsed_args, paths)
    for path in paths:
        yield from chain.records(path)


class ParseLog(Plugins, Command):
    """Parse log files into structured records: JSON lines (ECS fields) or text."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        return lean.add_parse_options(super().get_parser(prog_name))

    def take_action(self, parsed_args: Any) -> int:
        return lean.parse(parsed_args, self.app.stdout, self.app.stderr, self.manager("filter"))


class StatsLog(Plugins, Command):
    """Summarise logs: records by service and level, top errors, slow API calls, deprecations."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        lean.add_chain_options(parser)
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--top", type=int, default=10, help="rows per list (default 10)")
        _window.add_window_options(parser)
        return parser

    def take_action(self, parsed_args: Any) -> int:
        from osops.log.report import render
        from osops.log.stats import Stats

        stats = Stats(top=parsed_args.top)
        with _window.readable(parsed_args) as paths:
            bar = progress.start(self.app.stderr, progress.total_size(paths))
            records = _records(self, parsed_args, paths)
            try:
                stats.add(bar.records_of(records) if bar else records)
            finally:
                if bar is not None:
                    bar.close()
        data = stats.as_dict()
        if parsed_args.format == "json":
            import json

            self.app.stdout.write(json.dumps(data, indent=2) + "\n")
        else:
            self.app.stdout.write(render(data))
        return 0


class TraceLog(Plugins, Lister):
    """Follow one request (request id or global request id) across files, merged by time."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("request_id", metavar="ID", help="req-<uuid>, local or global")
        lean.add_chain_options(parser)
        _window.add_window_options(parser)
        return parser

    def take_action(self, parsed_args: Any) -> tuple[Sequence[str], list[tuple[Any, ...]]]:
        from osops.log import trace

        # Read twice: a pipe or standard input is first kept in a temporary file.
        # The ids are linked through every record; the window only picks what is shown.
        with pipeline.seekable(parsed_args.files) as paths:
            every = _chain(self, parsed_args, paths, window=False)
            found = trace.follow(
                lambda: (r for path in paths for r in every.records(path)),
                parsed_args.request_id,
                lambda: _records(self, parsed_args, paths),
            )
        if not found:
            raise LogError(
                f"no record of {parsed_args.request_id} in {len(parsed_args.files)} file(s)"
            )
        return trace.COLUMNS, [trace.row(record) for record in found]


class ShipLog(Plugins, Command):
    """Ship log files through the filter chain into a sink, checkpointing each accepted batch."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        lean.add_chain_options(parser)
        parser.add_argument(
            "--sink",
            default="jsonl",
            metavar="NAME",
            help="where records go (osops plugin list --kind sink)",
        )
        parser.add_argument(
            "--option",
            dest="sink_options",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="sink option, repeatable",
        )
        parser.add_argument(
            "--follow",
            action="store_true",
            help="keep shipping lines as they are written, across rotation",
        )
        parser.add_argument(
            "--state", metavar="FILE", help="offsets file: resume where the last run stopped"
        )
        parser.add_argument(
            "--retry-for",
            type=seconds,
            default=30.0,
            metavar="SECONDS",
            help="without --follow, how long a failing sink is retried "
            "(default 30; with --follow, until stopped)",
        )
        parser.add_argument(
            "--partial-after",
            type=seconds,
            default=5.0,
            metavar="SECONDS",
            help="with --follow, how long a file must stay unchanged before a last line "
            "without a newline is shipped as it is (default 5); it is shipped once",
        )
        parser.add_argument(
            "--format", choices=("text", "json"), default="text", help="of the closing summary"
        )
        return parser

    def take_action(self, parsed_args: Any) -> int:
        import json
        import signal
        import threading
        import time

        from osops.log import ship

        chain = _chain(self, parsed_args)
        sink = pipeline.build_sink(
            parsed_args.sink, parsed_args.sink_options, self.manager("sink")
        )
        state = ship.State(parsed_args.state)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        started = time.monotonic()
        # A person watching standard error sees bytes, records, rate and time left.
        total = None
        if not parsed_args.follow:
            offsets = [state.start(path)[0] for path in parsed_args.files]
            total = progress.total_size(parsed_args.files, offsets)
        bar = progress.start(self.app.stderr, total, "shipped")
        shipped = ship.ship(
            parsed_args.files,
            chain,
            sink,
            state,
            follow=parsed_args.follow,
            stop=stop,
            progress=bar.advance if bar else None,
            retry_limit=parsed_args.retry_for,
            partial_after=parsed_args.partial_after,
        )
        if bar is not None:
            bar.close()
        summary = {
            "shipped": shipped,
            "files": len(parsed_args.files),
            "sink": parsed_args.sink,
            "seconds": round(time.monotonic() - started, 3),
            "send_errors": getattr(sink, "send_errors", 0),
        }
        if parsed_args.format == "json":
            self.app.stdout.write(json.dumps(summary) + "\n")
        else:
            count = summary["send_errors"]
            errors = f" ({count} send errors)" if count else ""
            self.app.stderr.write(
                f"shipped {shipped} records from {len(parsed_args.files)} "
                f"files to {parsed_args.sink} in {summary['seconds']}s{errors}\n"
            )
        return 0
