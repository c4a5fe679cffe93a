"""quota_headroom's projects from Keystone, without a server: every one page by page, or
only those --project names, looked up by id or name."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest

from osops.check import runner
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


# -- --project: only the projects named ----------------------------------------------------


class Answer:
    """An answer as keystoneauth1 gives it with decode=False: a status and a JSON body."""

    def __init__(self, body: Any, status: int = 200) -> None:
        self.status_code = 404 if body is None else status
        self.body = body

    def json(self) -> Any:
        return self.body


def project(name: str, domain: str = "default", **more: Any) -> dict[str, Any]:
    return {"id": f"id-{name}-{domain}", "name": name, "domain_id": domain, **more}


def keystone(*projects: dict[str, Any]) -> dict[str, Any]:
    """Keystone's answers about these projects: each by its id, and each name's matches.
    A path not here is an id no project has (404), or a name none has (no projects)."""
    answers: dict[str, Any] = {f"/projects/{p['id']}": {"project": p} for p in projects}
    for name in {p["name"] for p in projects}:
        answers[f"/projects?name={name}"] = {
            "projects": [p for p in projects if p["name"] == name]
        }
    return answers


def identity(answers: dict[str, Any], path: str, decode: bool, allow: tuple[int, ...]) -> Any:
    if path.startswith("/projects/"):
        assert not decode and {403, 404} <= set(allow)  # read, not raised
        answer = answers.get(path)
        return answer if isinstance(answer, Answer) else Answer(answer)
    assert path.startswith("/projects?name=") and decode, path
    return answers.get(path, {"projects": []})


def named(
    answers: dict[str, Any], *wanted: str, within: float = 10, slow: str = ""
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """The projects and notes _named finds, and the paths it asked for; the call for
    path ``slow`` answers only after the deadline."""
    check = QuotaHeadroom({"project": list(wanted)}, 10.0)
    deadline = time.monotonic() + within
    asked: list[str] = []

    def request(
        session: Any,
        method: str,
        service: str,
        path: str,
        timeout: float | None = None,
        decode: bool = True,
        allow: tuple[int, ...] = (),
    ) -> Any:
        assert (method, service) == ("GET", "identity")
        assert timeout is not None and 0 < timeout <= within  # the lookups share the deadline
        asked.append(path)
        if path == slow:
            time.sleep(max(0.0, deadline - time.monotonic()) + 0.01)
        return identity(answers, path, decode, allow)

    check.request = request  # type: ignore[method-assign,assignment]
    projects, notes = check._named(None, deadline, list(wanted))  # type: ignore[arg-type]
    return projects, notes, asked


def run(answers: dict[str, Any], used: dict[str, int], *argv: str) -> tuple[int, str, list[str]]:
    """osops check run quota_headroom ARGV against Keystone's answers and nova's cores in
    use by project id (of 20; the volume and network quotas skipped): exit code, output,
    and the paths asked for."""
    asked: list[str] = []

    class Faked(QuotaHeadroom):
        def session(self) -> Any:
            return None

        def request(  # type: ignore[override]
            self,
            session: Any,
            method: str,
            service: str,
            path: str,
            timeout: float | None = None,
            decode: bool = True,
            allow: tuple[int, ...] = (),
        ) -> Any:
            asked.append(path)
            if service == "identity":
                return identity(answers, path, decode, allow)
            assert service == "compute", service
            project_id = path.split("/")[2]
            counts = {"cores": used[project_id], "ram": 0, "instances": 0}
            return {"quota_set": {k: {"limit": 20, "in_use": n} for k, n in counts.items()}}

    out = io.StringIO()
    argv = ("--skip", "volumev3", "--skip", "network", *argv)
    code = runner.main(["quota_headroom", *argv], out=out, load=lambda name: Faked)
    return code, out.getvalue(), asked


def test_only_the_named_projects_are_asked_for_never_the_list() -> None:
    """A big cloud's thousands of projects are not listed to check two: one by name
    (its id lookup 404s first), one by id."""
    a, b, other = project("tenant-a"), project("tenant-b"), project("tenant-c")
    answers = keystone(a, b, other)
    used = {a["id"]: 19, b["id"]: 1, other["id"]: 20}
    code, out, asked = run(answers, used, "--project", "tenant-a", "--project", b["id"])
    assert (code, out) == (
        1,
        "QUOTA_HEADROOM WARNING - 1 projects near quota: tenant-a cores 95% (19 of 20) | "
        "projects_near_quota=1;0;;0;2 projects_checked=2;;;0;2 projects_unchecked=0;0;;0;2\n",
    )
    assert asked[:3] == ["/projects/tenant-a", "/projects?name=tenant-a", f"/projects/{b['id']}"]
    assert sorted(asked[3:]) == sorted(f"/os-quota-sets/{p['id']}/detail" for p in (a, b))
    assert not [path for path in asked if path.startswith("/projects?limit")]


def test_id_and_name_both_find_the_project() -> None:
    a, b = project("tenant-a"), project("tenant-b")
    answers = keystone(a, b)
    for value, asked in (
        (a["id"], [f"/projects/{a['id']}"]),
        ("tenant-a", ["/projects/tenant-a", "/projects?name=tenant-a"]),
    ):
        assert named(answers, value) == ([(a["id"], "tenant-a")], [], asked)
    # Both for the same project, and a value given twice: checked once.
    found, _, _ = named(answers, "tenant-a", a["id"], "tenant-a")
    assert found == [(a["id"], "tenant-a")]


def test_a_name_is_quoted_into_the_path_and_query() -> None:
    odd = project("ops/lab & co")
    answers = {"/projects?name=ops%2Flab+%26+co": {"projects": [odd]}}
    found, _, asked = named(answers, "ops/lab & co")
    assert asked == ["/projects/ops%2Flab%20%26%20co", "/projects?name=ops%2Flab+%26+co"]
    assert found == [(odd["id"], "ops/lab & co")]


def test_an_unknown_name_is_unknown_naming_it() -> None:
    a = project("tenant-a")
    code, out, asked = run(keystone(a), {}, "--project", "tenant-z", "--project", a["id"])
    assert (code, out) == (3, "QUOTA_HEADROOM UNKNOWN - no project tenant-z\n")
    # Every value looked up, so that the error names all that are missing; no quota read.
    assert asked == ["/projects/tenant-z", "/projects?name=tenant-z", f"/projects/{a['id']}"]


def test_only_the_exact_name_is_taken() -> None:
    """Keystone on MySQL compares names without case: Tenant-A is not tenant-a (nor
    was it when the whole list was filtered)."""
    a = project("tenant-a")
    answers = {"/projects?name=Tenant-A": {"projects": [a]}}
    with pytest.raises(CheckError) as raised:
        named(answers, "Tenant-A")
    assert str(raised.value) == "no project Tenant-A"


def test_a_name_is_looked_up_when_the_id_is_refused() -> None:
    """A domain reader (role reader, domain-scoped) lists its domain's projects, but
    Keystone refuses it (403) an id none of them has: the value is still a name."""
    a = project("tenant-a")
    answers = keystone(a) | {"/projects/tenant-a": Answer({"error": {"code": 403}}, 403)}
    found, _, asked = named(answers, "tenant-a")
    assert (found, asked) == (
        [(a["id"], "tenant-a")],
        ["/projects/tenant-a", "/projects?name=tenant-a"],
    )


def test_a_domain_is_not_a_project() -> None:
    """A domain's id answers /projects/{id} (is_domain); as in the listing, it is none."""
    domain = {"id": "d1", "name": "d1", "domain_id": "default", "is_domain": True}
    answers = {"/projects/d1": {"project": domain}, "/projects?name=d1": {"projects": [domain]}}
    with pytest.raises(CheckError) as raised:
        named(answers, "d1")
    assert str(raised.value) == "no project d1"


def test_a_name_in_several_domains_checks_each_and_says_so() -> None:
    """tenant-a in domains d1 and d2: both checked (as filtering the whole list by name
    did), each shown with its domain, and -v names the value and the domains."""
    a1, a2 = project("tenant-a", "d1"), project("tenant-a", "d2")
    answers = keystone(a1, a2)
    assert named(answers, "tenant-a")[:2] == (
        [(a1["id"], "tenant-a (domain d1)"), (a2["id"], "tenant-a (domain d2)")],
        ["--project tenant-a: 2 projects of that name, in domains d1, d2; each is checked"],
    )
    code, out, _ = run(answers, {a1["id"]: 0, a2["id"]: 20}, "--project", "tenant-a", "-v")
    assert (code, out.splitlines()) == (
        1,
        [
            "QUOTA_HEADROOM WARNING - 1 projects near quota: tenant-a (domain d2) cores 100% "
            "(20 of 20) | projects_near_quota=1;0;;0;2 projects_checked=2;;;0;2 "
            "projects_unchecked=0;0;;0;2",
            "warning: 1 projects near quota (outside range 0:0)",
            "1 projects near quota: tenant-a (domain d2) cores 100% (20 of 20)",
            "--project tenant-a: 2 projects of that name, in domains d1, d2; each is checked",
        ],
    )


def test_the_deadline_bounds_the_lookups() -> None:
    """A slow Keystone: the lookups share the check's deadline, each call given only
    what is left of it, and the check says how far it got when it passes."""
    a, b, c = project("a"), project("b"), project("c")
    answers = keystone(a, b, c)
    with pytest.raises(CheckError) as raised:
        named(answers, a["id"], "b", c["id"], within=0.5, slow="/projects/b")
    assert str(raised.value) == "identity API looked up 1 of 3 projects by 10s"
    with pytest.raises(CheckError) as raised:
        named(answers, "a", within=-1)
    assert str(raised.value) == "identity API looked up 0 of 1 projects by 10s"
