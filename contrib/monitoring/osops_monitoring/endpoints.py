"""The api_endpoint check: every (or one) catalog endpoint answers its version document."""

from __future__ import annotations

import time

from osops.check.base import Argument, Detail, Perf, State, metric
from osops.exceptions import CheckError, UsageError
from osops_monitoring.openstack import CLOUD_ARGUMENTS, OpenStackCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin
    from keystoneauth1.session import Session


class ApiEndpoint(OpenStackCheck):
    """Check catalog endpoints answer their version document, and how fast.

    An endpoint that refuses, fails (5xx) or answers anything but 2xx/300 is
    CRITICAL; latency is held against -w/-c on ``time``. An endpoint whose URL
    ends in the project id (cinder's ``/v3/%(project_id)s``) is asked at its
    version's root (``/v3``): no service routes a version document under a
    project.
    """

    service = "openstack"
    arguments = (
        *CLOUD_ARGUMENTS,
        Argument("service-type", "Catalog service type to check, e.g. compute.", repeatable=True),
        Argument("all", "Check every service in the catalog.", type="bool", default=False),
    )
    perfdata = (
        Perf(
            "failed",
            "Endpoints that did not answer their version document.",
            min=0,
            critical="0",
            fmt="{value} endpoints failed",
        ),
        Perf(
            "time",
            "Seconds for the version document, per service type.",
            uom="s",
            min=0,
            warning="1",
            critical="5",
            per="service",
        ),
    )
    primary = "failed"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        wanted = list(self.options["service_type"] or [])
        if bool(wanted) == bool(self.options["all"]):
            raise UsageError("give --service-type TYPE (repeatable) or --all")
        session = self.session()
        catalog = self._catalog(session)
        project_id = session.auth.get_access(session).project_id  # type: ignore[union-attr]
        if self.options["all"]:
            wanted = sorted(catalog)
        failed = []
        for service_type in wanted:
            url = catalog.get(service_type)
            if url is None:
                raise CheckError(
                    f"no {self.options['os_interface']} {service_type} endpoint in the catalog"
                )
            problem, elapsed = self._version_document(session, _version_root(url, project_id))
            if problem:
                failed.append(f"{service_type}: {problem}")
            else:
                yield metric("time", round(elapsed, 6), instance=service_type)
        yield metric("failed", len(failed)).replace(max=len(wanted))
        if failed:
            yield Detail(
                f"{len(failed)} of {len(wanted)} failed: {'; '.join(failed)}", label="failed"
            )
        yield Detail(f"{len(wanted) - len(failed)} of {len(wanted)} endpoints answered", State.OK)

    def _catalog(self, session: Session) -> dict[str, str]:
        access = session.auth.get_access(session)  # type: ignore[union-attr]
        endpoints = access.service_catalog.get_endpoints(
            interface=self.options["os_interface"], region_name=self.region
        )
        return {kind: found[0]["url"] for kind, found in endpoints.items() if found}

    def _version_document(self, session: Session, url: str) -> tuple[str | None, float]:
        from keystoneauth1 import exceptions as ka

        started = time.monotonic()
        try:
            response = session.get(url, raise_exc=False, connect_retries=0)
        except ka.ConnectFailure:
            return "connection refused", 0.0
        except (ka.ConnectTimeout, ka.RequestTimeout):
            return f"no answer in {self.timeout:g}s", 0.0
        except ka.SSLError:
            return "TLS failed", 0.0
        elapsed = time.monotonic() - started
        if response.status_code not in (200, 300) and not 200 <= response.status_code < 300:
            return f"HTTP {response.status_code}", elapsed
        try:
            response.json()
        except ValueError:
            return "not a JSON version document", elapsed
        return None, elapsed


def _version_root(url: str, project_id: str | None) -> str:
    """The URL without a trailing project id segment."""
    trimmed = url.rstrip("/")
    if project_id and trimmed.endswith("/" + project_id):
        return trimmed[: -len(project_id) - 1]
    return url
