"""The parse state machine: oslo.log, wsgi access and syslog lines into fields; tracebacks folded.

The parse filter (:mod:`osops_logging.parse`) and the fused chain
(:mod:`osops_logging.fused`) both run it. It is compiled by mypyc where
``OSOPS_MYPYC=1`` (contrib/logging/setup.py).
"""

from __future__ import annotations

import os
import time
from typing import Any, Final

from osops.log.record import FIELDS
from osops_logging import formats
from osops_logging.heads import ASK, NONE, Head, oslo_head

_TRACE_START: Final = "Traceback (most recent call last):"
_NL_TRACE_START: Final = "\n" + _TRACE_START
# The remote traceback of oslo.messaging's RemoteError, a list repr (Python 2 or 3).
_REMOTE_TRACE: Final = ("[u'Traceback", "['Traceback", '[u"Traceback', '["Traceback')

# The ECS names the parser writes (osops.log.record.FIELDS), and its working
# keys, which are no fields: every line of the record and the offset just past
# its last line. Final, so that compiled they are C constants, not lookups in
# the module.
TIMESTAMP: Final = FIELDS["timestamp"]
LEVEL: Final = FIELDS["level"]
LOGGER: Final = FIELDS["logger"]
PID: Final = FIELDS["pid"]
MESSAGE: Final = FIELDS["message"]
HOST: Final = FIELDS["host"]
FILE: Final = FIELDS["file"]
OFFSET: Final = FIELDS["offset"]
LINE: Final = FIELDS["line"]
FUNCTION: Final = FIELDS["function"]
ORIGIN: Final = FIELDS["origin"]
FORMAT: Final = FIELDS["format"]
ERROR_TYPE: Final = FIELDS["error_type"]
ERROR_MESSAGE: Final = FIELDS["error_message"]
STACK_TRACE: Final = FIELDS["stack_trace"]
INSTANCE_UUID: Final = FIELDS["instance_uuid"]
LABELS: Final = "labels"
RAW: Final = "raw"
END: Final = "end"
# An access line's fields, set one by one (no tuple zipped into the dict).
_CLIENT_IP: Final = FIELDS["client_ip"]
_METHOD: Final = FIELDS["http_method"]
_PATH: Final = FIELDS["url_path"]
_STATUS: Final = FIELDS["http_status"]
_BYTES: Final = FIELDS["http_bytes"]
_DURATION: Final = FIELDS["duration_ns"]

_CONTINUING: Final = frozenset({"TRACE", "ERROR"})
_KILO_CONTEXT: Final = tuple(
    FIELDS[a]
    for a in (
        "request_id",
        "user_id",
        "project_id",
        "domain_id",
        "user_domain_id",
        "project_domain_id",
    )
)
# Pike to Queens: the global request id first, no system scope yet.
_PIKE_CONTEXT: Final = tuple(
    FIELDS[a]
    for a in (
        "global_request_id",
        "request_id",
        "user_id",
        "project_id",
        "domain_id",
        "user_domain_id",
        "project_domain_id",
    )
)
_CONTEXT: Final = tuple(
    FIELDS[a]
    for a in (
        "global_request_id",
        "request_id",
        "user_id",
        "project_id",
        "domain_id",
        "system_scope",
        "user_domain_id",
        "project_domain_id",
    )
)
_CONTEXT_CACHE: Final = 4096
REQUEST_ID: Final = FIELDS["request_id"]
GLOBAL_REQUEST_ID: Final = FIELDS["global_request_id"]
_NO_HEAD: Final[Head] = ("", "", "", "", "", "", False, NONE)
# Context tokens that mean "not set".
_UNSET: Final = frozenset({"-", "None", ""})


class _Held:
    """A record not yet given back: its fields, its lines so far, whether it is open."""

    def __init__(self, fields: dict[str, Any], raw: str, in_trace: bool) -> None:
        self.fields = fields
        #: Every line of the record so far (with keep_raw).
        self.raw = raw
        #: Its lines are a traceback's: lines with no head of their own join that.
        self.in_trace = in_trace
        #: Lines may still join it; closed, it is complete and waits its turn.
        self.open = True


class LineParser:
    """The parse state machine over one file's lines.

    :meth:`feed` takes the lines one by one and gives back each record once
    it is complete, as a dict keyed by ECS names (``osops.log.record.FIELDS``)
    plus ``raw`` and ``end`` where they are not those of the record's first
    line: every line of it and the offset just past its last (with
    ``keep_raw``), or a line no grammar knows (the one kind of record that is
    not parsed). It never stores None or an empty string: an absent key is an
    unset field. The parse filter applies these dicts to its records; the
    fused chain, which needs no raw text of parsed records, writes them out.

    Workers of one service share its log file (and greenthreads of one worker
    its loggers), so the tracebacks of two pids or loggers can interleave line
    by line: a record is held open per pid and logger while ERROR or TRACE
    lines may continue it, and any other parsed line closes them all.
    Records come back in the order of their first lines, one per line fed
    (the rest by :meth:`flush`).
    """

    def __init__(
        self, path: str, fmt: str = "auto", year: int | None = None, keep_raw: bool = True
    ) -> None:
        #: The file the lines come from (log.file.path; syslog lines' year).
        self.path = path
        self._keep_raw = keep_raw
        self._oslo = formats.OSLO.match if fmt in ("auto", "oslo") else None
        self._syslog = formats.SYSLOG.match if fmt in ("auto", "syslog") else None
        self._year = year
        # Records not yet given back, by first line; the last one is always open.
        self._held: list[_Held] = []
        # The open records by pid and logger: those a TRACE or ERROR line may continue.
        self._open: dict[tuple[int, str], _Held] = {}
        self._contexts: dict[str, dict[str, str]] = {}
        # A context's identity (all but its request ids) by its text, per shape.
        self._identities: dict[str, dict[str, str]] = {}
        self._kilo_identities: dict[str, dict[str, str]] = {}
        # Whether the line just read had a request context ("[-]" included): the head
        # of a record, which a traceback's lines never have (at most an instance).
        self._headed = False
        self._pids = _Numbers()

    def feed(self, raw: str, offset: int, line: int, end: int) -> dict[str, Any] | None:
        """Take the next line (``raw``, at byte ``offset``, numbered ``line``, ending at ``end``).

        Returns the oldest record held once it is complete (this line may
        complete it), the line's own record when no grammar knows it and
        nothing is held, or None while the oldest record may still go on.
        """
        fields: dict[str, Any] | None
        # Typed, so that compiled (setup.py) these are str operations, not generic ones.
        date: str
        clock: str
        pid: str
        level: str | None
        logger: str
        ctx: str
        headed: bool
        end_of_head: int
        date, clock, pid, level, logger, ctx, headed, end_of_head = self._head(raw)
        if end_of_head >= 0:  # most lines: oslo.log
            timestamp = f"{date}T{clock}"
            if "," in clock:
                timestamp = timestamp.replace(",", ".")
            fields = {
                FILE: self.path,
                OFFSET: offset,
                LINE: line,
                FORMAT: "oslo",
                TIMESTAMP: timestamp,
            }
            if pid:
                fields[PID] = self._pids[pid]
            self._fill(fields, level, logger, ctx if headed else None, raw[end_of_head:])
        else:
            fields = self._syslog_line(raw, offset, line)
            if fields is None:
                if not self._held:  # a line no grammar knows, with nothing to join
                    return {RAW: raw, FILE: self.path, OFFSET: offset, LINE: line, END: end}
                last = self._held[-1]
                self._join(last, raw, end)
                pending = last.fields
                key = STACK_TRACE if last.in_trace else MESSAGE
                text = pending.get(key)
                pending[key] = "\n" + raw if text is None else f"{text}\n{raw}"
                return self._release()
            level = fields.get(LEVEL)
        writer = (fields.get(PID, -1), fields[LOGGER])
        if level in _CONTINUING:
            held = self._open.get(writer)
            if held is not None:
                if self._continues_trace(held, fields):
                    self._join(held, raw, end)
                    pending = held.fields
                    text = fields.get(MESSAGE, "")
                    trace = pending.get(STACK_TRACE)
                    if trace is not None:
                        pending[STACK_TRACE] = f"{trace}\n{text}"
                    elif text:
                        pending[STACK_TRACE] = text
                    held.in_trace = True
                    return self._release()
                self._close(held)
        else:
            for held in self._open.values():
                self._close(held)
            self._open.clear()
        # A TRACE line that follows nothing of its pid (interleaved writers), or an
        # ERROR one that begins a traceback whose record's line is not there (the file
        # was cut or rotated before it), still starts a traceback: its own text is
        # the first line of it.
        in_trace = level == "TRACE" or (
            level == "ERROR"
            and not self._headed
            and fields.get(MESSAGE, "").startswith(_TRACE_START)
        )
        if in_trace and MESSAGE in fields:
            fields[STACK_TRACE] = fields[MESSAGE]
        self._open[writer] = started = _Held(fields, raw, in_trace)
        self._held.append(started)
        return self._release()

    def _head(self, raw: str) -> Head:
        """The oslo.log head of a line (:func:`oslo_head`, else the regex); end < 0 if none."""
        oslo = self._oslo
        if oslo is None:
            return _NO_HEAD
        head = oslo_head(raw)
        if head[7] != ASK:
            return head
        match = oslo(raw)
        if match is None:
            return _NO_HEAD
        date, clock, pid, level, logger, ctx = match.groups()
        return (date, clock, pid or "", level, logger, ctx or "", ctx is not None, match.end())

    def _join(self, held: _Held, raw: str, end: int) -> None:
        """Count a line into a record held: its raw text and where it ends, if kept."""
        if self._keep_raw:
            held.raw = held.fields[RAW] = f"{held.raw}\n{raw}"
            held.fields[END] = end

    def _close(self, held: _Held) -> None:
        """No more lines join this record: complete it."""
        held.open = False
        self._finish(held.fields)

    def _release(self) -> dict[str, Any] | None:
        """The oldest record held, if it is complete; None if it is not (or none is held).

        Its end goes no further than the first line of the next record held:
        shipping resumes there, and interleaved records may not have reached
        the sink yet.
        """
        held = self._held
        if not held or held[0].open:
            return None
        fields = held.pop(0).fields
        if held and END in fields:
            after: int = held[0].fields[OFFSET]
            if fields[END] > after:
                fields[END] = after
        return fields

    @property
    def latest(self) -> dict[str, Any] | None:
        """The fields of the record the last line started or joined, if one is held."""
        return self._held[-1].fields if self._held else None

    def flush(self) -> list[dict[str, Any]]:
        """Every record still held at the end of the file, complete, in order."""
        for held in self._open.values():
            self._close(held)
        self._open.clear()
        done = []
        while (fields := self._release()) is not None:
            done.append(fields)
        return done

    def starts_record(self, raw: str) -> bool:
        """Whether this line begins a record whatever came before it.

        Only unparsed lines and TRACE or ERROR lines can continue an earlier
        record, and any other parsed line closes every record held open, so
        a file can be cut before such a line and the pieces parsed apart give
        the same records.
        """
        head = self._head(raw)
        if head[7] >= 0:
            return head[3] not in _CONTINUING
        fields = self._syslog_line(raw, 0, 0)
        return fields is not None and fields.get(LEVEL) not in _CONTINUING

    def _continues_trace(self, held: _Held, fields: dict[str, Any]) -> bool:
        """Whether a TRACE or ERROR line continues the open record of its pid and logger."""
        if self._headed:  # journald and syslog lines carry no time of the record's own
            return False
        pending = held.fields
        if fields[LEVEL] == "TRACE":  # Kilo: one "<ts> <pid> TRACE <logger>" line each
            return True
        if pending.get(LEVEL) not in ("ERROR", "CRITICAL"):
            return False
        # Today's oslo.log repeats the whole prefix at ERROR on every line.
        if fields[FORMAT] == "oslo" and fields[TIMESTAMP] != pending.get(TIMESTAMP):
            return False
        return held.in_trace or fields.get(MESSAGE, "").startswith(_TRACE_START)

    def _syslog_line(self, raw: str, offset: int, line: int) -> dict[str, Any] | None:
        """A syslog or journald line's fields, or None when it is none."""
        syslog = self._syslog
        if syslog is not None:
            match = syslog(raw)
            if match is not None:
                ts, host, prog, pid, msg = match.groups()
                fields = {
                    FILE: self.path,
                    OFFSET: offset,
                    LINE: line,
                    FORMAT: "syslog",
                    TIMESTAMP: self._syslog_time(ts),
                    HOST: host,
                }
                if pid:
                    fields[PID] = int(pid)
                fields[LABELS] = {"program": prog}
                msg = msg.replace("#012", "\n")
                inner = formats.OSLO_IN_SYSLOG.match(msg)
                if inner is not None:
                    self._fill(fields, *inner.groups())
                else:
                    fields[LOGGER] = prog
                    if msg:
                        fields[MESSAGE] = msg
                return fields
        return None

    def _fill(
        self, fields: dict[str, Any], level: str, logger: str, ctx: str | None, msg: str
    ) -> None:
        fields[LEVEL] = level
        fields[LOGGER] = logger
        self._headed = ctx is not None and not ctx.startswith("instance: ")
        if ctx is not None and ctx != "-":
            if ctx.startswith("instance: "):
                msg = f"[{ctx}] {msg}"  # Kilo TRACE lines have no context, only the instance
            else:
                self._apply_context(fields, ctx)
        if msg.startswith("[instance: "):
            match = formats.INSTANCE.match(msg)
            if match is not None:
                fields[INSTANCE_UUID] = match.group("uuid")
                msg = msg[match.end() :]
        if '" status: ' in msg:
            match = formats.ACCESS.match(msg)
            if match is not None:
                client, method, path, status, length, seconds = match.groups()
                if client != "-":
                    fields[_CLIENT_IP] = client
                fields[_METHOD] = method
                fields[_PATH] = path
                fields[_STATUS] = int(status)
                fields[_BYTES] = int(length)
                fields[_DURATION] = round(float(seconds) * 1e9)
        msg = msg.rstrip()
        if msg:
            fields[MESSAGE] = msg

    def _apply_context(self, fields: dict[str, Any], ctx: str) -> None:
        """Set the fields of a request context, as :meth:`_context` gives them.

        Real logs carry a new request id on nearly every line, and the same
        few identities (user, project, domains) after it: the fields of the
        identity are cached, keyed by its text, and the ids set apart, in the
        order :meth:`_context` gives them.
        """
        parts = ctx.split(None, 2)  # the rest keeps its inner spacing: its own key
        count = len(parts)
        if count >= 2:
            first: str = parts[0]
            second: str = parts[1]
            identity: str
            cached: dict[str, str] | None
            if second.startswith("req-"):  # Pike on: global request id, request id
                identity = parts[2] if count == 3 else ""
                cached = self._identities.get(identity)
                if cached is None:
                    cached = self._identity(self._identities, identity, ctx)
                if first not in _UNSET:
                    fields[GLOBAL_REQUEST_ID] = first
                fields[REQUEST_ID] = second
                fields.update(cached)
                return
            if first.startswith("req-"):  # Kilo to Ocata: the request id first
                identity = second if count == 2 else f"{second} {parts[2]}"
                cached = self._kilo_identities.get(identity)
                if cached is None:
                    cached = self._identity(self._kilo_identities, identity, ctx)
                fields[REQUEST_ID] = first
                fields.update(cached)
                return
        context = self._contexts.get(ctx)  # any other shape: cached whole
        if context is None:
            if len(self._contexts) >= _CONTEXT_CACHE:
                self._contexts.clear()
            context = self._contexts[ctx] = self._context(ctx)
        fields.update(context)

    def _identity(self, cache: dict[str, dict[str, str]], key: str, ctx: str) -> dict[str, str]:
        """The fields of a context but its request ids, cached under ``key``."""
        if len(cache) >= _CONTEXT_CACHE:
            cache.clear()
        found = cache[key] = {
            name: value
            for name, value in self._context(ctx).items()
            if name != REQUEST_ID and name != GLOBAL_REQUEST_ID
        }
        return found

    @staticmethod
    def _context(text: str) -> dict[str, str]:
        """Fields of an oslo.log request context, whichever release wrote it.

        ``-``, ``None`` and empty tokens mean "not set".
        """
        tokens = text.split()
        if not tokens or tokens == ["-"]:
            return {}
        if tokens[0].startswith("req-") and not (len(tokens) > 1 and tokens[1].startswith("req-")):
            names = _KILO_CONTEXT  # Kilo to Ocata: request user tenant [domain ...]
        elif len(tokens) == len(_PIKE_CONTEXT):
            names = _PIKE_CONTEXT  # Pike to Queens: global_request_id request_id, no scope
        else:
            names = _CONTEXT  # Rocky on: global_request_id request_id user ... system_scope
        return {
            name: token for name, token in zip(names, tokens, strict=False) if token not in _UNSET
        }

    def _finish(self, fields: dict[str, Any]) -> None:
        """Complete a record once every line of it is known.

        DEBUG messages end in "<function> <path>:<line>", after any continuation
        lines; error.type and error.message come from a traceback's last line.
        """
        message: str | None = fields.get(MESSAGE)
        trace: str | None
        if message is not None:
            if "\n" in message:
                at = message.find(_NL_TRACE_START)
                if at >= 0:  # a traceback inside the message (syslog "#012", Python 2 prints)
                    trace = fields.get(STACK_TRACE)
                    fields[STACK_TRACE] = message[at + 1 :] + ("\n" + trace if trace else "")
                    message = message[:at]
                    _set(fields, MESSAGE, message)
            if fields.get(LEVEL) == "DEBUG" and message[-1:].isdigit():
                # "<message> <function> <path>:<line>": found from the right, no regex scan.
                cut = message.rfind(" ")
                origin = message[cut + 1 :]
                if cut >= 0 and origin[:1] == "/" and ".py:" in origin:
                    before = message.rfind(" ", 0, cut)
                    function = message[before + 1 : cut]
                    if (
                        function.isascii() and function.isidentifier()
                    ) or formats.FUNCTION.fullmatch(function):
                        fields[FUNCTION] = function
                        fields[ORIGIN] = origin
                        body = message[:before].rstrip() if before > 0 else ""
                        if body:
                            fields[MESSAGE] = body
                        else:
                            del fields[MESSAGE]
        trace = fields.get(STACK_TRACE)
        if trace:
            # The last line that is not blank: after the last newline of the
            # stripped trace (and after any other line break, as splitlines has them).
            trace = trace.rstrip()
            text = _last_line(trace)
            if text.startswith(_REMOTE_TRACE):
                # oslo.messaging's RemoteError: its text ends in the remote side's
                # traceback as a list, on a line of its own after the exception's.
                text = _last_line(trace[: trace.rfind("\n")].rstrip())
            match = formats.EXCEPTION.match(text)
            if match is not None and not text.startswith(("File ", "Traceback")):
                fields[ERROR_TYPE] = match.group("type")
                if match.group("msg"):
                    fields[ERROR_MESSAGE] = match.group("msg")

    def _syslog_time(self, text: str) -> str:
        if self._year is None:
            try:
                self._year = time.localtime(os.stat(self.path).st_mtime).tm_year
            except OSError:
                self._year = time.localtime().tm_year
        month, day, clock = text.split()
        return f"{self._year:04d}-{formats.MONTHS[month]:02d}-{int(day):02d}T{clock}"


class _Numbers(dict[str, int]):
    """Digit strings to their ints, remembered: a file holds few pids, on every line."""

    def __missing__(self, text: str) -> int:
        if len(self) >= _CONTEXT_CACHE:
            self.clear()
        number = self[text] = int(text)
        return number


def _last_line(trace: str) -> str:
    """The last line of a stripped traceback (after any line break splitlines knows)."""
    lines = trace[trace.rfind("\n") + 1 :].splitlines()
    return lines[-1].strip() if lines else ""


def _set(fields: dict[str, Any], key: str, text: str) -> None:
    """Store a text field; an empty one is unset."""
    if text:
        fields[key] = text
    else:
        fields.pop(key, None)
