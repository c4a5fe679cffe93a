"""The parse filter: oslo.log, wsgi access and syslog lines into records; tracebacks folded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from osops.log.base import Filter, Fused, Step
from osops.log.record import FIELDS, LogRecord
from osops.options import Argument
from osops_logging.lines import END, LABELS, RAW, LineParser

_ATTRIBUTES = {ecs: attr for attr, ecs in FIELDS.items()} | {RAW: RAW, END: END}


def _apply(record: LogRecord, fields: dict[str, Any]) -> LogRecord:
    """Set a parsed record's attributes from the fields :class:`LineParser` made of its lines."""
    record.parsed = True
    for key, value in fields.items():
        if key == LABELS:  # added to the labels an earlier filter may have set
            record.labels = {**(record.labels or {}), **value}
        else:
            setattr(record, _ATTRIBUTES[key], value)
    return record


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
            min=1,
            max=9999,
        ),
    )
    on_error = "keep"  # an unparsable record is still shipped, tagged

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._lines = LineParser("", options.get("format") or "auto", options.get("year"))
        # The record whose line the parser holds open, and the fields it holds.
        self._held: tuple[LogRecord, dict[str, Any]] | None = None

    def process(self, record: LogRecord) -> LogRecord | None:
        lines = self._lines
        lines.path = record.file
        done = lines.feed(record.raw, record.offset, record.line, record.end)
        held, pending = self._held, lines.pending
        if pending is None:
            self._held = None
        elif held is None or pending is not held[1]:
            self._held = (record, pending)  # this line starts a record
        if done is None:
            return None  # held open, or joined to the record held
        if held is not None and done is held[1]:
            return _apply(held[0], done)
        return record  # a line no grammar knows, alone

    def flush(self) -> Iterable[LogRecord]:
        done, held = self._lines.flush(), self._held
        self._held = None
        return (_apply(held[0], done),) if done is not None and held is not None else ()

    @classmethod
    def fuse(cls, steps: Sequence[Step]) -> Fused | None:
        """The default chain (redact, parse, enrich) in one pass (:mod:`osops_logging.fused`)."""
        from osops_logging import fused

        return fused.fuse(steps)
