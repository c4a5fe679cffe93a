"""Drawing for the html exporter: bars, time plots and tables as inline SVG and HTML text."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any


def text(value: Any) -> str:
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


def bars(items: Sequence[tuple[str, float]], unit: str = "", colour: str = "#1565c0") -> str:
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
            f'<text x="0" y="{y + 14}" font-size="12">{text(shown)}</text>'
            f'<rect x="300" y="{y}" width="{width:.1f}" height="16" fill="{colour}" '
            f'data-label="{text(label)}" data-value="{value:g}"/>'
            f'<text x="{304 + width:.1f}" y="{y + 13}" font-size="11">'
            f"{value:g}{text(unit)}</text>"
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


def time_plot(
    counts: dict[str, dict[str, int]], first: str | None, last: str | None, what: str
) -> str:
    """Lines per service over time (inline SVG), each line's points in data- attributes."""
    starts, values, step = time_series(counts, first, last)
    if not starts or not values:
        return f'<p class="muted">no {text(what)}</p>'
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
        f'<text x="{left}" y="{bottom + 16}" font-size="11">{text(_when(starts[0]))}</text>',
        f'<text x="{width - 10}" y="{bottom + 16}" font-size="11" text-anchor="end">'
        f"{text(_when(starts[-1]))}</text>",
    ]
    legend = []
    for number, (service, row) in enumerate(values.items()):
        colour = _PALETTE[number % len(_PALETTE)]
        points = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in enumerate(row))
        data = ";".join(f"{start}={v}" for start, v in zip(starts, row, strict=True))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}" '
            f'data-series="{text(service)}" data-points="{text(data)}"/>'
        )
        # A mark on every bucket with something in it: a lone spike stays visible.
        parts += [
            f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
            f"<title>{text(service)} {text(_when(starts[n]))}: {v}</title></circle>"
            for n, v in enumerate(row)
            if v
        ]
        legend.append(
            f'<span class="key" style="background:{colour}"></span>{text(service)} {sum(row)}'
        )
    per = "minute" if step == 1 else f"{step} minutes"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" data-per="{step}">{"".join(parts)}</svg>'
        f'<p class="muted">{text(what)} per {per}: {" &nbsp; ".join(legend)}</p>'
    )


def _when(minute: str) -> str:
    """A minute as a time axis shows it: "MM-DD HH:MM"."""
    return minute[5:].replace("T", " ")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{text(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
