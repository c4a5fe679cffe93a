"""Capacity checks: hypervisor vCPU, RAM and disk use; free addresses of external networks."""

from __future__ import annotations

from osops.check.base import Detail, Perf, State, metric
from osops.exceptions import CheckError
from osops_monitoring.openstack import OpenStackCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin


class NovaHypervisors(OpenStackCheck):
    """Check hypervisor capacity: vCPU, RAM and disk used against the total of all hypervisors."""

    service = "nova"
    perfdata = (
        Perf(
            "vcpus_used",
            "vCPUs allocated, share of all hypervisors' vCPUs.",
            uom="%",
            min=0,
            warning="80",
            critical="95",
            fmt="vCPUs {value:.1f}% used",
        ),
        Perf(
            "ram_used",
            "RAM allocated, share of all hypervisors' RAM.",
            uom="%",
            min=0,
            warning="80",
            critical="95",
            fmt="RAM {value:.1f}% used",
        ),
        Perf(
            "disk_used",
            "Local disk allocated, share of all hypervisors' disk.",
            uom="%",
            min=0,
            warning="80",
            critical="95",
            fmt="disk {value:.1f}% used",
        ),
        Perf(
            "hypervisors_down",
            "Hypervisors whose state is down.",
            min=0,
            warning="0",
            fmt="{value} hypervisors down",
        ),
    )
    primary = "vcpus_used"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        session = self.session()
        # 2.1 still reports vcpus/memory_mb/local_gb, which 2.88 moved to placement.
        data = self.get(
            session,
            "compute",
            "/os-hypervisors/detail",
            headers={
                "OpenStack-API-Version": "compute 2.1",
                "X-OpenStack-Nova-API-Version": "2.1",
            },
        )
        try:
            hypervisors = data["hypervisors"]
            totals = {
                key: sum(int(h[key]) for h in hypervisors)
                for key in (
                    "vcpus",
                    "vcpus_used",
                    "memory_mb",
                    "memory_mb_used",
                    "local_gb",
                    "local_gb_used",
                )
            }
            down = sorted(h["hypervisor_hostname"] for h in hypervisors if h["state"] != "up")
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckError(
                f"compute API answered /os-hypervisors/detail without the documented field {exc}"
            ) from None
        for label, used, total in (
            ("vcpus_used", "vcpus_used", "vcpus"),
            ("ram_used", "memory_mb_used", "memory_mb"),
            ("disk_used", "local_gb_used", "local_gb"),
        ):
            share = 100.0 * totals[used] / totals[total] if totals[total] else 0.0
            yield metric(label, round(share, 2))
        yield metric("hypervisors_down", len(down)).replace(max=len(hypervisors))
        if down:
            yield Detail(
                f"{len(down)} hypervisors down: {', '.join(down)}", label="hypervisors_down"
            )
        yield Detail(
            f"{len(hypervisors)} hypervisors, {totals['vcpus_used']} of "
            f"{totals['vcpus']} vCPUs, {totals['memory_mb_used']} of "
            f"{totals['memory_mb']} MiB RAM, {totals['local_gb_used']} of "
            f"{totals['local_gb']} GiB disk allocated"
        )


class NeutronIpPool(OpenStackCheck):
    """Check free IP addresses of every external network (floating IP pools)."""

    service = "neutron"
    perfdata = (
        Perf(
            "free_ips",
            "Free addresses, per external network.",
            min=0,
            warning="10:",
            critical="1:",
            per="network",
            fmt="{name} has {value} free addresses",
        ),
    )

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        session = self.session()
        networks = self.get(session, "network", "/v2.0/networks?router:external=True")
        try:
            names = {n["id"]: n.get("name") or n["id"] for n in networks["networks"]}
        except (KeyError, TypeError) as exc:
            raise CheckError(f"network API answered /v2.0/networks without {exc}") from None
        if not names:
            yield Detail("no external network", State.OK)
            return
        for network_id, name in sorted(names.items(), key=lambda item: item[1]):
            data = self.get(session, "network", f"/v2.0/network-ip-availabilities/{network_id}")
            try:
                availability = data["network_ip_availability"]
                free = int(availability["total_ips"]) - int(availability["used_ips"])
            except (KeyError, TypeError, ValueError) as exc:
                raise CheckError(
                    f"network API answered ip availability of {name} without {exc}"
                ) from None
            yield metric("free_ips", free, instance=name)
        yield Detail(f"{len(names)} external networks", State.OK)
