"""The parse state machine: oslo.log, wsgi access and syslog lines into fields; tracebacks folded.

The parse filter (:mod:`osops_logging.parse`) and the fused chain
(:mod:`osops_logging.fused`) both run it. It is compiled by mypyc where
``OSOPS_MYPYC=1`` (contrib/logging/setup.py).
"""

from __future__ import annotations

from typing import Any, Final

from osops_logging import formats, heads
from osops_logging.complete import TRACE_START, finish
from osops_logging.contexts import Contexts, Numbers
from osops_logging.heads import ASK, NO_HEAD, Head, access_fields, oslo_head
from osops_logging.names import (
    END,
    FILE,
    FORMAT,
    INSTANCE_UUID,
    LEVEL,
    LINE,
    LOGGER,
    MESSAGE,
    OFFSET,
    PID,
    RAW,
    STACK_TRACE,
    TIMESTAMP,
)
from osops_logging.syslog import file_year, syslog_fields

_CONTINUING: Final = frozenset({"TRACE", "ERROR"})
# The head read by hand pays compiled only: interpreted, the regex is faster.
_BY_HAND: Final = not str(heads.__file__).endswith(".py")


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
        self._contexts = Contexts()
        # Whether the line just read had a request context ("[-]" included): the head
        # of a record, which a traceback's lines never have (at most an instance).
        self._headed = False
        self._pids = Numbers()

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
            and fields.get(MESSAGE, "").startswith(TRACE_START)
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
            return NO_HEAD
        if _BY_HAND:
            head = oslo_head(raw)
            if head[7] != ASK:
                return head
        match = oslo(raw)
        if match is None:
            return NO_HEAD
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
        finish(held.fields)

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
        return held.in_trace or fields.get(MESSAGE, "").startswith(TRACE_START)

    def _syslog_line(self, raw: str, offset: int, line: int) -> dict[str, Any] | None:
        """A syslog or journald line's fields, or None when it is none."""
        match = self._syslog(raw) if self._syslog is not None else None
        if match is None:
            return None
        if self._year is None:
            self._year = file_year(self.path)
        fields, program, msg = syslog_fields(match, self.path, offset, line, self._year)
        inner = formats.OSLO_IN_SYSLOG.match(msg)
        if inner is not None:
            self._fill(fields, *inner.groups())
        else:
            fields[LOGGER] = program
            if msg:
                fields[MESSAGE] = msg
        return fields

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
                self._contexts.apply(fields, ctx)
        if msg.startswith("[instance: "):
            match = formats.INSTANCE.match(msg)
            if match is not None:
                fields[INSTANCE_UUID] = match.group("uuid")
                msg = msg[match.end() :]
        if '" status: ' in msg:
            access_fields(fields, msg)
        msg = msg.rstrip()
        if msg:
            fields[MESSAGE] = msg
