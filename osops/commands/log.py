"""Commands on logs: parse, stats and trace, over the configured filter chain."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Sequence
from typing import IO, Any

from cliff.command import Command
from cliff.lister import Lister

from osops.exceptions import LogError
from osops.log import pipeline, progress, text
from osops.log.base import MAX_LINE
from osops.log.record import LogRecord
from osops.log.window import LEVELS, needs_first_time, window_options

#: The filter --since, --until and --level add (osops.log.window).
WINDOW = "window"


def _add_window_options(parser: argparse.ArgumentParser) -> None:
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
        help=f"filter step, repeatable, in order (default: {', '.join(pipeline.DEFAULT_FILTERS)};"
        " redact is appended when missing)",
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
        type=_bytes,
        default=MAX_LINE,
        metavar="BYTES",
        help=f"longest line kept whole (default {MAX_LINE}); a longer one keeps "
        "this many bytes and is marked '[truncated by osops: line of N bytes]'",
    )


def _chain(
    parsed_args: Any, paths: Sequence[str] | None = None, window: bool = True
) -> pipeline.Chain:
    """The chain of ``--filter`` steps, the window of ``--since/--until/--level`` last.

    :param paths: the files, readable twice, where a time alone must take the
        date of the first record read
    :param window: add the window (the options given)
    """
    names, pairs = parsed_args.filters, list(parsed_args.filter_options)
    since, until = getattr(parsed_args, "since", None), getattr(parsed_args, "until", None)
    level = getattr(parsed_args, "level", None)
    if window and (since or until or level):
        chain = pipeline.build_chain(names, pairs, parsed_args.max_line_size)
        first = (r for path in paths or parsed_args.files for r in chain.records(path))
        pairs += window_options(since, until, level, first)
        names = [*(names or pipeline.DEFAULT_FILTERS), WINDOW]
    return pipeline.build_chain(names, pairs, parsed_args.max_line_size)


@contextlib.contextmanager
def _readable(parsed_args: Any) -> Iterator[list[str]]:
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


def _records(parsed_args: Any, paths: Sequence[str]) -> Iterator[LogRecord]:
    chain = _chain(parsed_args, paths)
    for path in paths:
        yield from chain.records(path)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= seconds <= 86400:  # nan and inf are neither
        raise argparse.ArgumentTypeError(f"{text}: must be from 0 to 86400 seconds")
    return seconds


def _bytes(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of bytes") from None
    if not 1 <= size <= 1 << 30:
        raise argparse.ArgumentTypeError(f"{size}: must be from 1 to {1 << 30} bytes")
    return size


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{jobs}: must be 1 or more")
    return jobs


class ParseLog(Command):
    """Parse log files into structured records: JSON lines (ECS fields) or text."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_chain_options(parser)
        _add_window_options(parser)
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
            type=_jobs,
            metavar="N",
            help="worker processes for big files (default: the CPUs available, at most 8)",
        )
        return parser

    def take_action(self, parsed_args: Any) -> int:
        with _readable(parsed_args) as paths:
            return self._parse(parsed_args, paths)

    def _parse(self, parsed_args: Any, paths: list[str]) -> int:
        from osops.log import parallel

        jobs = parsed_args.jobs or parallel.default_jobs()
        chain = _chain(parsed_args, paths)
        out: IO[bytes]
        stdout = self.app.stdout
        try:
            out = open(parsed_args.output, "wb") if parsed_args.output else stdout.buffer  # noqa: SIM115
        except OSError as exc:
            raise LogError(f"--output {parsed_args.output}: {exc.strerror}") from None
        # Records to the terminal need no progress line over them.
        watched = parsed_args.output or not progress.watching(stdout)
        bar = progress.start(self.app.stderr, progress.total_size(paths)) if watched else None
        try:
            stdout.flush()
            if parsed_args.format == "json":
                parallel.write_json_lines(chain, paths, out, jobs, bar)
            else:
                for path in paths:
                    records = chain.records(path)
                    for record in bar.records_of(records) if bar else records:
                        out.write((text.line(record) + "\n").encode())
        finally:
            if bar is not None:
                bar.close()
            if parsed_args.output:
                out.close()
            else:
                out.flush()
        return 0


class StatsLog(Command):
    """Summarise logs: records by service and level, top errors, slow API calls, deprecations."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_chain_options(parser)
        _add_window_options(parser)
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--top", type=int, default=10, help="rows per list (default 10)")
        return parser

    def take_action(self, parsed_args: Any) -> int:
        from osops.log.stats import Stats

        stats = Stats(top=parsed_args.top)
        with _readable(parsed_args) as paths:
            bar = progress.start(self.app.stderr, progress.total_size(paths))
            records = _records(parsed_args, paths)
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
            self.app.stdout.write(render_stats(data))
        return 0


def render_stats(data: dict[str, Any]) -> str:
    """The stats report as plain text tables."""
    lines = [f"{data['records']} records ({data['unparsed']} unparsed)", ""]
    levels = sorted({lvl for counts in data["by_service"].values() for lvl in counts})
    width = max([len(s) for s in data["by_service"]] + [7])
    lines.append("service".ljust(width) + "".join(f"{lvl:>10}" for lvl in levels))
    for service, counts in data["by_service"].items():
        lines.append(service.ljust(width) + "".join(f"{counts.get(lvl, 0):>10}" for lvl in levels))
    lines += ["", "top errors:"]
    for item in data["top_errors"]:
        label = item["error_type"] or f"(logged by {item['logger']})"
        lines.append(f"  {item['count']:>5}  {label}  [{item['service']}] {item['example']}")
    if not data["top_errors"]:
        lines.append("  none")
    lines += [
        "",
        f"slowest API calls ({data['api_requests']} requests, "
        f"{data['api_server_errors']} with 5xx):",
    ]
    for call in data["slowest_api_calls"]:
        lines.append(
            f"  {call['duration_seconds']:>9.3f}s  {call['status']}  {call['method']} "
            f"{call['path']}  [{call['service']}] {call['request_id'] or '-'}"
        )
    if not data["slowest_api_calls"]:
        lines.append("  none")
    deprecations = data.get("deprecations", [])
    lines += ["", f"deprecation warnings logged ({len(deprecations)} distinct):"]
    for item in deprecations:
        lines.append(
            f"  {item['count']:>5}  {item['host'] or '-'} {item['service']} "
            f"[{item['kind']}] {item['message']}"
        )
    if not deprecations:
        lines.append("  none")
    return "\n".join(lines) + "\n"


def related_ids(records: Iterator[LogRecord], wanted: str) -> set[str]:
    """The request and global request ids tied to ``wanted`` by any records, in any order.

    A record with both ids links them; links are followed however many records
    apart, whichever file comes first (a compute record may link its local id
    to the global one before the API record that links the API's local id).
    """
    links: dict[str, set[str]] = {}
    for record in records:
        local, upstream = record.request_id, record.global_request_id
        if local and upstream and local != upstream:
            links.setdefault(local, set()).add(upstream)
            links.setdefault(upstream, set()).add(local)
    ids, todo = {wanted}, [wanted]
    while todo:
        for other in links.get(todo.pop(), ()):
            if other not in ids:
                ids.add(other)
                todo.append(other)
    return ids


class TraceLog(Lister):
    """Follow one request (request id or global request id) across files, merged by time."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("request_id", metavar="ID", help="req-<uuid>, local or global")
        _add_chain_options(parser)
        _add_window_options(parser)
        return parser

    def take_action(self, parsed_args: Any) -> tuple[Sequence[str], list[tuple[Any, ...]]]:
        # Read twice: a pipe or standard input is first kept in a temporary file.
        # The ids are linked through every record; the window only picks what is shown.
        with pipeline.seekable(parsed_args.files) as paths:
            every = _chain(parsed_args, paths, window=False)
            ids = related_ids(
                (r for path in paths for r in every.records(path)), parsed_args.request_id
            )
            found = [
                r
                for r in _records(parsed_args, paths)
                if r.request_id in ids or r.global_request_id in ids
            ]
        found.sort(key=lambda r: (r.timestamp or "", r.file, r.offset))
        columns = ("Time", "Host", "Service", "Level", "Logger", "Request", "Message")
        rows = [
            (r.timestamp, r.host, r.service, r.level, r.logger, r.request_id, _message(r))
            for r in found
        ]
        if not rows:
            raise LogError(
                f"no record of {parsed_args.request_id} in {len(parsed_args.files)} file(s)"
            )
        return columns, rows


def _message(record: LogRecord) -> str:
    message = (record.message or "").strip()
    if record.error_type:
        message += f" ({record.error_type}: {record.error_message or ''})"
    return message


class ShipLog(Command):
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
            type=_seconds,
            default=30.0,
            metavar="SECONDS",
            help="without --follow, how long a failing sink is retried "
            "(default 30; with --follow, until stopped)",
        )
        parser.add_argument(
            "--partial-after",
            type=_seconds,
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

        chain = _chain(parsed_args)
        sink = pipeline.build_sink(parsed_args.sink, parsed_args.sink_options)
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
