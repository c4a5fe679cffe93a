"""What an operator wants first from a pile of logs: counts, errors, slow calls; as text."""

from __future__ import annotations

import collections
import heapq
import re
from collections.abc import Iterable
from typing import Any

from osops.log.record import LogRecord

PROBLEM_LEVELS = frozenset({"ERROR", "CRITICAL", "TRACE"})
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

    def add(self, records: Iterable[LogRecord]) -> None:
        for record in records:
            self.records += 1
            if not record.parsed:
                self.unparsed += 1
            service = record.service or "unknown"
            self.by_service_level[service, record.level or "UNPARSED"] += 1
            if record.error_type:
                self.error_types[record.error_type] += 1
                self.error_example.setdefault(record.error_type, record)
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
        }


def _short(record: LogRecord) -> str:
    # An ERROR line may have no text at all: its example is then empty.
    text = record.error_message or next(iter((record.message or "").splitlines()), "")
    return text if len(text) <= 100 else text[:97] + "..."


def render(data: dict[str, Any]) -> str:
    """The stats report as plain text tables."""
    lines = [f"{data['records']} records ({data['unparsed']} unparsed)", ""]
    levels = sorted({lvl for counts in data["by_service"].values() for lvl in counts})
    width = max([len(s) for s in data["by_service"]] + [7])
    lines.append("service".ljust(width) + "".join(f"{lvl:>10}" for lvl in levels))
    for service, counts in data["by_service"].items():
        lines.append(service.ljust(width) + "".join(f"{counts.get(lvl, 0):>10}" for lvl in levels))
    lines += ["", "top errors:"]
    for item in data["top_errors"]:
        label = item["error_type"] or f"(logged by {item['logger']})"
        lines.append(f"  {item['count']:>5}  {label}  [{item['service']}] {item['example']}")
    if not data["top_errors"]:
        lines.append("  none")
    lines += [
        "",
        f"slowest API calls ({data['api_requests']} requests, "
        f"{data['api_server_errors']} with 5xx):",
    ]
    for call in data["slowest_api_calls"]:
        lines.append(
            f"  {call['duration_seconds']:>9.3f}s  {call['status']}  {call['method']} "
            f"{call['path']}  [{call['service']}] {call['request_id'] or '-'}"
        )
    if not data["slowest_api_calls"]:
        lines.append("  none")
    deprecations = data.get("deprecations", [])
    lines += ["", f"deprecation warnings logged ({len(deprecations)} distinct):"]
    for item in deprecations:
        lines.append(
            f"  {item['count']:>5}  {item['host'] or '-'} {item['service']} "
            f"[{item['kind']}] {item['message']}"
        )
    if not deprecations:
        lines.append("  none")
    return "\n".join(lines) + "\n"
