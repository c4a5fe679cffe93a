"""The parse filter: oslo.log, wsgi access and syslog lines into records; tracebacks folded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from osops.log.base import Filter
from osops.log.fusing import Fused, Step
from osops.log.record import FIELDS, LogRecord
from osops.options import Argument
from osops_logging import lines as machine
from osops_logging.lines import LineParser
from osops_logging.names import END, LABELS, RAW

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


def _build() -> str:
    """Which build of the state machine and grammars is installed (contrib/logging/setup.py)."""
    if str(machine.__file__).endswith(".py"):
        return "pure Python (no C compiler when installed, or OSOPS_MYPYC=0)"
    return "compiled by mypyc"


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
    default_order = 10  # right after redaction: every field parsed is then clean
    #: ``osops plugin show filter parse`` says which build runs.
    build = _build()

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._lines = LineParser("", options.get("format") or "auto", options.get("year"))
        # The record whose line started each record the parser holds, by its fields.
        self._held: dict[int, LogRecord] = {}

    def process(self, record: LogRecord) -> LogRecord | None:
        lines = self._lines
        lines.path = record.file
        done = lines.feed(record.raw, record.offset, record.line, record.end)
        latest = lines.latest
        if latest is not None and id(latest) not in self._held:
            self._held[id(latest)] = record  # this line starts a record
        if done is None:
            return None  # held open, joined to a record held, or waiting its turn
        held = self._held.pop(id(done), None)
        return record if held is None else _apply(held, done)  # else: unknown, alone

    def flush(self) -> Iterable[LogRecord]:
        done, held = self._lines.flush(), self._held
        self._held = {}
        return [_apply(held[id(fields)], fields) for fields in done]

    @classmethod
    def fuse(cls, steps: Sequence[Step]) -> Fused | None:
        """The default chain (redact, parse, enrich) in one pass (:mod:`osops_logging.fused`)."""
        from osops_logging import fused

        return fused.fuse(steps)
