"""quota_headroom's list of projects, page by page as Keystone gives it, without a server."""

from __future__ import annotations

import time
from typing import Any

import pytest

from osops.exceptions import CheckError
from osops_monitoring.quota import PAGE, QuotaHeadroom


def listing(pages: dict[str, Any], within: float = 10, **options: Any) -> list[tuple[str, str]]:
    check = QuotaHeadroom({"project": None, **options}, 10.0)
    asked: list[str] = []

    def request(
        session: Any, method: str, service: str, path: str, timeout: float | None = None
    ) -> Any:
        assert (method, service) == ("GET", "identity")
        assert timeout is not None and 0 < timeout <= within  # the pages share the deadline
        asked.append(path)
        return pages[path]

    check.request = request  # type: ignore[method-assign,assignment]
    found = check._projects(None, time.monotonic() + within)  # type: ignore[arg-type]
    assert asked == list(pages)
    return found


def page(first: int, last: int) -> list[dict[str, Any]]:
    return [{"id": f"id-{n:04d}", "name": f"p-{n:04d}"} for n in range(first, last)]


def test_every_page_of_projects() -> None:
    """Keystone (30.0.0, the test cloud's) lists max_db_limit (1000) projects at most,
    silently; asked for a limit, it links the next page. Project 1001 was left out
    before (bench/cloud_scale.py found it)."""
    pages = {
        f"/projects?limit={PAGE}": {
            "projects": page(0, 1000),
            "links": {"next": f"http://ks:5000/v3/projects?marker=id-0999&limit={PAGE}"},
            "truncated": True,
        },
        f"/projects?marker=id-0999&limit={PAGE}": {
            "projects": [*page(1000, 1001), {"id": "d", "name": "d", "is_domain": True}],
            "links": {"next": None},
        },
    }
    found = listing(pages)
    assert found == [(f"id-{n:04d}", f"p-{n:04d}") for n in range(1001)]


def test_one_page_as_older_keystones_answer() -> None:
    pages = {f"/projects?limit={PAGE}": {"projects": page(0, 3), "links": {"next": None}}}
    assert len(listing(pages)) == 3
    found = listing(pages, project=["p-0001"])
    assert found == [("id-0001", "p-0001")]


def test_a_truncated_list_without_a_next_page_is_unknown() -> None:
    """A Keystone with list_limit and no pagination: the check cannot claim every project."""
    pages = {f"/projects?limit={PAGE}": {"projects": page(0, 100), "truncated": True}}
    with pytest.raises(CheckError) as raised:
        listing(pages)
    assert str(raised.value) == (
        "identity API listed only 100 projects (truncated by Keystone's list_limit): raise it"
    )


def test_an_exactly_full_last_page_is_followed_by_an_empty_one() -> None:
    """Keystone links a next page whenever a page is full: the last may be empty."""
    pages = {
        f"/projects?limit={PAGE}": {
            "projects": page(0, PAGE),
            "links": {"next": f"http://ks/v3/projects?marker=id-0999&limit={PAGE}"},
        },
        f"/projects?marker=id-0999&limit={PAGE}": {"projects": [], "links": {"next": None}},
    }
    assert len(listing(pages)) == PAGE


def test_listing_past_the_deadline_is_unknown_not_unreached() -> None:
    """A slow Keystone: the pages share the check's deadline, and say so when it passes."""
    pages = {f"/projects?limit={PAGE}": {"projects": page(0, 3), "links": {"next": None}}}
    with pytest.raises(CheckError) as raised:
        listing(pages, within=-1)
    assert str(raised.value) == (
        "identity API listed 0 projects and more by 10s (a longer --timeout lists them all)"
    )


def test_a_next_link_to_the_same_page_ends_the_list() -> None:
    again = f"/projects?limit={PAGE}"
    pages = {again: {"projects": page(0, 2), "links": {"next": f"http://ks/v3{again}"}}}
    assert len(listing(pages)) == 2
