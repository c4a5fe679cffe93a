"""Service-state checks: nova services, neutron agents, cinder services up, down, disabled."""

from __future__ import annotations

import abc

from osops.check.base import Detail, Perf, State, metric
from osops.exceptions import CheckError
from osops_monitoring.openstack import OpenStackCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, ClassVar

    import nagiosplugin

PERFDATA = (
    Perf("down", "Enabled members that are down.", min=0, critical="0", fmt="{value} down"),
    Perf("up", "Members that are up.", min=0),
    Perf("disabled", "Members disabled by an operator (not counted as down).", min=0),
)


class ServiceStateCheck(OpenStackCheck, abc.ABC):
    """Counts up, down and disabled members of one OpenStack service; override members()."""

    perfdata = PERFDATA
    primary = "down"
    #: Catalog service type and the API path that lists the members.
    service_type: ClassVar[str] = ""
    path: ClassVar[str] = ""

    @abc.abstractmethod
    def members(self, data: Any) -> list[tuple[str, str, bool, bool]]:
        """(host, binary, up, enabled) for every member in the decoded answer.

        :raises KeyError, TypeError: the answer does not have the documented shape
        """

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        session = self.session()
        data = self.get(session, self.service_type, self.path)
        try:
            members = self.members(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise CheckError(
                f"{self.service_type} API answered {self.path} without the documented field {exc}"
            ) from None
        down = sorted(
            f"{binary}@{host}" for host, binary, up, enabled in members if enabled and not up
        )
        disabled = sorted(
            f"{binary}@{host}" for host, binary, _, enabled in members if not enabled
        )
        up = sum(1 for _, _, alive, _ in members if alive)
        yield metric("down", len(down)).replace(max=len(members))
        yield metric("up", up).replace(max=len(members))
        yield metric("disabled", len(disabled)).replace(max=len(members))
        if down:
            yield Detail(f"{len(down)} of {len(members)} down: {', '.join(down)}", label="down")
        yield Detail(
            f"{up} of {len(members)} up" + (f", {len(disabled)} disabled" if disabled else ""),
            State.OK,
        )
        if disabled:
            yield Detail("disabled: " + ", ".join(disabled))


class NovaServices(ServiceStateCheck):
    """Check nova services (os-services): how many are up, down and disabled, and which."""

    service = "nova"
    service_type = "compute"
    path = "/os-services"

    def members(self, data: Any) -> list[tuple[str, str, bool, bool]]:
        return [
            (s["host"], s["binary"], s["state"] == "up", s["status"] == "enabled")
            for s in data["services"]
        ]


class NeutronAgents(ServiceStateCheck):
    """Check neutron agents: how many are alive, dead and administratively down, and which."""

    service = "neutron"
    service_type = "network"
    path = "/v2.0/agents"

    def members(self, data: Any) -> list[tuple[str, str, bool, bool]]:
        return [
            (a["host"], a["binary"], bool(a["alive"]), bool(a["admin_state_up"]))
            for a in data["agents"]
        ]


class CinderServices(ServiceStateCheck):
    """Check cinder services (os-services): how many are up, down and disabled, and which."""

    service = "cinder"
    service_type = "volumev3"
    path = "/os-services"

    def members(self, data: Any) -> list[tuple[str, str, bool, bool]]:
        return [
            (s["host"], s["binary"], s["state"] == "up", s["status"] == "enabled")
            for s in data["services"]
        ]
