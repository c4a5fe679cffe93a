"""The keystone_token check: authenticate, time it, and see a non-empty catalog."""

from __future__ import annotations

import time

from osops.check.base import Detail, Perf, State, metric
from osops_monitoring.openstack import OpenStackCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin


class KeystoneToken(OpenStackCheck):
    """Authenticate against Keystone, time it, and check the service catalog is not empty."""

    service = "keystone"
    keystone_is_the_service = True
    perfdata = (
        Perf(
            "time",
            "Seconds to authenticate and receive a token.",
            uom="s",
            min=0,
            warning="2",
            critical="5",
            fmt="token in {value:.3f}s",
        ),
        Perf(
            "catalog_services",
            "Services in the token's catalog.",
            min=0,
            critical="1:",
            fmt="{value} services in the catalog",
        ),
    )

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        started = time.monotonic()
        session = self.session()
        elapsed = time.monotonic() - started
        access = session.auth.get_access(session)  # type: ignore[union-attr]
        catalog = access.service_catalog.catalog or []
        yield metric("time", round(elapsed, 6))
        yield metric("catalog_services", len(catalog))
        types = sorted({str(entry.get("type")) for entry in catalog})
        yield Detail(
            f"user {access.username or access.user_id} in project "
            f"{access.project_name or access.project_id or '-'}",
            State.OK,
        )
        yield Detail("catalog: " + (", ".join(types) or "empty"))
