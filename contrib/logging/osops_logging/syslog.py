"""syslog and journald lines: the fields of their own head, and the year they leave out.

Part of the parse state machine (:mod:`osops_logging.lines`), compiled by mypyc
with it.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from osops_logging import formats
from osops_logging.names import FILE, FORMAT, HOST, LABELS, LINE, OFFSET, PID, TIMESTAMP


def syslog_fields(
    match: re.Match[str], path: str, offset: int, line: int, year: int
) -> tuple[dict[str, Any], str, str]:
    """The fields of a :data:`formats.SYSLOG` match, its program and its message.

    rsyslog and journald write a traceback's newlines as "#012": the message
    has them back.
    """
    ts, host, program, pid, msg = match.groups()
    fields = {
        FILE: path,
        OFFSET: offset,
        LINE: line,
        FORMAT: "syslog",
        TIMESTAMP: syslog_time(ts, year),
        HOST: host,
    }
    if pid:
        fields[PID] = int(pid)
    fields[LABELS] = {"program": program}
    return fields, program, msg.replace("#012", "\n")


def file_year(path: str) -> int:
    """The year syslog lines of this file are in: that of its last change (else this year)."""
    try:
        return time.localtime(os.stat(path).st_mtime).tm_year
    except OSError:
        return time.localtime().tm_year


def syslog_time(text: str, year: int) -> str:
    """ "Mar 28 12:20:43.570064" in ``year`` as an ISO 8601 time."""
    month, day, clock = text.split()
    return f"{year:04d}-{formats.MONTHS[month]:02d}-{int(day):02d}T{clock}"
