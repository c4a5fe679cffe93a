"""Follow one request through records: its ids linked across services, merged by time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from osops.log.record import LogRecord

#: The columns of ``osops log trace``, one :func:`row` each.
COLUMNS = ("Time", "Host", "Service", "Level", "Logger", "Request", "Message")


def follow(
    read: Callable[[], Iterable[LogRecord]],
    wanted: str,
    shown: Callable[[], Iterable[LogRecord]] | None = None,
) -> list[LogRecord]:
    """Every record of the request ``wanted`` (local or global id), merged by time.

    :param read: gives the records from the start; it is called twice (the ids
        first, then the records that carry them)
    :param shown: gives the records to pick from instead of a second ``read``
        (a window of time or level: the ids are linked through every record)
    """
    ids = related_ids(iter(read()), wanted)
    found = [r for r in (shown or read)() if r.request_id in ids or r.global_request_id in ids]
    found.sort(key=lambda r: (r.timestamp or "", r.file, r.offset))
    return found


def row(record: LogRecord) -> tuple[Any, ...]:
    """One record as a row of :data:`COLUMNS`."""
    r = record
    return (r.timestamp, r.host, r.service, r.level, r.logger, r.request_id, message(r))


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


def message(record: LogRecord) -> str:
    message = (record.message or "").strip()
    if record.error_type:
        message += f" ({record.error_type}: {record.error_message or ''})"
    return message
