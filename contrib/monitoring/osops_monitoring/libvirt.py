"""The libvirt_nova check: libvirt's domains on this host against the instances Nova puts here."""

from __future__ import annotations

import re
import socket

from osops.check.base import Argument, Detail, Perf, State, metric
from osops.exceptions import CheckError, ServiceDown
from osops_monitoring import command
from osops_monitoring.openstack import CLOUD_ARGUMENTS, OpenStackCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin
    from keystoneauth1.session import Session

COMPUTE = {"OpenStack-API-Version": "compute 2.37"}
PAGE = 1000
SHOWN = 3
_DOMAIN = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s+(\S*)")
#: Instances Nova places on a host that need no domain there.
NO_DOMAIN = frozenset({"BUILD", "SHELVED_OFFLOADED", "DELETED"})


def domains(text: str) -> dict[str, str]:
    """``virsh list --all --uuid --name``: domain names by UUID.

    :raises CheckError: a line that is not a UUID and a name
    """
    found = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _DOMAIN.match(line.strip())
        if match is None:
            raise CheckError(f"virsh list: unexpected line {line[:80]!r}")
        found[match.group(1)] = match.group(2)
    return found


class LibvirtNova(OpenStackCheck):
    """Check that the domains libvirt has on this host are the instances Nova places here.

    Lists libvirt's domains (``virsh list --all``, running or not) and the
    servers Nova's API places on this compute host (admin: every project).
    A domain Nova does not place here (a leftover of a failed deletion or
    migration, something started by hand) or an instance Nova places here
    that libvirt does not have (lost with its domain) is CRITICAL, named;
    instances moving (a task state: migrating, resizing...) and those that
    need no domain (building, shelved offloaded) are left out. libvirt not
    answering is CRITICAL.
    """

    service = "nova"
    runs_on = "host"
    arguments = (
        *CLOUD_ARGUMENTS,
        Argument("libvirt-uri", "libvirt connection URI (virsh -c).", default="qemu:///system"),
        Argument(
            "compute-host",
            "This host's name in Nova (nova-compute's [DEFAULT] host; default: the hostname).",
        ),
    )
    perfdata = (
        Perf(
            "unknown_domains",
            "Domains libvirt has that Nova does not place on this host.",
            min=0,
            critical="0",
            fmt="{value} domains unknown to Nova",
        ),
        Perf(
            "missing_domains",
            "Instances Nova places on this host that libvirt does not have.",
            min=0,
            critical="0",
            fmt="{value} instances without a domain",
        ),
        Perf("domains", "Domains libvirt has, running or not.", min=0),
        Perf("instances", "Instances Nova places on this host.", min=0),
    )
    primary = "unknown_domains"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        uri = self.options["libvirt_uri"]
        host = self.options["compute_host"] or socket.gethostname()
        done = command.run(["virsh", "-c", uri, "list", "--all", "--uuid", "--name"], self.timeout)
        if done.code != 0:
            raise ServiceDown(f"libvirt at {uri}: {done.reason()}")
        have = domains(done.out)
        session = self.session()
        placed, moving = self._instances(session, host)
        unknown = sorted(u for u in have if u not in placed and u not in moving)
        missing = sorted(u for u, status in placed.items() if u not in have)
        yield metric("unknown_domains", len(unknown))
        yield metric("missing_domains", len(missing))
        yield metric("domains", len(have))
        yield metric("instances", len(placed) + len(moving))
        if unknown:
            names = [f"{have[u] or '-'} ({u})" for u in unknown]
            yield Detail(_named("domains unknown to Nova", names), label="unknown_domains")
        if missing:
            names = [f"{placed[u]} ({u})" for u in missing]
            yield Detail(_named("instances without a domain", names), label="missing_domains")
        yield Detail(
            f"{len(have)} domains, {len(placed) + len(moving)} instances on {host}"
            + (f" ({len(moving)} moving)" if moving else ""),
            State.OK,
        )

    def _instances(self, session: Session, host: str) -> tuple[dict[str, str], set[str]]:
        """Servers Nova places on ``host`` needing a domain (name by id), and those moving."""
        placed: dict[str, str] = {}
        moving: set[str] = set()
        marker = None
        while True:
            path = f"/servers/detail?all_tenants=1&host={host}&limit={PAGE}"
            data = self.get(
                session, "compute", path + (f"&marker={marker}" if marker else ""), COMPUTE
            )
            try:
                servers = data["servers"]
                for server in servers:
                    if server.get("OS-EXT-STS:task_state"):
                        moving.add(server["id"])
                    elif server["status"] not in NO_DOMAIN:
                        placed[server["id"]] = server["name"]
            except (KeyError, TypeError) as exc:
                raise CheckError(f"compute API answered a server list without {exc}") from None
            if len(servers) < PAGE:
                return placed, moving
            marker = servers[-1]["id"]


def _named(what: str, names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN]) + (", ..." if len(names) > SHOWN else "")
    return f"{len(names)} {what}: {shown}"
