"""Human-readable one-record-per-line rendering for ``--format text``."""

from __future__ import annotations

from osops.log.record import LogRecord


def line(record: LogRecord, with_trace: bool = True) -> str:
    """``<time> <service> <LEVEL> <logger> [<request>] <message>``, tracebacks indented."""
    if not record.parsed:
        return f"{record.file}:{record.line}: (unparsed) {record.raw}"
    request = f" [{record.request_id}]" if record.request_id else ""
    head = (
        f"{record.timestamp or '-'} {record.service or '-'} {record.level or '-'} "
        f"{record.logger or '-'}{request} {(record.message or '').strip()}"
    )
    if with_trace and record.stack_trace:
        head += "\n" + "\n".join("    " + text for text in record.stack_trace.splitlines())
    return head
