"""The window filter: only records between two times and at or above a level.

``osops log parse``, ``stats`` and ``trace`` add it for ``--since``,
``--until`` and ``--level``. Times are compared as the logs write them (oslo.log
writes local time and no zone): a bound is an ISO 8601 date and time without
an offset, and a record's ``@timestamp`` is compared with it as text, which
orders the same. ``--since`` is inclusive and ``--until`` exclusive, so
``--since 02:10 --until 02:20`` is ten minutes and the next ten start at
02:20. A time without a date (``HH:MM[:SS]``) is taken on the date of the
other bound, or, neither having one, of the first record read; an ``--until``
so taken that is not after ``--since`` is on the next day. The commands settle
that before they build the chain (:func:`settle`), so every file and every
worker uses the same bounds. A
record with no time (a line no grammar knows) is outside any time bound, one
with no level below any level.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any

from osops.exceptions import UsageError
from osops.log.base import Filter
from osops.log.record import LogRecord
from osops.options import Argument

#: Levels from lowest to highest; Kilo's TRACE lines are an ERROR's traceback.
LEVELS = {
    "DEBUG": 10,
    "INFO": 20,
    "AUDIT": 25,
    "WARNING": 30,
    "ERROR": 40,
    "TRACE": 40,
    "CRITICAL": 50,
}
_TIME = re.compile(r"(?P<clock>\d\d:\d\d(?::\d\d(?:\.\d{1,6})?)?)")
_DATE_TIME = re.compile(r"(?P<date>\d{4}-\d\d-\d\d)(?:[T ]" + _TIME.pattern + ")?")


def parse_time(text: str, option: str) -> tuple[str | None, str]:
    """An ISO 8601 date and time, or a time of day, as (date or None, time).

    :raises UsageError: anything else, or an offset (the logs carry none)
    """
    text = text.strip()
    match = _DATE_TIME.fullmatch(text) or _TIME.fullmatch(text)
    if match is None:
        zone = re.search(r"(Z|[+-]\d\d:?\d\d)$", text)
        why = (
            "logs carry no time zone: give the time as they write it"
            if zone and _DATE_TIME.fullmatch(text[: zone.start()])
            else "expected YYYY-MM-DD[THH:MM[:SS]] or HH:MM[:SS]"
        )
        raise UsageError(f"{option} {text!r}: {why}")
    date = match.groupdict().get("date")
    clock = match.group("clock") or "00:00"
    try:
        if date:
            datetime.date.fromisoformat(date)
        datetime.time.fromisoformat(clock)
    except ValueError as exc:
        raise UsageError(f"{option} {text!r}: {exc}") from None
    return date, clock if clock.count(":") == 2 else clock + ":00"


def settle(since: str | None, until: str | None, first: str | None) -> tuple[str, str]:
    """Both bounds as ISO 8601 text ("" for none).

    A time alone is on the date of the other bound, or, neither having one, of
    the first record read. A time alone for ``until`` that is not after
    ``since`` is on the next day (``--since 23:50 --until 00:10``).

    :param first: the ``@timestamp`` of the first record read (None: no record
        has a time, and none is kept whatever the date)
    :raises UsageError: a bound is not a time, or ``--until`` is not after ``--since``
    """
    low = parse_time(since, "--since") if since else None
    high = parse_time(until, "--until") if until else None
    # A time alone takes the other bound's date, else the first record's.
    dates = [b[0] for b in (low, high) if b and b[0]]
    day = dates[0] if dates else (first or "")[:10] or "0001-01-01"
    texts = [f"{b[0] or day}T{b[1]}" if b else "" for b in (low, high)]
    if low and high and high[0] is None and texts[1] <= texts[0]:
        next_day = datetime.date.fromisoformat(texts[1][:10]) + datetime.timedelta(days=1)
        texts[1] = next_day.isoformat() + texts[1][10:]
    if texts[0] and texts[1] and texts[1] <= texts[0]:
        raise UsageError(f"--until {until} is not after --since {since}")
    return texts[0], texts[1]


def needs_first_time(since: str | None, until: str | None) -> bool:
    """Whether the bounds given are times alone, whose date is the first record's."""
    given = [parse_time(t, "") for t in (since, until) if t]
    return bool(given) and all(date is None for date, _ in given)


def window_options(
    since: str | None, until: str | None, level: str | None, first: Iterable[LogRecord] = ()
) -> list[str]:
    """``--filter-option`` pairs of the window step, its times settled.

    :param first: records in reading order; read (lazily, up to the first with a
        time) only when a bound is a time alone
    :raises UsageError: a bad time or level
    """
    stamp = None
    if needs_first_time(since, until):
        stamp = next((r.timestamp for r in first if r.timestamp), None)
    low, high = settle(since, until, stamp)
    pairs = [f"window.since={low}"] if low else []
    pairs += [f"window.until={high}"] if high else []
    if level:
        if level.upper() not in LEVELS:
            raise UsageError(f"--level {level!r}: one of {', '.join(LEVELS)}")
        pairs.append(f"window.level={level.upper()}")
    return pairs


class Window(Filter):
    """Keep only records from a time on, before a time, at or above a level.

    Times are ISO 8601 without an offset, compared with ``@timestamp`` as the logs
    write it; ``since`` is inclusive, ``until`` exclusive. A record without a time
    is outside a time bound; one without a level is below a level.
    """

    arguments = (
        Argument("since", "Keep records from this time on (YYYY-MM-DDTHH:MM[:SS])."),
        Argument("until", "Keep records before this time (YYYY-MM-DDTHH:MM[:SS])."),
        Argument("level", "Keep records at this level or above.", choices=tuple(LEVELS)),
    )
    on_error = "drop"  # a record the window cannot judge is not in it

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        for name in ("since", "until"):
            if options.get(name) and parse_time(options[name], f"window.{name}")[0] is None:
                raise UsageError(
                    f"filter 'window': {name} needs a date (--{name} settles a time alone)"
                )
        self.since, self.until = settle(options.get("since"), options.get("until"), None)
        level = options.get("level")
        self.floor = LEVELS[level] if level else 0

    def admits(self, timestamp: str | None, level: str | None) -> bool:
        """Whether a record of this time and level is in the window (fused chains ask too)."""
        if self.since or self.until:
            if not timestamp:
                return False
            if self.since and timestamp < self.since:
                return False
            if self.until and timestamp >= self.until:
                return False
        return not self.floor or LEVELS.get(level or "", 0) >= self.floor

    def process(self, record: LogRecord) -> LogRecord | None:
        return record if self.admits(record.timestamp, record.level) else None
