"""The html exporter: one self-contained page of current check results and log statistics."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Sequence
from typing import Any

from osops.dashboard.base import Exporter
from osops.dashboard.model import Dashboard, Panel
from osops.exceptions import DashboardError
from osops.options import Argument

_COLOURS = {"OK": "#2e7d32", "WARNING": "#f9a825", "CRITICAL": "#c62828", "UNKNOWN": "#6a1b9a"}
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{margin:0 0 4px}h2{margin:28px 0 8px;border-bottom:1px solid #ccc}
.panel{display:inline-block;vertical-align:top;background:#fff;border:1px solid #ddd;
border-radius:6px;padding:10px 14px;margin:6px;min-width:320px}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
.state{color:#fff;border-radius:3px;padding:1px 6px;font-weight:600}.muted{color:#777}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 8px;border-radius:2px}
"""


def _text(value: Any) -> str:
    """Any value read from a results or stats file, as HTML text: never markup."""
    return html.escape("" if value is None else str(value), quote=True)


_PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#4e342e")
# Ids that say nothing in a label: UUIDs and 32-hex project ids, cut to their first 8.
_ID = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{32}")
#: At most this many points on a time plot: longer logs are plotted per 5, 15, 60... minutes.
_POINTS = 360


def middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut in the middle: its head and its tail,
    which say what it is, kept."""
    if len(text) <= width:
        return text
    head = (width - 1) // 3
    return text[:head] + "\u2026" + text[len(text) - (width - 1 - head) :]


def call_label(method: Any, path: Any, width: int = 46) -> str:
    """An API call as a label: the method, the path with its ids cut short, cut in the middle."""
    short = _ID.sub(lambda m: m.group(0)[:8] + "\u2026", str(path or ""))
    method = str(method or "")
    return f"{method} {middle(short, max(8, width - len(method) - 1))}"


def _bars(items: Sequence[tuple[str, float]], unit: str = "", colour: str = "#1565c0") -> str:
    """A horizontal bar chart as inline SVG (each bar's label and value in data- attributes)."""
    if not items:
        return '<p class="muted">no data</p>'
    top = max(value for _, value in items) or 1.0
    height = 22 * len(items) + 6
    rows = []
    for number, (label, value) in enumerate(items):
        y = 4 + 22 * number
        width = max(2.0, 220.0 * value / top)
        shown = middle(str(label), 44)
        rows.append(
            f'<text x="0" y="{y + 14}" font-size="12">{_text(shown)}</text>'
            f'<rect x="300" y="{y}" width="{width:.1f}" height="16" fill="{colour}" '
            f'data-label="{_text(label)}" data-value="{value:g}"/>'
            f'<text x="{304 + width:.1f}" y="{y + 13}" font-size="11">'
            f"{value:g}{_text(unit)}</text>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="{height}" '
        f'role="img">{"".join(rows)}</svg>'
    )


def _minutes(first: str, last: str) -> list[str]:
    """Every minute from ``first`` to ``last`` ("YYYY-MM-DDTHH:MM"), both included."""
    import datetime

    start = datetime.datetime.fromisoformat(first)
    stop = datetime.datetime.fromisoformat(last)
    count = int((stop - start).total_seconds() // 60) + 1
    return [
        (start + datetime.timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M") for n in range(count)
    ]


def time_series(
    counts: dict[str, dict[str, int]], first: str | None, last: str | None
) -> tuple[list[str], dict[str, list[int]], int]:
    """Counts by service and minute as one value per bucket from ``first`` to ``last``.

    Minutes with nothing count 0. Over more than _POINTS minutes, buckets of
    5, 15, 60, 360 or 1440 minutes keep the plot readable.

    :returns: the buckets' first minutes, the values by service, the bucket's minutes
    """
    minutes = sorted({m for per in counts.values() for m in per})
    try:
        low = min([m for m in (first and first[:16], *minutes[:1]) if m])
        high = max([m for m in (last and last[:16], *minutes[-1:]) if m])
        every = _minutes(low, high)
    except ValueError:  # no time at all, or not one osops wrote
        every = minutes
    step = next((n for n in (1, 5, 15, 60, 360, 1440) if len(every) / n <= _POINTS), 10080)
    starts = every[::step]
    index = {minute: n // step for n, minute in enumerate(every)}
    values = {}
    for service in sorted(counts):
        row = [0] * len(starts)
        for minute, count in counts[service].items():
            if minute in index:
                row[index[minute]] += int(count)
        values[service] = row
    return starts, values, step


def _time_plot(
    counts: dict[str, dict[str, int]], first: str | None, last: str | None, what: str
) -> str:
    """Lines per service over time (inline SVG), each line's points in data- attributes."""
    starts, values, step = time_series(counts, first, last)
    if not starts or not values:
        return f'<p class="muted">no {_text(what)}</p>'
    width, height, left, bottom = 600, 200, 40, 170
    peak = max(max(row) for row in values.values()) or 1
    span = max(1, len(starts) - 1)

    def x(n: int) -> float:
        return left + (width - left - 10) * n / span

    def y(value: int) -> float:
        return bottom - (bottom - 10) * value / peak

    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#999"/>',
        f'<line x1="{left}" y1="10" x2="{left}" y2="{bottom}" stroke="#999"/>',
        f'<text x="{left - 4}" y="14" font-size="11" text-anchor="end">{peak}</text>',
        f'<text x="{left - 4}" y="{bottom}" font-size="11" text-anchor="end">0</text>',
        f'<text x="{left}" y="{bottom + 16}" font-size="11">{_text(_when(starts[0]))}</text>',
        f'<text x="{width - 10}" y="{bottom + 16}" font-size="11" text-anchor="end">'
        f"{_text(_when(starts[-1]))}</text>",
    ]
    legend = []
    for number, (service, row) in enumerate(values.items()):
        colour = _PALETTE[number % len(_PALETTE)]
        points = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in enumerate(row))
        data = ";".join(f"{start}={v}" for start, v in zip(starts, row, strict=True))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}" '
            f'data-series="{_text(service)}" data-points="{_text(data)}"/>'
        )
        # A mark on every bucket with something in it: a lone spike stays visible.
        parts += [
            f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
            f"<title>{_text(service)} {_text(_when(starts[n]))}: {v}</title></circle>"
            for n, v in enumerate(row)
            if v
        ]
        legend.append(
            f'<span class="key" style="background:{colour}"></span>{_text(service)} {sum(row)}'
        )
    per = "minute" if step == 1 else f"{step} minutes"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" data-per="{step}">{"".join(parts)}</svg>'
        f'<p class="muted">{_text(what)} per {per}: {" &nbsp; ".join(legend)}</p>'
    )


def _when(minute: str) -> str:
    """A minute as a time axis shows it: "MM-DD HH:MM"."""
    return minute[5:].replace("T", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{_text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_text(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _read(path: str | None, what: str) -> Any:
    if not path:
        return None
    try:
        with open(path) as fh:
            return json.load(fh)
    except OSError as exc:
        raise DashboardError(f"--option {what}={path}: {exc.strerror}") from None
    except ValueError:
        raise DashboardError(f"--option {what}={path}: not JSON written by osops") from None


class Html(Exporter):
    """One self-contained HTML page (no network at view time) with check results and log plots.

    Feed it what osops itself produced: ``results`` from ``osops check suite --save FILE``
    and ``stats`` from ``osops log stats --format json``.
    """

    suffix = ".html"
    media_type = "text/html"
    arguments = (
        Argument("results", "Check results: the JSON of 'osops check suite --save FILE'."),
        Argument("stats", "Log statistics: the JSON of 'osops log stats --format json'."),
    )

    def export(self, dashboard: Dashboard) -> str:
        from osops.check.output import prometheus_name

        results = _read(self.options.get("results"), "results") or []
        stats = _read(self.options.get("stats"), "stats")
        series: dict[str, list[tuple[str, float]]] = {}
        for result in results:
            for perf in result.get("perfdata", []):
                family = prometheus_name(
                    result.get("plugin") or result["check"], perf["label"], perf["uom"]
                )
                label = f"{result['check']}" + (f" {perf['instance']}" if perf["instance"] else "")
                series.setdefault(family, []).append((label, float(perf["value"])))
        body = [
            f"<h1>{html.escape(dashboard.title)}</h1>",
            f'<p class="muted">{html.escape(dashboard.description)} '
            f"Generated by osops {time.strftime('%Y-%m-%d %H:%M:%S')}.</p>",
        ]
        body += self._checks(results)
        for row in dashboard.rows:
            body.append(f"<h2>{html.escape(row.title)}</h2>")
            body += [self._panel(panel, series, stats) for panel in row.panels]
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(dashboard.title)}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(body)}</body></html>\n"
        )

    def _checks(self, results: list[dict[str, Any]]) -> list[str]:
        if not results:
            return []
        counts: dict[str, int] = {}
        rows = []
        for result in results:
            state = str(result["state"])
            counts[state] = counts.get(state, 0) + 1
            rows.append(
                f'<tr><td>{_text(result["check"])}</td><td><span class="state" '
                f'style="background:{_COLOURS.get(state, "#555")}">{_text(state)}</span></td>'
                f"<td>{_text(result['summary'])}</td></tr>"
            )
        chart = "".join(
            _bars([(state, float(count))], colour=_COLOURS.get(state, "#555"))
            for state, count in sorted(counts.items())
        )
        return [
            "<h2>Checks</h2>",
            f'<div class="panel">{chart}</div>',
            f'<div class="panel"><table><tr><th>Check</th><th>State</th><th>Summary</th>'
            f"</tr>{''.join(rows)}</table></div>",
        ]

    def _panel(
        self,
        panel: Panel,
        series: dict[str, list[tuple[str, float]]],
        stats: dict[str, Any] | None,
    ) -> str:
        title = f"<h3>{html.escape(panel.title)}</h3>"
        if panel.source == "metrics":
            items = [
                item
                for name in re.findall(r"\bosops_[a-z0-9_]+", panel.query)
                for item in series.get(name, [])
            ]
            return f'<div class="panel">{title}{_bars(items, _unit(panel.unit))}</div>'
        return f'<div class="panel">{title}{self._logs(panel, stats)}</div>'

    def _logs(self, panel: Panel, stats: dict[str, Any] | None) -> str:
        """A log panel drawn from ``osops log stats`` data, by what the panel asks for."""
        if not stats:
            return '<p class="muted">no log statistics given</p>'
        fields = set(panel.fields) | set(panel.group_by) | set(re.findall(r"[@\w.]+", panel.query))
        per_minute = stats.get("per_minute")
        first, last = stats.get("first_seen"), stats.get("last_seen")
        if panel.type == "timeseries" and "http.response.status_code" in fields:
            if per_minute is None:
                return _older("5xx answers per minute")
            return _time_plot(per_minute.get("server_errors", {}), first, last, "5xx answers")
        if panel.type == "timeseries" and "log.level" in fields:
            if per_minute is None:
                return _older("errors per minute")
            return _time_plot(per_minute.get("errors", {}), first, last, "errors")
        if "error.type" in fields:
            tracebacks = stats.get("top_tracebacks")
            if tracebacks is None:  # older statistics: their tracebacks among the errors
                tracebacks = [e for e in stats.get("top_errors", []) if e.get("error_type")]
            rows: list[tuple[Any, ...]] = [
                (
                    e.get("count"),
                    e.get("error_type"),
                    e.get("example"),
                    ", ".join(map(str, e.get("services") or [e.get("service") or ""])),
                )
                for e in tracebacks
            ]
            return _table(("Count", "Exception", "Message", "Services"), rows)
        if "http.request.method" in fields:
            rows = [
                (
                    c.get("timestamp"),
                    c.get("service"),
                    call_label(c.get("method"), c.get("path")),
                    c.get("status"),
                    f"{float(c.get('duration_seconds') or 0):.3f}s",
                    c.get("request_id"),
                )
                for c in stats.get("slowest_api_calls", [])
            ]
            return _table(("Time", "Service", "Call", "Status", "Duration", "Request"), rows)
        if panel.type == "logs" and "openstack.request_id" in fields:
            failed = stats.get("failed_requests")
            if failed is None:
                return _older("failed requests")
            rows = [
                (
                    f.get("timestamp"),
                    f.get("host"),
                    f.get("service"),
                    f.get("status") or f.get("level"),
                    f.get("request_id"),
                    f.get("global_request_id"),
                    ", ".join(f.get("services") or []),
                    f.get("message"),
                )
                for f in failed
            ]
            note = (
                '<p class="muted">Requests that failed (an error logged under their id, or a '
                "5xx answer), earliest first; 'osops log trace ID FILE...' follows one.</p>"
            )
            headers = (
                "Time",
                "Host",
                "Service",
                "Status",
                "Request",
                "Global",
                "Services",
                "First",
            )
            return note + _table(headers, rows)
        return '<p class="muted">this panel is drawn by Grafana and Kibana, not on this page</p>'


def _older(what: str) -> str:
    return f'<p class="muted">no {_text(what)}: statistics written by an older osops</p>'


def _unit(unit: str) -> str:
    return {"percent": "%", "s": "s"}.get(unit, "")
