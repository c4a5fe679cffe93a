"""The parse filter: oslo.log, wsgi access and syslog lines into fields; tracebacks folded."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

from osops.log.base import Filter
from osops.log.record import LogRecord
from osops.options import Argument
from osops_logging import formats

_TRACE_START = "Traceback (most recent call last):"
_NL_TRACE_START = "\n" + _TRACE_START


class Parse(Filter):
    """Parse oslo.log, wsgi access and syslog/journald lines, folding tracebacks.

    Lines with no head of their own (tracebacks in Kilo's continuation style,
    ``RESP BODY:`` dumps) join the record before them; lines no grammar knows
    stay records of their own, flagged unparsed. No line is dropped.
    """

    arguments = (
        Argument(
            "format",
            "Line format; auto tries oslo.log, then syslog.",
            default="auto",
            choices=("auto", "oslo", "syslog"),
        ),
        Argument(
            "year",
            "Year of syslog timestamps, which carry none (default: the file's modification year).",
            type="int",
        ),
    )
    on_error = "keep"  # an unparsable record is still shipped, tagged

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._pending: LogRecord | None = None
        self._in_trace = False
        self._oslo = options.get("format", "auto") in ("auto", "oslo")
        self._syslog = options.get("format", "auto") in ("auto", "syslog")
        self._year: int | None = options.get("year")

    def process(self, record: LogRecord) -> LogRecord | None:
        pending = self._pending
        if not self._parse(record):
            if pending is None:
                return record  # a line no grammar knows, with nothing to join
            pending.raw += "\n" + record.raw
            pending.end = record.end
            if self._in_trace:
                pending.stack_trace = f"{pending.stack_trace}\n{record.raw}"
            else:
                pending.message = f"{pending.message}\n{record.raw}"
            return None
        if pending is not None and self._continues_trace(pending, record):
            pending.raw += "\n" + record.raw
            pending.end = record.end
            text = record.message or ""
            if pending.stack_trace is None:
                pending.stack_trace = text
            else:
                pending.stack_trace += "\n" + text
            self._in_trace = True
            return None
        self._pending = record
        # A TRACE line that follows nothing of its pid (interleaved writers) still
        # starts a traceback: its own text is the first line of it.
        self._in_trace = record.level == "TRACE"
        if self._in_trace:
            record.stack_trace = record.message
        return _finish(pending) if pending is not None else None

    def flush(self) -> Iterable[LogRecord]:
        pending, self._pending = self._pending, None
        return (_finish(pending),) if pending is not None else ()

    def _continues_trace(self, pending: LogRecord, record: LogRecord) -> bool:
        if record.pid != pending.pid or record.logger != pending.logger:
            return False
        if record.level == "TRACE":  # Kilo: one "<ts> <pid> TRACE <logger>" line each
            return True
        if record.level != "ERROR" or pending.level not in ("ERROR", "CRITICAL"):
            return False
        # Today's oslo.log repeats the whole prefix at ERROR on every line.
        if record.format == "oslo" and record.timestamp != pending.timestamp:
            return False
        return self._in_trace or (record.message or "").startswith(_TRACE_START)

    def _parse(self, record: LogRecord) -> bool:
        line = record.raw
        if self._oslo:
            match = formats.OSLO.match(line)
            if match is not None:
                ts, pid, level, logger, ctx, msg = match.groups()
                record.format = "oslo"
                record.timestamp = ts.replace(" ", "T", 1).replace(",", ".")
                record.pid = int(pid) if pid else None
                _fill(record, level, logger, ctx, msg)
                return True
        if self._syslog:
            match = formats.SYSLOG.match(line)
            if match is not None:
                ts, host, prog, pid, msg = match.groups()
                record.format = "syslog"
                record.timestamp = self._syslog_time(ts, record.file)
                record.host = host
                record.pid = int(pid) if pid else None
                record.set_label("program", prog)
                msg = msg.replace("#012", "\n")
                inner = formats.OSLO_IN_SYSLOG.match(msg)
                if inner is not None:
                    _fill(record, *inner.groups())
                else:
                    record.logger = prog
                    record.message = msg
                    record.parsed = True
                return True
        return False

    def _syslog_time(self, text: str, path: str) -> str:
        if self._year is None:
            try:
                self._year = time.localtime(os.stat(path).st_mtime).tm_year
            except OSError:
                self._year = time.localtime().tm_year
        month, day, clock = text.split()
        return f"{self._year:04d}-{formats.MONTHS[month]:02d}-{int(day):02d}T{clock}"


def _fill(record: LogRecord, level: str, logger: str, ctx: str | None, msg: str) -> None:
    record.parsed = True
    record.level = level
    record.logger = logger
    if ctx is not None:
        if ctx.startswith("instance: "):
            msg = f"[{ctx}] {msg}"  # Kilo TRACE lines have no context, only the instance
        elif ctx != "-":
            for name, value in formats.context(ctx).items():
                setattr(record, name, value)
    if msg.startswith("[instance: "):
        match = formats.INSTANCE.match(msg)
        if match is not None:
            record.instance_uuid = match.group("uuid")
            msg = msg[match.end() :]
    if '" status: ' in msg:
        match = formats.ACCESS.search(msg)
        if match is not None:
            client, method, path, status, length, seconds = match.groups()
            record.client_ip = client if client != "-" else None
            record.http_method = method
            record.url_path = path
            record.http_status = int(status)
            record.http_bytes = int(length)
            record.duration_ns = round(float(seconds) * 1e9)
    record.message = msg.rstrip()


def _finish(record: LogRecord) -> LogRecord:
    """Complete a record once every line of it is known.

    DEBUG messages end in "<function> <path>:<line>", after any continuation
    lines; error.type and error.message come from a traceback's last line.
    """
    message = record.message or ""
    at = message.find(_NL_TRACE_START)
    if at >= 0:  # a traceback carried inside the message (syslog "#012", Python 2 prints)
        trace = message[at + 1 :]
        record.message = message = message[:at]
        record.stack_trace = trace + ("\n" + record.stack_trace if record.stack_trace else "")
    if record.level == "DEBUG" and message[-1:].isdigit():
        # "<message> <function> <path>:<line>": split from the right, no regex scan.
        head, _, origin = message.rpartition(" ")
        body, _, function = head.rpartition(" ")
        if (
            origin[:1] == "/"
            and ".py:" in origin
            and function
            and formats.FUNCTION.fullmatch(function)
        ):
            record.function = function
            record.origin = origin
            record.message = body.rstrip()
    if record.stack_trace:
        for line in reversed(record.stack_trace.splitlines()):
            text = line.strip()
            if not text:
                continue
            match = formats.EXCEPTION.match(text)
            if match is not None and not text.startswith(("File ", "Traceback")):
                record.error_type = match.group("type")
                record.error_message = match.group("msg") or None
            break
    return record
