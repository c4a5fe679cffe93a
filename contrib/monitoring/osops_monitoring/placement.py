"""Placement's view of capacity: providers' inventories and usages, free instances per flavor."""

from __future__ import annotations

import math

from osops.check.base import Argument, Detail, Perf, State, metric
from osops.exceptions import CheckError
from osops_monitoring.openstack import CLOUD_ARGUMENTS, OpenStackCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import nagiosplugin
    from keystoneauth1.session import Session

#: Root providers' summaries (root_provider_uuid) need 1.29; nothing here needs more than 1.36.
PLACEMENT = {"OpenStack-API-Version": "placement 1.36"}
#: Flavors' extra specs with ids (2.61) and aggregates with uuids (2.41).
COMPUTE = {"OpenStack-API-Version": "compute 2.61"}


class Capacity:
    """One resource class of one provider: what can be allocated and what is."""

    __slots__ = ("capacity", "used")

    def __init__(self, capacity: float, used: float) -> None:
        self.capacity = capacity
        self.used = used


def provider_capacity(
    check: OpenStackCheck, session: Session, deadline: float
) -> dict[str, dict[str, Capacity]]:
    """Every resource provider's capacity ((total - reserved) * allocation ratio) and usage.

    Two calls per provider, 8 at a time (placement has no call for them all).

    :param deadline: time.monotonic() by which every provider is read; the
        calls still running then are not waited for
    :returns: {provider name: {resource class: Capacity}}
    :raises CheckError: an answer without the documented fields, or providers
        not read by the deadline (a share of some of them would mislead)
    """
    from osops.check.base import fan_out

    providers = check.get(session, "placement", "/resource_providers", headers=PLACEMENT)
    try:
        named = [(p["uuid"], p["name"]) for p in providers["resource_providers"]]
    except (KeyError, TypeError) as exc:
        raise CheckError(f"placement API answered /resource_providers without {exc}") from None

    def one(uuid: str) -> dict[str, Capacity]:
        inventories = check.get(
            session, "placement", f"/resource_providers/{uuid}/inventories", headers=PLACEMENT
        )["inventories"]
        usages = check.get(
            session, "placement", f"/resource_providers/{uuid}/usages", headers=PLACEMENT
        )["usages"]
        return {
            rc: Capacity(
                (int(inv["total"]) - int(inv["reserved"])) * float(inv["allocation_ratio"]),
                int(usages.get(rc, 0)),
            )
            for rc, inv in inventories.items()
        }

    found: dict[str, dict[str, Capacity]] = {}
    for uuid, capacity, error in fan_out(one, [u for u, _ in named], 8, deadline):
        if isinstance(error, KeyError | TypeError | ValueError):
            raise CheckError(f"placement API answered an inventory without {error}") from None
        if error is not None:
            raise error
        found[uuid] = capacity or {}
    if len(found) < len(named):
        raise CheckError(
            f"placement API: {len(found)} of {len(named)} resource providers read within "
            f"--timeout {check.timeout:g} (2 calls each, 8 at a time); a longer one reads them all"
        )
    return {name: found[uuid] for uuid, name in named}


def flavor_resources(flavor: dict[str, Any]) -> dict[str, int]:
    """What one instance of a flavor asks of placement, as nova's scheduler asks it.

    VCPU, or PCPU for ``hw:cpu_policy=dedicated``; MEMORY_MB; DISK_GB for root,
    ephemeral and swap; ``resources:CLASS=N`` extra specs override (0 removes).
    """
    specs = flavor.get("extra_specs") or {}
    cpu = "PCPU" if specs.get("hw:cpu_policy") == "dedicated" else "VCPU"
    wanted = {
        cpu: int(flavor["vcpus"]),
        "MEMORY_MB": int(flavor["ram"]),
        "DISK_GB": int(flavor["disk"])
        + int(flavor.get("OS-FLV-EXT-DATA:ephemeral") or 0)
        + math.ceil(int(flavor.get("swap") or 0) / 1024),
    }
    for key, value in specs.items():
        if key.startswith("resources:"):
            wanted[key.partition(":")[2]] = int(value)
    return {rc: amount for rc, amount in wanted.items() if amount > 0}


class PlacementCapacity(OpenStackCheck):
    """Check how many more instances of each flavor fit, from Placement's allocation candidates.

    For each flavor, placement is asked for allocation candidates of what one
    instance takes (VCPU, or PCPU for a dedicated-CPU flavor, MEMORY_MB, DISK_GB,
    ``resources:*`` extra specs), so allocation ratios, reserved amounts and
    max_unit are placement's own. Each compute node (provider tree) fits the
    smallest of capacity minus usage over the amount, per resource class; the
    sum over the nodes is the flavor's headroom. Thresholds apply to every
    flavor's headroom, so the smallest decides.
    """

    service = "placement"
    arguments = (
        *CLOUD_ARGUMENTS,
        Argument(
            "flavor", "Flavor name or id to check (default: every public flavor).", repeatable=True
        ),
        Argument(
            "availability-zone",
            "Only compute nodes in the host aggregates of this availability zone.",
        ),
        Argument(
            "aggregate", "Only compute nodes in this host aggregate (name).", repeatable=True
        ),
    )
    perfdata = (
        Perf(
            "free_instances",
            "Instances of the flavor that still fit, per flavor.",
            min=0,
            warning="5:",
            critical="1:",
            per="flavor",
            fmt="{name} fits {value} more",
        ),
    )

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        session = self.session()
        flavors = self._flavors(session)
        member_of = self._aggregates(session)
        where = ""
        if member_of is not None:
            where = f"&member_of=in:{','.join(member_of)}"
        smallest: tuple[int, str] | None = None
        for name, wanted in flavors:
            query = ",".join(f"{rc}:{amount}" for rc, amount in sorted(wanted.items()))
            data = self.get(
                session,
                "placement",
                f"/allocation_candidates?resources={query}{where}",
                headers=PLACEMENT,
            )
            try:
                free = _fits(data["provider_summaries"], wanted)
            except (KeyError, TypeError, ValueError) as exc:
                raise CheckError(
                    f"placement API answered allocation candidates without {exc}"
                ) from None
            yield metric("free_instances", free, instance=name)
            if smallest is None or free < smallest[0]:
                smallest = (free, name)
        if smallest is None:
            raise CheckError("no flavor to check")
        scope = f" in {self._scope()}" if member_of is not None else ""
        yield Detail(
            f"{len(flavors)} flavors{scope}, least room for {smallest[1]}: {smallest[0]} more",
            State.OK,
        )

    def _scope(self) -> str:
        parts = []
        if self.options["availability_zone"]:
            parts.append(f"zone {self.options['availability_zone']}")
        if self.options["aggregate"]:
            parts.append("aggregate " + ", ".join(self.options["aggregate"]))
        return " and ".join(parts)

    def _flavors(self, session: Session) -> list[tuple[str, dict[str, int]]]:
        data = self.get(session, "compute", "/flavors/detail", headers=COMPUTE)
        try:
            flavors = data["flavors"]
            wanted = self.options["flavor"]
            if wanted:
                chosen = [f for f in flavors if f["name"] in wanted or f["id"] in wanted]
                missing = set(wanted) - {f["name"] for f in chosen} - {f["id"] for f in chosen}
                if missing:
                    raise CheckError(f"no flavor {', '.join(sorted(missing))}")
            else:
                chosen = [f for f in flavors if f.get("os-flavor-access:is_public", True)]
            return sorted((f["name"], flavor_resources(f)) for f in chosen)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckError(f"compute API answered /flavors/detail without {exc}") from None

    def _aggregates(self, session: Session) -> list[str] | None:
        """Placement aggregate uuids (nova mirrors its host aggregates) to limit to, if any."""
        zone = self.options["availability_zone"]
        names = self.options["aggregate"] or []
        if not zone and not names:
            return None
        data = self.get(session, "compute", "/os-aggregates", headers=COMPUTE)
        try:
            aggregates = data["aggregates"]
            chosen = [
                a
                for a in aggregates
                if (not zone or a.get("availability_zone") == zone)
                and (not names or a["name"] in names)
            ]
            uuids = [a["uuid"] for a in chosen]
        except (KeyError, TypeError) as exc:
            raise CheckError(f"compute API answered /os-aggregates without {exc}") from None
        if not uuids:
            raise CheckError(f"no host aggregate in {self._scope()}")
        return uuids


def _fits(summaries: dict[str, Any], wanted: dict[str, int]) -> int:
    """Instances that fit over all provider trees of the candidates' summaries."""
    trees: dict[str, dict[str, Capacity]] = {}
    for uuid, summary in summaries.items():
        tree = trees.setdefault(summary.get("root_provider_uuid", uuid), {})
        for rc, numbers in summary["resources"].items():
            held = tree.setdefault(rc, Capacity(0, 0))
            held.capacity += float(numbers["capacity"])
            held.used += float(numbers["used"])
    total = 0
    for tree in trees.values():
        if all(rc in tree for rc in wanted):
            total += min(
                max(0, math.floor((tree[rc].capacity - tree[rc].used) / amount))
                for rc, amount in wanted.items()
            )
    return total
