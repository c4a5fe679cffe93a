"""The quota_headroom check: projects whose usage is near their quota, within a time budget."""

from __future__ import annotations

import time
from collections import Counter

from osops.check.base import Argument, Detail, Perf, State, metric
from osops.exceptions import CheckError, OsopsError
from osops_monitoring.openstack import CLOUD_ARGUMENTS, OpenStackCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import nagiosplugin
    from keystoneauth1.session import Session

#: service type, path of one project's quota and usage, resources watched, usage key
SOURCES = {
    "compute": ("/os-quota-sets/{id}/detail", ("cores", "ram", "instances"), "in_use"),
    "volumev3": ("/os-quota-sets/{id}?usage=True", ("volumes", "gigabytes"), "in_use"),
    "network": ("/v2.0/quotas/{id}/details", ("port", "floatingip"), "used"),
}
SHOWN = 3
#: Projects asked for at once: Keystone's default max_db_limit, the most it lists at once.
PAGE = 1000


class QuotaHeadroom(OpenStackCheck):
    """Check which projects use nearly all of a quota: cores, RAM, instances, volumes,
    gigabytes, ports or floating IPs.

    One call per project and service (nova, cinder, neutron), ``--concurrency``
    at a time, each bounded by ``--project-timeout``; projects not reached
    before the check's timeout are counted as unchecked rather than waited for.
    Unlimited (-1) and zero quotas are never near. With ``--project`` only the
    projects named are looked up (by id, else by name), not every project
    listed; a name used in several domains checks each of them.
    """

    service = "openstack"
    arguments = (
        *CLOUD_ARGUMENTS,
        Argument(
            "project", "Project name or id to check (default: every project).", repeatable=True
        ),
        Argument(
            "percent",
            "Usage at or above this share of a quota is near it.",
            type="float",
            default=90.0,
        ),
        Argument("concurrency", "Projects checked at once.", type="int", default=8),
        Argument(
            "project-timeout", "Seconds for one project's calls.", type="float", default=10.0
        ),
        Argument(
            "skip",
            "Service whose quotas are not read: compute, volumev3 or network.",
            repeatable=True,
            choices=tuple(SOURCES),
        ),
    )
    perfdata = (
        Perf(
            "projects_near_quota",
            "Projects with a resource at or above --percent of its quota.",
            min=0,
            warning="0",
            fmt="{value} projects near quota",
        ),
        Perf("projects_checked", "Projects whose quotas were read.", min=0),
        Perf(
            "projects_unchecked",
            "Projects whose quotas could not be read in time or at all.",
            min=0,
            warning="0",
            fmt="{value} projects unchecked",
        ),
    )
    primary = "projects_near_quota"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        from osops.check.base import fan_out

        # What is not done by then is unchecked; the rest of the timeout is the
        # result's, and the calls still running are not waited for.
        deadline = self.api_deadline()
        session = self.session()
        notes: list[str] = []
        if self.options["project"]:
            projects, notes = self._named(session, deadline, self.options["project"])
        else:
            projects = self._projects(session, deadline)
        names = dict(projects)
        sources = {k: v for k, v in SOURCES.items() if k not in (self.options["skip"] or [])}
        near: list[str] = []
        failed: list[str] = []
        checked = 0
        for project_id, found, error in fan_out(
            lambda project_id: self._project(session, project_id, sources),
            [project_id for project_id, _ in projects],
            int(self.options["concurrency"]),
            deadline,
        ):
            name = names[project_id]
            if error is not None:
                if not isinstance(error, OsopsError):
                    raise error
                failed.append(f"{name}: {error}")
                continue
            checked += 1
            if found:
                near.append(f"{name} " + ", ".join(found))
        unchecked = len(projects) - checked
        yield metric("projects_near_quota", len(near)).replace(max=len(projects))
        yield metric("projects_checked", checked).replace(max=len(projects))
        yield metric("projects_unchecked", unchecked).replace(max=len(projects))
        if near:
            shown = "; ".join(sorted(near)[:SHOWN]) + ("; ..." if len(near) > SHOWN else "")
            yield Detail(f"{len(near)} projects near quota: {shown}", label="projects_near_quota")
        if unchecked:
            why = f" ({failed[0]})" if failed else f" (not reached in {self.timeout:g}s)"
            yield Detail(
                f"{unchecked} of {len(projects)} projects unchecked{why}",
                label="projects_unchecked",
            )
        yield Detail(
            f"{checked} projects checked, none near {self.options['percent']:g}% of a quota"
            if not near
            else f"{len(near)} of {checked} projects near quota",
            State.OK,
        )
        for line in sorted(near)[SHOWN:]:
            yield Detail(line)
        for note in notes:
            yield Detail(note)

    def _projects(self, session: Session, deadline: float) -> list[tuple[str, str]]:
        """Every project, page by page: Keystone lists at most ``max_db_limit`` (1000)
        at once, and pages (``links.next``) only when the request gives a limit.
        The pages share the check's deadline."""
        from urllib.parse import urlsplit

        found: dict[str, str] = {}
        path = f"/projects?limit={PAGE}"
        asked = set()
        while path not in asked:
            asked.add(path)
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckError(
                    f"identity API listed {len(found)} projects and more by {self.timeout:g}s"
                    " (a longer --timeout lists them all)"
                )
            data = self.request(session, "GET", "identity", path, timeout=left)
            try:
                found.update(
                    (p["id"], p["name"]) for p in data["projects"] if not p.get("is_domain")
                )
                following = (data.get("links") or {}).get("next")
                truncated = data.get("truncated") and not following
            except (KeyError, TypeError, AttributeError) as exc:
                raise CheckError(f"identity API answered /projects without {exc}") from None
            if truncated:
                raise CheckError(
                    f"identity API listed only {len(found)} projects (truncated by Keystone's "
                    "list_limit): raise it"
                )
            if not following or not data["projects"]:
                break
            path = f"/projects?{urlsplit(str(following)).query}"
        return sorted(found.items(), key=lambda p: p[1])

    def _named(
        self, session: Session, deadline: float, wanted: list[str]
    ) -> tuple[list[tuple[str, str]], list[str]]:
        """The projects ``--project`` names, and no others: each value is asked for as
        an id (``/projects/{value}``) and, when no project has that id, as a name
        (``/projects?name={value}``). Listing every project first took the whole
        timeout on a big cloud. The lookups share the check's deadline; a domain
        (``is_domain``) is not a project here, as in the listing.

        A name is unique only within its domain. A name several domains use
        selects each of those projects, as filtering the whole list by name did:
        the operator asked about that name, a quota nearly used up in any of them
        is worth the warning, and refusing (UNKNOWN until given ids) would leave
        them unwatched. The output says so: projects of the same name are shown
        with their domain ("tenant-a (domain d1)"), and the long output (``-v``)
        names the value and the domains it matched.

        :param wanted: the ``--project`` values
        :returns: (id, name shown) of each project, by name, and notes for the
            long output
        :raises CheckError: a value names no project, or the deadline passed
        """
        from urllib.parse import quote, urlencode

        values = list(dict.fromkeys(wanted))
        found: dict[str, tuple[str, str]] = {}  # id: name, domain id
        notes: list[str] = []
        missing: list[str] = []

        def ask(done: int, path: str, **kwargs: Any) -> Any:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckError(
                    f"identity API looked up {done} of {len(values)} projects by {self.timeout:g}s"
                )
            return self.request(session, "GET", "identity", path, timeout=left, **kwargs)

        for done, value in enumerate(values):
            path = f"/projects/{quote(value, safe='')}"
            # A domain reader, who may list its domain's projects, is refused (403)
            # an id that is none of them, for Keystone enforces before it looks:
            # then too the value may be a name.
            response = ask(done, path, decode=False, allow=(403, 404))
            if response.status_code not in (403, 404):
                try:
                    project = response.json()["project"]
                    if not project.get("is_domain"):
                        found.setdefault(project["id"], (project["name"], project["domain_id"]))
                        continue
                except ValueError:
                    raise CheckError(f"identity API answered {path} with invalid JSON") from None
                except (KeyError, TypeError, AttributeError) as exc:
                    raise CheckError(f"identity API answered {path} without {exc}") from None
            path = f"/projects?{urlencode({'name': value})}"
            data = ask(done, path)
            try:
                # Only the exact name, as before: a Keystone whose filter ignored
                # the name, or compared it without case (MySQL), answers more.
                matches = [
                    (p["id"], p["name"], p["domain_id"])
                    for p in data["projects"]
                    if p["name"] == value and not p.get("is_domain")
                ]
            except (KeyError, TypeError, AttributeError) as exc:
                raise CheckError(f"identity API answered {path} without {exc}") from None
            if not matches:
                missing.append(value)
            elif len(matches) > 1:
                domains = ", ".join(sorted(domain for _, _, domain in matches))
                notes.append(
                    f"--project {value}: {len(matches)} projects of that name, in domains "
                    f"{domains}; each is checked"
                )
            for project_id, name, domain in matches:
                found.setdefault(project_id, (name, domain))
        if missing:
            raise CheckError(f"no project {', '.join(sorted(missing))}")
        # Two projects shown by the same name would be one to the reader.
        shared = Counter(name for name, _ in found.values())
        shown = [
            (i, f"{name} (domain {domain})" if shared[name] > 1 else name)
            for i, (name, domain) in found.items()
        ]
        return sorted(shown, key=lambda p: p[1]), notes

    def _project(self, session: Session, project_id: str, sources: dict[str, Any]) -> list[str]:
        """This project's resources at or above the share, e.g. "cores 95% (19 of 20)"."""
        share = float(self.options["percent"]) / 100
        found = []
        for service, (path, resources, used_key) in sources.items():
            data = self.request(
                session,
                "GET",
                service,
                path.format(id=project_id),
                timeout=float(self.options["project_timeout"]),
            )
            try:
                quotas = data.get("quota_set") or data["quota"]
                for resource in resources:
                    if resource not in quotas and service == "network":
                        continue  # no L3 plugin, no floating IPs: nothing to run out of
                    entry = quotas[resource]
                    limit, used = int(entry["limit"]), int(entry[used_key])
                    if limit > 0 and used >= share * limit:
                        found.append(f"{resource} {100 * used / limit:.0f}% ({used} of {limit})")
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise CheckError(f"{service} quota answer without {exc}") from None
        return found
