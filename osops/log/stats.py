"""What an operator wants first from a pile of logs: counts, errors, slow calls."""

from __future__ import annotations

import collections
import heapq
import re
from collections.abc import Iterable
from typing import Any

from osops.log.record import LogRecord

PROBLEM_LEVELS = frozenset({"ERROR", "CRITICAL", "TRACE"})
#: Failed requests remembered at most (the earliest are reported).
FAILED_KEPT = 10_000
_DIGITS = re.compile(r"\d+")
# oslo.config's warning for an option set under a deprecated name or group, or
# deprecated for removal ("Option "X" from group "Y" is deprecated ...").
_OPTION = re.compile(r'Option "(?P<option>[^"]+)" from group "(?P<group>[^"]+)" is deprecated')
# oslo.policy's warning for a rule whose default changed under a deprecated name.
_POLICY = re.compile(r'Policy "[^"]+":"[^"]*" was deprecated')
# Python's warnings as logging captures them: "path.py:12: DeprecationWarning: text".
_WARNING = re.compile(r"^\S+\.py:\d+: (?:\w+)?DeprecationWarning: ")


class Stats:
    """Streaming aggregation; memory grows with distinct keys, not with lines."""

    def __init__(self, top: int = 10) -> None:
        self.top = top
        self.records = 0
        self.unparsed = 0
        self.by_service_level: collections.Counter[tuple[str, str]] = collections.Counter()
        self.error_types: collections.Counter[str] = collections.Counter()
        self.error_example: dict[str, LogRecord] = {}
        self.requests = 0
        self.server_errors = 0
        self._slowest: list[tuple[int, int, LogRecord]] = []
        self._deprecations: dict[tuple[str, str, str], dict[str, Any]] = {}
        #: The earliest and latest time of any record.
        self.first_seen: str | None = None
        self.last_seen: str | None = None
        # Errors (PROBLEM_LEVELS) and 5xx answers, by service and minute ("YYYY-MM-DDTHH:MM").
        self.errors_per_minute: collections.Counter[tuple[str, str]] = collections.Counter()
        self.server_errors_per_minute: collections.Counter[tuple[str, str]] = collections.Counter()
        # Tracebacks by exception type: the services that logged them.
        self._traceback_services: dict[str, set[str]] = {}
        # Requests that failed (an error logged under their id, or a 5xx answer), by
        # global id where one links services, else request id: at most FAILED_KEPT.
        self._failed: dict[str, dict[str, Any]] = {}

    def add(self, records: Iterable[LogRecord]) -> None:
        for record in records:
            self.records += 1
            if not record.parsed:
                self.unparsed += 1
            service = record.service or "unknown"
            self.by_service_level[service, record.level or "UNPARSED"] += 1
            stamp = record.timestamp
            if stamp:
                if self.first_seen is None or stamp < self.first_seen:
                    self.first_seen = stamp
                if self.last_seen is None or stamp > self.last_seen:
                    self.last_seen = stamp
            problem = record.level in PROBLEM_LEVELS
            failed = record.http_status is not None and record.http_status >= 500
            if stamp and problem:
                self.errors_per_minute[service, stamp[:16]] += 1
            if stamp and failed:
                self.server_errors_per_minute[service, stamp[:16]] += 1
            if (problem or failed) and (record.request_id or record.global_request_id):
                self._failed_request(record, service)
            if record.error_type:
                self.error_types[record.error_type] += 1
                self.error_example.setdefault(record.error_type, record)
                self._traceback_services.setdefault(record.error_type, set()).add(service)
            elif record.level in PROBLEM_LEVELS:
                # No traceback: group by logger and the message with its numbers masked,
                # so "retrying in 1 seconds" and "in 3 seconds" count as one problem.
                first = (record.message or "").splitlines()[0][:60] if record.message else ""
                key = f"{record.logger or '-'}: {_DIGITS.sub('#', first)}"
                self.error_types[key] += 1
                self.error_example.setdefault(key, record)
            if record.level == "WARNING" and record.message and "eprecat" in record.message:
                self._deprecation(record)
            if record.duration_ns is not None and record.http_method:
                self.requests += 1
                if record.http_status is not None and record.http_status >= 500:
                    self.server_errors += 1
                item = (record.duration_ns, self.records, record)
                if len(self._slowest) < self.top:
                    heapq.heappush(self._slowest, item)
                else:
                    heapq.heappushpop(self._slowest, item)

    def _failed_request(self, record: LogRecord, service: str) -> None:
        """Note a failed request: its earliest problem record, how many, which services."""
        key = record.global_request_id or record.request_id or ""
        found = self._failed.get(key)
        if found is None:
            if len(self._failed) >= FAILED_KEPT:
                return
            found = self._failed[key] = {"problems": 0, "services": set(), "record": record}
        found["problems"] += 1
        found["services"].add(service)
        first: LogRecord = found["record"]
        if record.timestamp and (not first.timestamp or record.timestamp < first.timestamp):
            found["record"] = record

    def _deprecation(self, record: LogRecord) -> None:
        """Count one deprecation warning a service logged, once per host, service and text."""
        text = " ".join((record.message or "").split())[:300]
        option = _OPTION.search(text)
        if option:
            kind = "option"
        elif _POLICY.search(text):
            kind = "policy"
        elif _WARNING.match(text) or (record.logger or "") == "py.warnings":
            kind = "python"
        elif "deprecat" in text.lower():
            kind = "other"
        else:
            return
        key = (record.host or "", record.service or "unknown", text)
        found = self._deprecations.get(key)
        if found is None:
            found = self._deprecations[key] = {
                "host": record.host,
                "service": record.service or "unknown",
                "kind": kind,
                "message": text,
                "group": option.group("group") if option else None,
                "option": option.group("option") if option else None,
                "logger": record.logger,
                "count": 0,
                "first_seen": record.timestamp,
                "last_seen": record.timestamp,
            }
        found["count"] += 1
        if record.timestamp:
            if not found["first_seen"] or record.timestamp < found["first_seen"]:
                found["first_seen"] = record.timestamp
            if not found["last_seen"] or record.timestamp > found["last_seen"]:
                found["last_seen"] = record.timestamp

    @property
    def deprecations(self) -> list[dict[str, Any]]:
        """Every distinct deprecation warning, by host, service and text."""
        return [self._deprecations[key] for key in sorted(self._deprecations)]

    @property
    def slowest(self) -> list[LogRecord]:
        return [item[2] for item in sorted(self._slowest, reverse=True)]

    def as_dict(self) -> dict[str, Any]:
        levels: dict[str, dict[str, int]] = {}
        for (service, level), count in sorted(self.by_service_level.items()):
            levels.setdefault(service, {})[level] = count
        return {
            "records": self.records,
            "unparsed": self.unparsed,
            "by_service": levels,
            "top_errors": [
                {
                    "error_type": self.error_example[name].error_type,
                    "logger": self.error_example[name].logger,
                    "count": count,
                    "service": self.error_example[name].service,
                    "example": _short(self.error_example[name]),
                    "first_seen": self.error_example[name].timestamp,
                    "request_id": self.error_example[name].request_id,
                }
                for name, count in self.error_types.most_common(self.top)
            ],
            "api_requests": self.requests,
            "api_server_errors": self.server_errors,
            "slowest_api_calls": [
                {
                    "duration_seconds": r.duration,
                    "method": r.http_method,
                    "path": r.url_path,
                    "status": r.http_status,
                    "service": r.service,
                    "request_id": r.request_id,
                    "timestamp": r.timestamp,
                }
                for r in self.slowest
            ],
            "deprecations": self.deprecations,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "per_minute": {
                "errors": _by_service(self.errors_per_minute),
                "server_errors": _by_service(self.server_errors_per_minute),
            },
            "top_tracebacks": self.top_tracebacks,
            "failed_requests": self.failed_requests,
        }

    @property
    def top_tracebacks(self) -> list[dict[str, Any]]:
        """The most frequent exception types of tracebacks, with the services logging them."""
        found = [
            (count, name)
            for name, count in self.error_types.most_common()
            if name in self._traceback_services
        ]
        return [
            {
                "error_type": name,
                "count": count,
                "example": _exception(self.error_example[name]),
                "services": sorted(self._traceback_services[name]),
                "first_seen": self.error_example[name].timestamp,
                "request_id": self.error_example[name].request_id,
            }
            for count, name in found[: self.top]
        ]

    @property
    def failed_requests(self) -> list[dict[str, Any]]:
        """The earliest failed requests: what to look up first (osops log trace ID)."""
        found = sorted(
            self._failed.values(),
            key=lambda f: (f["record"].timestamp or "~", f["record"].request_id or ""),
        )
        out = []
        for item in found[: self.top]:
            record: LogRecord = item["record"]
            out.append(
                {
                    "timestamp": record.timestamp,
                    "host": record.host,
                    "service": record.service or "unknown",
                    "level": record.level,
                    "logger": record.logger,
                    "request_id": record.request_id,
                    "global_request_id": record.global_request_id,
                    "status": record.http_status,
                    "message": _short(record),
                    "problems": item["problems"],
                    "services": sorted(item["services"]),
                }
            )
        return out


def _by_service(counts: collections.Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Counts keyed (service, minute) as {service: {minute: count}}, both sorted."""
    out: dict[str, dict[str, int]] = {}
    for (service, minute), count in sorted(counts.items()):
        out.setdefault(service, {})[minute] = count
    return out


def _exception(record: LogRecord) -> str:
    """What a traceback's exception said: its message, else its type.

    Never the "Traceback (most recent call last):" header or a source line,
    which say nothing of the error (the parser sets ``error.type`` only from
    an exception line).
    """
    text = record.error_message or record.error_type or ""
    return text if len(text) <= 100 else text[:97] + "..."


def _short(record: LogRecord) -> str:
    # An ERROR line may have no text at all: its example is then empty.
    text = record.error_message or next(iter((record.message or "").splitlines()), "")
    return text if len(text) <= 100 else text[:97] + "..."
