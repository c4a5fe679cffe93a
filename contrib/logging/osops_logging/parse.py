"""The parse filter: oslo.log, wsgi access and syslog lines into fields; tracebacks folded."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from osops.log.base import Filter, Fused, Step
from osops.log.record import FIELDS, LogRecord
from osops.options import Argument
from osops_logging import formats

_TRACE_START = "Traceback (most recent call last):"
_NL_TRACE_START = "\n" + _TRACE_START


class Keys:
    """The dict keys a :class:`LineParser` writes: attribute names or ECS field names."""

    # Attributes with no ECS name keep theirs (and are left out of the ECS output).
    raw = "raw"
    end = "end"
    parsed = "parsed"
    labels = "labels"
    timestamp: str
    level: str
    logger: str
    pid: str
    message: str
    host: str
    service: str
    file: str
    offset: str
    line: str
    function: str
    origin: str
    error_type: str
    error_message: str
    stack_trace: str
    http_method: str
    url_path: str
    http_status: str
    http_bytes: str
    duration_ns: str
    client_ip: str
    request_id: str
    global_request_id: str
    user_id: str
    project_id: str
    domain_id: str
    system_scope: str
    user_domain_id: str
    project_domain_id: str
    instance_uuid: str
    format: str

    def __init__(self, names: Mapping[str, str]) -> None:
        for attr in FIELDS:
            setattr(self, attr, names[attr])


#: Keys of a record's attribute dict, ``vars(record)``.
ATTRIBUTES = Keys({attr: attr for attr in FIELDS})
#: Keys of the ECS dict :func:`osops.log.record.ecs` would make of it.
ECS = Keys(FIELDS)

_CONTINUING = frozenset({"TRACE", "ERROR"})
_KILO_CONTEXT = (
    "request_id",
    "user_id",
    "project_id",
    "domain_id",
    "user_domain_id",
    "project_domain_id",
)
_CONTEXT = (
    "global_request_id",
    "request_id",
    "user_id",
    "project_id",
    "domain_id",
    "system_scope",
    "user_domain_id",
    "project_domain_id",
)
_CONTEXT_CACHE = 4096


class LineParser:
    """The parse state machine over one file's lines, on records' field dicts.

    The parse filter hands it each record's live attribute dict
    (``vars(record)``, keys :data:`ATTRIBUTES`); the fused chain hands it
    plain dicts already keyed by ECS names (keys :data:`ECS`), which then
    need no renaming. Both run this one implementation. It never stores None
    or an empty string: an absent key is an unset field. ``feed`` returns
    the item it releases (the item fed, a held one now complete, or None
    while holding).
    """

    def __init__(self, fmt: str = "auto", year: int | None = None, keys: Keys = ATTRIBUTES):
        self._oslo = formats.OSLO.match if fmt in ("auto", "oslo") else None
        self._syslog = fmt in ("auto", "syslog")
        self._year = year
        self._k = keys
        self._pending: Any = None
        self._pending_fields: dict[str, Any] = {}
        self._in_trace = False
        self._contexts: dict[str, dict[str, str]] = {}
        self._kilo_names = tuple(getattr(keys, name) for name in _KILO_CONTEXT)
        self._names = tuple(getattr(keys, name) for name in _CONTEXT)

    def feed(self, item: Any, fields: dict[str, Any]) -> Any:
        """Take the next line's record; see the class docstring for what comes back."""
        k = self._k
        pending = self._pending
        held = self._pending_fields
        if not self._parse(fields):
            if pending is None:
                return item  # a line no grammar knows, with nothing to join
            raw = fields[k.raw]
            held[k.raw] += "\n" + raw
            held[k.end] = fields[k.end]
            key = k.stack_trace if self._in_trace else k.message
            text = held.get(key)
            held[key] = "\n" + raw if text is None else f"{text}\n{raw}"
            return None
        level = fields.get(k.level)
        if pending is not None and level in _CONTINUING and self._continues_trace(held, fields):
            held[k.raw] += "\n" + fields[k.raw]
            held[k.end] = fields[k.end]
            text = fields.get(k.message, "")
            trace = held.get(k.stack_trace)
            if trace is not None:
                held[k.stack_trace] = f"{trace}\n{text}"
            elif text:
                held[k.stack_trace] = text
            self._in_trace = True
            return None
        self._pending = item
        self._pending_fields = fields
        # A TRACE line that follows nothing of its pid (interleaved writers) still
        # starts a traceback: its own text is the first line of it.
        self._in_trace = level == "TRACE"
        if self._in_trace and k.message in fields:
            fields[k.stack_trace] = fields[k.message]
        if pending is None:
            return None
        self._finish(held)
        return pending

    def flush(self) -> Any:
        """The item still held at the end of the file, complete; None if none."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._finish(self._pending_fields)
        return pending

    def starts_record(self, fields: dict[str, Any]) -> bool:
        """Whether this line begins a record whatever came before it.

        Only unparsed lines and TRACE or ERROR lines can continue an earlier
        record, so a file can be cut before any other parsed line and the
        pieces parsed apart give the same records. ``fields`` is scratch.
        """
        return self._parse(fields) and fields.get(self._k.level) not in _CONTINUING

    def _continues_trace(self, pending: dict[str, Any], fields: dict[str, Any]) -> bool:
        k = self._k
        if fields.get(k.pid) != pending.get(k.pid) or fields[k.logger] != pending.get(k.logger):
            return False
        if fields[k.level] == "TRACE":  # Kilo: one "<ts> <pid> TRACE <logger>" line each
            return True
        if pending.get(k.level) not in ("ERROR", "CRITICAL"):
            return False
        # Today's oslo.log repeats the whole prefix at ERROR on every line.
        if fields[k.format] == "oslo" and fields[k.timestamp] != pending.get(k.timestamp):
            return False
        return self._in_trace or fields.get(k.message, "").startswith(_TRACE_START)

    def _parse(self, fields: dict[str, Any]) -> bool:
        k = self._k
        line = fields[k.raw]
        if self._oslo is not None:
            match = self._oslo(line)
            if match is not None:
                date, clock, pid, level, logger, ctx, msg = match.groups()
                fields[k.format] = "oslo"
                fields[k.timestamp] = f"{date}T{clock.replace(',', '.')}"
                if pid:
                    fields[k.pid] = int(pid)
                self._fill(fields, level, logger, ctx, msg)
                return True
        if self._syslog:
            match = formats.SYSLOG.match(line)
            if match is not None:
                ts, host, prog, pid, msg = match.groups()
                fields[k.format] = "syslog"
                fields[k.timestamp] = self._syslog_time(ts, fields.get(k.file) or "")
                fields[k.host] = host
                if pid:
                    fields[k.pid] = int(pid)
                fields[k.labels] = {**(fields.get(k.labels) or {}), "program": prog}
                msg = msg.replace("#012", "\n")
                inner = formats.OSLO_IN_SYSLOG.match(msg)
                if inner is not None:
                    self._fill(fields, *inner.groups())
                else:
                    fields[k.parsed] = True
                    fields[k.logger] = prog
                    if msg:
                        fields[k.message] = msg
                return True
        return False

    def _fill(
        self, fields: dict[str, Any], level: str, logger: str, ctx: str | None, msg: str
    ) -> None:
        k = self._k
        fields[k.parsed] = True
        fields[k.level] = level
        fields[k.logger] = logger
        if ctx is not None:
            if ctx.startswith("instance: "):
                msg = f"[{ctx}] {msg}"  # Kilo TRACE lines have no context, only the instance
            elif ctx != "-":
                context = self._contexts.get(ctx)
                if context is None:
                    if len(self._contexts) >= _CONTEXT_CACHE:
                        self._contexts.clear()
                    context = self._contexts[ctx] = self._context(ctx)
                fields.update(context)
        if msg.startswith("[instance: "):
            match = formats.INSTANCE.match(msg)
            if match is not None:
                fields[k.instance_uuid] = match.group("uuid")
                msg = msg[match.end() :]
        if '" status: ' in msg:
            match = formats.ACCESS.search(msg)
            if match is not None:
                client, method, path, status, length, seconds = match.groups()
                if client != "-":
                    fields[k.client_ip] = client
                fields[k.http_method] = method
                fields[k.url_path] = path
                fields[k.http_status] = int(status)
                fields[k.http_bytes] = int(length)
                fields[k.duration_ns] = round(float(seconds) * 1e9)
        msg = msg.rstrip()
        if msg:
            fields[k.message] = msg

    def _context(self, text: str) -> dict[str, str]:
        """Fields of an oslo.log request context, whichever release wrote it.

        ``-``, ``None`` and empty tokens mean "not set".
        """
        tokens = text.split()
        if not tokens or tokens == ["-"]:
            return {}
        if tokens[0].startswith("req-") and not (len(tokens) > 1 and tokens[1].startswith("req-")):
            names = self._kilo_names  # Kilo to Rocky: request user tenant [domain ...]
        else:
            names = self._names  # oslo.log 2022+: global_request_id request_id user ...
        return {
            name: token
            for name, token in zip(names, tokens, strict=False)
            if token not in ("-", "None", "")
        }

    def _finish(self, fields: dict[str, Any]) -> None:
        """Complete a record once every line of it is known.

        DEBUG messages end in "<function> <path>:<line>", after any continuation
        lines; error.type and error.message come from a traceback's last line.
        """
        k = self._k
        message = fields.get(k.message, "")
        trace = fields.get(k.stack_trace)
        at = message.find(_NL_TRACE_START)
        if at >= 0:  # a traceback carried inside the message (syslog "#012", Python 2 prints)
            trace = message[at + 1 :] + ("\n" + trace if trace else "")
            fields[k.stack_trace] = trace
            message = message[:at]
            _set(fields, k.message, message)
        if message[-1:].isdigit() and fields.get(k.level) == "DEBUG":
            # "<message> <function> <path>:<line>": split from the right, no regex scan.
            head, _, origin = message.rpartition(" ")
            body, _, function = head.rpartition(" ")
            if origin[:1] == "/" and ".py:" in origin and _is_function(function):
                fields[k.function] = function
                fields[k.origin] = origin
                _set(fields, k.message, body.rstrip())
        if trace:
            for line in reversed(trace.splitlines()):
                text = line.strip()
                if not text:
                    continue
                match = formats.EXCEPTION.match(text)
                if match is not None and not text.startswith(("File ", "Traceback")):
                    fields[k.error_type] = match.group("type")
                    if match.group("msg"):
                        fields[k.error_message] = match.group("msg")
                break

    def _syslog_time(self, text: str, path: str) -> str:
        if self._year is None:
            try:
                self._year = time.localtime(os.stat(path).st_mtime).tm_year
            except OSError:
                self._year = time.localtime().tm_year
        month, day, clock = text.split()
        return f"{self._year:04d}-{formats.MONTHS[month]:02d}-{int(day):02d}T{clock}"


def _is_function(name: str) -> bool:
    """Whether ``name`` is ``[\\w<>.]+``, as the debug suffix writes ``Klass.method``."""
    # Most are plain identifiers: a string method is cheaper than a regex call.
    return (name.isascii() and name.isidentifier()) or formats.FUNCTION.fullmatch(name) is not None


def _set(fields: dict[str, Any], key: str, text: str) -> None:
    """Store a text field; an empty one is unset."""
    if text:
        fields[key] = text
    else:
        fields.pop(key, None)


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
        self._lines = LineParser(options.get("format") or "auto", options.get("year"))

    def process(self, record: LogRecord) -> LogRecord | None:
        released: LogRecord | None = self._lines.feed(record, vars(record))
        return released

    def flush(self) -> Iterable[LogRecord]:
        pending: LogRecord | None = self._lines.flush()
        return (pending,) if pending is not None else ()

    @classmethod
    def fuse(cls, steps: Sequence[Step]) -> Fused | None:
        """The default chain (redact, parse, enrich) in one pass (:mod:`osops_logging.fused`)."""
        from osops_logging import fused

        return fused.fuse(steps)
