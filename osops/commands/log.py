"""Commands on logs: parse, stats, trace and ship, over the configured filter chain."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from typing import IO, Any

from cliff.command import Command
from cliff.lister import Lister

from osops.commands.common import Plugins, byte_count, job_count, seconds
from osops.exceptions import LogError
from osops.log import pipeline, text
from osops.log.base import MAX_LINE
from osops.log.record import LogRecord


def _add_chain_options(parser: argparse.ArgumentParser) -> None:
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


def _chain(command: Plugins, parsed_args: Any) -> pipeline.Chain:
    return pipeline.build_chain(
        parsed_args.filters,
        parsed_args.filter_options,
        parsed_args.max_line_size,
        command.manager("filter"),
    )


def _records(
    command: Plugins, parsed_args: Any, paths: Sequence[str] | None = None
) -> Iterator[LogRecord]:
    chain = _chain(command, parsed_args)
    for path in parsed_args.files if paths is None else paths:
        yield from chain.records(path)


class ParseLog(Plugins, Command):
    """Parse log files into structured records: JSON lines (ECS fields) or text."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_chain_options(parser)
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
        return parser

    def take_action(self, parsed_args: Any) -> int:
        from osops.log import parallel

        jobs = parsed_args.jobs or parallel.default_jobs()
        chain = _chain(self, parsed_args)
        out: IO[bytes]
        stdout = self.app.stdout
        try:
            out = open(parsed_args.output, "wb") if parsed_args.output else stdout.buffer  # noqa: SIM115
        except OSError as exc:
            raise LogError(f"--output {parsed_args.output}: {exc.strerror}") from None
        try:
            stdout.flush()
            if parsed_args.format == "json":
                parallel.write_json_lines(chain, parsed_args.files, out, jobs)
            else:
                for path in parsed_args.files:
                    for record in chain.records(path):
                        out.write((text.line(record) + "\n").encode())
        finally:
            if parsed_args.output:
                out.close()
            else:
                out.flush()
        return 0


class StatsLog(Plugins, Command):
    """Summarise logs: records by service and level, top errors, slow API calls, deprecations."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_chain_options(parser)
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--top", type=int, default=10, help="rows per list (default 10)")
        return parser

    def take_action(self, parsed_args: Any) -> int:
        from osops.log.stats import Stats, render

        stats = Stats(top=parsed_args.top)
        stats.add(_records(self, parsed_args))
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
        _add_chain_options(parser)
        return parser

    def take_action(self, parsed_args: Any) -> tuple[Sequence[str], list[tuple[Any, ...]]]:
        from osops.log import trace

        # Read twice: a pipe or standard input is first kept in a temporary file.
        with pipeline.seekable(parsed_args.files) as paths:
            found = trace.follow(
                lambda: _records(self, parsed_args, paths), parsed_args.request_id
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
        _add_chain_options(parser)
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
        progress = None
        if self.app.stdout.isatty():  # a person is watching: show progress (on stderr)

            def progress(count: int) -> None:
                rate = count / max(time.monotonic() - started, 1e-6)
                self.app.stderr.write(f"\rshipped {count} records ({rate:,.0f}/s)")
                self.app.stderr.flush()

        shipped = ship.ship(
            parsed_args.files,
            chain,
            sink,
            state,
            follow=parsed_args.follow,
            stop=stop,
            progress=progress,
            retry_limit=parsed_args.retry_for,
            partial_after=parsed_args.partial_after,
        )
        if progress is not None:
            self.app.stderr.write("\n")
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
