"""The html exporter escapes every value it reads from a results or stats file."""

from __future__ import annotations

import html.parser
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT

from osops.dashboard import definitions
from osops.dashboard.html import Html

MARKUP = '<img src=x onerror="alert(1)">'
ALLOWED = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "div",
    "table", "tr", "td", "th", "span", "svg", "text", "rect", "line", "polyline", "circle",
}  # fmt: skip


class Tags(html.parser.HTMLParser):
    """Every element and attribute of a page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def results() -> list[dict[str, Any]]:
    return [
        {
            "check": f"api {MARKUP}",
            "plugin": "memcached",
            "state": f"CRITICAL{MARKUP}",
            "exit_code": 2,
            "summary": f"down </td></tr></table><script>alert(2)</script> {MARKUP}",
            "perfdata": [
                {"label": "hit_ratio", "instance": MARKUP, "value": 5.0, "uom": "%"},
                {"label": "connections_used", "instance": None, "value": 1, "uom": "%"},
            ],
            "details": [],
            "duration_seconds": 0.1,
        }
    ]


def stats() -> dict[str, Any]:
    return {
        "records": 2,
        "unparsed": 0,
        "by_service": {f"nova{MARKUP}": {"ERROR": 1, f"INFO{MARKUP}": 1}},
        "top_errors": [
            {
                "error_type": f"ValueError{MARKUP}",
                "count": f"1{MARKUP}",
                "example": f"bad <script>alert(3)</script> {MARKUP}",
            }
        ],
        "api_requests": 1,
        "api_server_errors": 0,
        "slowest_api_calls": [
            {"duration_seconds": 0.2, "method": f"GET{MARKUP}", "path": f"/v2/{MARKUP}"}
        ],
    }


@pytest.mark.parametrize("name", ["logs", "openstack-overview"])
def test_markup_in_results_and_stats_is_text(name: str, tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(results()))
    (tmp_path / "stats.json").write_text(json.dumps(stats()))
    dashboard = definitions.load(str(ROOT / "dashboards" / f"{name}.yaml"))
    options = {"results": str(tmp_path / "results.json"), "stats": str(tmp_path / "stats.json")}
    page = Html(options).export(dashboard)
    parsed = Tags()
    parsed.feed(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED
    for tag, attrs in parsed.tags:
        assert not [a for a, _ in attrs if a.startswith("on") or a == "src"], tag
    text = "".join(parsed.text)
    assert "<script>" not in page and "<img" not in page
    if name == "openstack-overview":  # the page that draws check results and metrics
        assert f"api {MARKUP}" in text and "alert(2)" in text
        assert f"CRITICAL{MARKUP}" in text
    else:
        assert f"ValueError{MARKUP}" in text and "alert(3)" in text and f"1{MARKUP}" in text
