"""Capacity checks: compute nodes' vCPU, RAM and disk allocated; free external addresses."""

from __future__ import annotations

from osops.check.base import Detail, Perf, State, metric
from osops.exceptions import CheckError
from osops_monitoring.openstack import OpenStackCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin


class NovaHypervisors(OpenStackCheck):
    """Check compute capacity: vCPU, RAM and disk allocated (Placement), hypervisors down (Nova).

    Nova 2.88 (Wallaby) removed vcpus, memory_mb, local_gb and their ``_used``
    counterparts from os-hypervisors; placement holds them. The shares are
    placement's usages of VCPU, MEMORY_MB and DISK_GB over every provider's
    capacity, (total - reserved) * allocation ratio: what the scheduler sees.
    States come from os-hypervisors at 2.88. ``placement_capacity`` answers
    the question behind them: how many more instances of each flavor fit.
    """

    service = "nova"
    perfdata = (
        Perf(
            "vcpus_used",
            "vCPUs allocated, share of all compute nodes' VCPU capacity (placement).",
            uom="%",
            min=0,
            warning="80",
            critical="95",
            fmt="vCPUs {value:.1f}% used",
        ),
        Perf(
            "ram_used",
            "RAM allocated, share of all compute nodes' MEMORY_MB capacity (placement).",
            uom="%",
            min=0,
            warning="80",
            critical="95",
            fmt="RAM {value:.1f}% used",
        ),
        Perf(
            "disk_used",
            "Disk allocated, share of all compute nodes' DISK_GB capacity (placement).",
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
        from osops_monitoring.placement import provider_capacity

        # The rest of the timeout is the result's: Placement's calls still
        # running then are not waited for.
        deadline = self.api_deadline()
        session = self.session()
        data = self.get(
            session,
            "compute",
            "/os-hypervisors/detail",
            headers={"OpenStack-API-Version": "compute 2.88"},
        )
        try:
            hypervisors = data["hypervisors"]
            down = sorted(h["hypervisor_hostname"] for h in hypervisors if h["state"] != "up")
        except (KeyError, TypeError) as exc:
            raise CheckError(
                f"compute API answered /os-hypervisors/detail without the documented field {exc}"
            ) from None
        providers = provider_capacity(self, session, deadline)
        totals = {}
        for label, rc in (
            ("vcpus_used", "VCPU"),
            ("ram_used", "MEMORY_MB"),
            ("disk_used", "DISK_GB"),
        ):
            used = sum(p[rc].used for p in providers.values() if rc in p)
            capacity = sum(p[rc].capacity for p in providers.values() if rc in p)
            totals[rc] = (used, capacity)
            yield metric(label, round(100.0 * used / capacity, 2) if capacity else 0.0)
        yield metric("hypervisors_down", len(down)).replace(max=len(hypervisors))
        if down:
            yield Detail(
                f"{len(down)} hypervisors down: {', '.join(down)}", label="hypervisors_down"
            )
        yield Detail(
            f"{len(hypervisors)} hypervisors, "
            + ", ".join(
                f"{used:g} of {capacity:g} {rc}" for rc, (used, capacity) in totals.items()
            )
            + " allocated (placement)"
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
