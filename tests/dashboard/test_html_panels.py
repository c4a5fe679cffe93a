"""The html exporter's log panels show what their titles say, on known statistics.

Each panel of dashboards/logs.yaml is read back from the page (its table's
cells, its lines' data- attributes) and compared with what the statistics
hold for it; the statistics themselves are compared with the records
``osops log parse`` writes for the same files.
"""

from __future__ import annotations

import collections
import html.parser
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, SAMPLES, run_osops

from osops.dashboard import definitions
from osops.dashboard.html import Html, call_label, middle, time_series

PATH = "/v2/807a77751fc84631875e6bc15f58e0c7/servers/a18a5824-4215-4e24-bcfc-cb9f89f6bcbd/action"
STATS: dict[str, Any] = {
    "records": 60,
    "unparsed": 0,
    "by_service": {"nova-api": {"ERROR": 4, "INFO": 40}, "neutron-server": {"ERROR": 2}},
    "first_seen": "2024-05-02T09:00:10.000",
    "last_seen": "2024-05-02T09:03:59.000",
    "per_minute": {
        "errors": {
            "nova-api": {"2024-05-02T09:00": 3, "2024-05-02T09:02": 1},
            "neutron-server": {"2024-05-02T09:01": 2},
        },
        "server_errors": {"nova-api": {"2024-05-02T09:02": 2}},
    },
    "top_errors": [  # what the text report lists: tracebacks and errors without one
        {
            "error_type": None,
            "logger": "nova.api",
            "count": 9,
            "service": "nova-api",
            "example": "Traceback (most recent call last):",
        },
        {
            "error_type": "ValueError",
            "logger": "nova.api",
            "count": 3,
            "service": "nova-api",
            "example": "no host",
        },
    ],
    "top_tracebacks": [
        {
            "error_type": "ValueError",
            "count": 3,
            "example": "no host",
            "services": ["nova-api", "nova-compute"],
            "first_seen": "2024-05-02T09:00:11.000",
            "request_id": "req-1",
        },
    ],
    "api_requests": 5,
    "api_server_errors": 2,
    "slowest_api_calls": [
        {
            "duration_seconds": 12.2088718,
            "method": "POST",
            "path": PATH,
            "status": 500,
            "service": "nova-api",
            "request_id": "req-2",
            "timestamp": "2024-05-02T09:02:30.000",
        },
        {
            "duration_seconds": 0.5,
            "method": "GET",
            "path": "/v2.1/flavors",
            "status": 200,
            "service": "nova-api",
            "request_id": "req-3",
            "timestamp": "2024-05-02T09:00:30.000",
        },
    ],
    "failed_requests": [
        {
            "timestamp": "2024-05-02T09:00:11.000",
            "host": "ctl1",
            "service": "nova-api",
            "level": "ERROR",
            "logger": "nova.api",
            "request_id": "req-1",
            "global_request_id": "req-g",
            "status": None,
            "message": "no host",
            "problems": 2,
            "services": ["nova-api", "nova-compute"],
        },
    ],
    "deprecations": [],
}


class Panels(html.parser.HTMLParser):
    """Each panel of a page by its title: its tables' rows, its lines, its bars, its text."""

    def __init__(self) -> None:
        super().__init__()
        self.panels: dict[str, dict[str, Any]] = {}
        self._panel: dict[str, Any] | None = None
        self._in: str | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "h3":
            self._in = "title"
        elif tag == "tr" and self._panel is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._in = "cell"
            self._row.append("")
        elif tag == "polyline" and self._panel is not None:
            points = dict(p.split("=") for p in (values["data-points"] or "").split(";"))
            self._panel["lines"][values["data-series"]] = {k: int(v) for k, v in points.items()}
        elif tag == "rect" and self._panel is not None and "data-label" in values:
            self._panel["bars"][values["data-label"]] = float(values["data-value"] or 0)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._panel is not None and self._row is not None:
            self._panel["rows"].append(self._row)
            self._row = None
        if tag in ("h3", "td", "th"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self._panel = self.panels[data] = {"rows": [], "lines": {}, "bars": {}, "text": ""}
        elif self._in == "cell" and self._row is not None:
            self._row[-1] += data
        elif self._panel is not None:
            self._panel["text"] += data


def page(stats: dict[str, Any], tmp_path: Path, name: str = "logs") -> dict[str, dict[str, Any]]:
    (tmp_path / "stats.json").write_text(json.dumps(stats))
    dashboard = definitions.load(str(ROOT / "dashboards" / f"{name}.yaml"))
    parsed = Panels()
    parsed.feed(Html({"stats": str(tmp_path / "stats.json")}).export(dashboard))
    return parsed.panels


def test_errors_by_service_is_errors_per_minute_by_service(tmp_path: Path) -> None:
    panel = page(STATS, tmp_path)["Errors by service"]
    # Every minute from the first record to the last, nothing counting 0.
    assert panel["lines"] == {
        "neutron-server": {
            "2024-05-02T09:00": 0, "2024-05-02T09:01": 2,
            "2024-05-02T09:02": 0, "2024-05-02T09:03": 0,
        },
        "nova-api": {
            "2024-05-02T09:00": 3, "2024-05-02T09:01": 0,
            "2024-05-02T09:02": 1, "2024-05-02T09:03": 0,
        },
    }  # fmt: skip
    assert "errors per minute" in panel["text"] and "nova-api 4" in panel["text"]
    assert not panel["rows"] and not panel["bars"]


def test_5xx_answers_by_service_are_5xx_per_minute_not_the_slowest_calls(tmp_path: Path) -> None:
    panel = page(STATS, tmp_path)["5xx answers by service"]
    assert panel["lines"] == {
        "nova-api": {
            "2024-05-02T09:00": 0, "2024-05-02T09:01": 0,
            "2024-05-02T09:02": 2, "2024-05-02T09:03": 0,
        }
    }  # fmt: skip
    assert "12.2" not in panel["text"] and not panel["rows"]


def test_top_tracebacks_are_exceptions_with_their_messages(tmp_path: Path) -> None:
    panel = page(STATS, tmp_path)["Top tracebacks"]
    assert panel["rows"] == [
        ["Count", "Exception", "Message", "Services"],
        ["3", "ValueError", "no host", "nova-api, nova-compute"],
    ]
    assert "Traceback (most recent call last)" not in json.dumps(panel)


def test_slowest_calls_are_labelled_by_method_and_tail(tmp_path: Path) -> None:
    panel = page(STATS, tmp_path)["Slowest API calls"]
    assert panel["rows"] == [
        ["Time", "Service", "Call", "Status", "Duration", "Request"],
        ["2024-05-02T09:02:30.000", "nova-api", "POST /v2/807a7775…/servers/a18a5824…/action",
         "500", "12.209s", "req-2"],
        ["2024-05-02T09:00:30.000", "nova-api", "GET /v2.1/flavors", "200", "0.500s", "req-3"],
    ]  # fmt: skip


def test_request_lookup_lists_the_failed_requests_to_trace(tmp_path: Path) -> None:
    panel = page(STATS, tmp_path)["Request lookup"]
    assert panel["rows"] == [
        ["Time", "Host", "Service", "Status", "Request", "Global", "Services", "First"],
        ["2024-05-02T09:00:11.000", "ctl1", "nova-api", "ERROR", "req-1", "req-g",
         "nova-api, nova-compute", "no host"],
    ]  # fmt: skip
    assert "osops log trace ID" in panel["text"]


def test_statistics_of_an_older_osops_say_what_they_lack(tmp_path: Path) -> None:
    old = {k: v for k, v in STATS.items() if k not in ("per_minute", "top_tracebacks",
                                                       "failed_requests")}  # fmt: skip
    panels = page(old, tmp_path)
    assert "written by an older osops" in panels["Errors by service"]["text"]
    assert "written by an older osops" in panels["Request lookup"]["text"]
    # Their tracebacks are those of their top errors that have an exception type.
    assert [row[1] for row in panels["Top tracebacks"]["rows"][1:]] == ["ValueError"]


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("short", 10, "short"),
        ("abcdefghijklmnopqrstuvwxyz", 10, "abc…uvwxyz"),
        ("abcdefghijklmnopqrstuvwxyz", 26, "abcdefghijklmnopqrstuvwxyz"),
    ],
)
def test_labels_are_cut_in_the_middle(text: str, width: int, expected: str) -> None:
    assert middle(text, width) == expected
    assert len(middle(text, width)) <= width


def test_call_labels_keep_the_method_and_the_meaningful_tail() -> None:
    label = call_label("GET", PATH)
    assert label == "GET /v2/807a7775…/servers/a18a5824…/action"
    long = call_label("DELETE", "/v3/" + "/".join(f"segment{n}" for n in range(20)) + "/detail")
    assert len(long) == 46 and long.startswith("DELETE /v3/seg") and long.endswith("/detail")


def test_long_logs_are_plotted_in_wider_buckets_counting_everything() -> None:
    counts = {"nova-api": {"2024-05-02T09:00": 1, "2024-05-03T08:59": 2, "2024-05-04T09:00": 4}}
    starts, values, step = time_series(counts, "2024-05-02T09:00:00", "2024-05-04T09:00:00")
    assert step == 15  # two days of minutes: 2881 points are too many, 193 are not
    assert len(starts) == 193 and starts[0] == "2024-05-02T09:00"
    assert sum(values["nova-api"]) == 7
    assert values["nova-api"][starts.index("2024-05-03T08:45")] == 2


def test_the_quick_starts_page_draws_the_parsed_records(tmp_path: Path) -> None:
    files = [str(p) for p in sorted(SAMPLES.glob("hp-ms-01-c29.*.log"))]
    stats = json.loads(run_osops("log", "stats", *files, "--format", "json").stdout)
    records = [json.loads(line) for line in run_osops("log", "parse", *files).stdout.splitlines()]
    # The statistics count what the records say, minute by minute ...
    errors: collections.Counter[tuple[str, str]] = collections.Counter()
    failed: collections.Counter[tuple[str, str]] = collections.Counter()
    for r in records:
        minute = r.get("@timestamp", "")[:16]
        if minute and r.get("log.level") in ("ERROR", "CRITICAL", "TRACE"):
            errors[r["service.name"], minute] += 1
        if minute and r.get("http.response.status_code", 0) >= 500:
            failed[r["service.name"], minute] += 1
    flat = {
        kind: {(s, m): n for s, per in stats["per_minute"][kind].items() for m, n in per.items()}
        for kind in ("errors", "server_errors")
    }
    assert flat["errors"] == dict(errors) and sum(errors.values()) == 34
    assert flat["server_errors"] == dict(failed) and sum(failed.values()) == 1
    # ... and the page draws the statistics: every count, in its service's line.
    panels = page(stats, tmp_path)
    for title, kind in (
        ("Errors by service", "errors"),
        ("5xx answers by service", "server_errors"),
    ):
        lines = panels[title]["lines"]
        assert {s: sum(points.values()) for s, points in lines.items()} == {
            s: sum(per.values()) for s, per in stats["per_minute"][kind].items()
        }
    tracebacks = panels["Top tracebacks"]["rows"][1:]
    assert tracebacks and all(row[1] != "None" for row in tracebacks)
    assert not [row for row in tracebacks if row[2].startswith(("Traceback", "File ", "  "))]
