"""The server_boot probe: boot a server to ACTIVE, optionally reach it, delete it."""

from __future__ import annotations

import time

from osops.check.base import Argument
from osops.exceptions import CheckError, ServiceDown
from osops_monitoring.synthetic import (
    SYNTHETIC_ARGUMENTS,
    SyntheticCheck,
    age_seconds,
    phase_perfdata,
    timed,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from keystoneauth1.session import Session

#: networks "none" needs 2.37; the server's own fault and host attributes come with any.
COMPUTE = {"OpenStack-API-Version": "compute 2.37"}


class ServerBoot(SyntheticCheck):
    """Boot a server to ACTIVE, optionally check it answers on a TCP port, delete it.

    Phases: schedule (until a host is chosen, or the server is ACTIVE first),
    spawn (until ACTIVE), reachable (with ``--port``: until its first address
    accepts a TCP connection), delete (until it is gone). A server that goes
    ERROR is CRITICAL with nova's fault message; one still building at the
    deadline is CRITICAL naming its task state.
    """

    service = "nova"
    arguments = (
        *SYNTHETIC_ARGUMENTS,
        Argument("image", "Image name or id to boot.", required=True),
        Argument("flavor", "Flavor name or id (default: the smallest public flavor)."),
        Argument(
            "network",
            "Network name or id to attach, or 'none' for no network.",
            default="none",
        ),
        Argument("availability-zone", "Availability zone to boot in."),
        Argument("port", "TCP port that must accept a connection on the server.", type="int"),
    )
    perfdata = phase_perfdata("schedule, spawn, reachable, delete")

    def roundtrip(self, session: Session, name: str) -> Iterator[tuple[str, float]]:
        body: dict[str, Any] = {
            "name": name,
            "imageRef": self._image(session),
            "flavorRef": self._flavor(session),
            "networks": self._networks(session),
        }
        if self.options["availability_zone"]:
            body["availability_zone"] = self.options["availability_zone"]
        started = time.monotonic()
        server = self.request(
            session, "POST", "compute", "/servers", headers=COMPUTE, json={"server": body}
        )["server"]
        self.created = server["id"]
        path = f"/servers/{server['id']}"
        seen = self.wait_for(
            f"server {name} not scheduled", lambda: self._state(session, path, scheduled=True)
        )
        yield "schedule", time.monotonic() - started
        if seen.get("status") != "ACTIVE":
            seen, seconds = timed(
                lambda: self.wait_for(
                    f"server {name} not ACTIVE", lambda: self._state(session, path)
                )
            )
        else:
            seconds = 0.0
        yield "spawn", seconds
        if self.options["port"]:
            _, seconds = timed(lambda: self._reach(seen))
            yield "reachable", seconds
        _, seconds = timed(lambda: self.delete(session, server["id"]))
        self.created = None
        yield "delete", seconds

    def _state(self, session: Session, path: str, scheduled: bool = False) -> Any:
        server = self.get(session, "compute", path, headers=COMPUTE)["server"]
        if server.get("status") == "ERROR":
            fault = (server.get("fault") or {}).get("message", "no fault recorded")
            raise ServiceDown(f"server {server.get('name')} went ERROR: {fault}")
        if server.get("status") == "ACTIVE":
            return server
        if scheduled and server.get("OS-EXT-SRV-ATTR:host"):
            return server
        if time.monotonic() + 1.5 > self.deadline:
            # The last poll: say where it stuck, not only that it did.
            raise ServiceDown(
                f"server {server.get('name')} still {server.get('status')} "
                f"(task {server.get('OS-EXT-STS:task_state') or 'none'})"
            )
        return None

    def _reach(self, server: Any) -> None:
        import socket

        addresses = [
            a["addr"] for network in (server.get("addresses") or {}).values() for a in network
        ]
        if not addresses:
            raise ServiceDown(f"server {server.get('name')} has no address to reach")
        port = int(self.options["port"])

        def accepts() -> bool:
            try:
                remaining = max(0.1, min(2.0, self.deadline - time.monotonic()))
                with socket.create_connection((addresses[0], port), remaining):
                    return True
            except OSError:
                return False

        self.wait_for(f"{addresses[0]}:{port} not reachable", accepts)

    def _image(self, session: Session) -> str:
        """The id of ``--image``: an image of that name, else an image of that id."""
        from urllib.parse import quote, urlencode

        wanted = self.options["image"]
        data = self.get(session, "image", f"/v2/images?{urlencode({'name': wanted})}")
        images = data.get("images") or []
        if images:
            return str(images[0]["id"])
        response = self.request(
            session,
            "GET",
            "image",
            f"/v2/images/{quote(wanted, safe='')}",
            allow=(404,),
            decode=False,
        )
        if response.status_code == 404:
            raise CheckError(f"no image {wanted}")
        return str(wanted)

    def _flavor(self, session: Session) -> str:
        flavors = self.get(session, "compute", "/flavors/detail", headers=COMPUTE)["flavors"]
        wanted = self.options["flavor"]
        if wanted:
            for flavor in flavors:
                if wanted in (flavor["id"], flavor["name"]):
                    return str(flavor["id"])
            raise CheckError(f"no flavor {wanted}")
        if not flavors:
            raise CheckError("no flavor to boot")
        return str(min(flavors, key=lambda f: (f["vcpus"], f["ram"], f["disk"]))["id"])

    def _networks(self, session: Session) -> Any:
        wanted = self.options["network"]
        if wanted == "none":
            return "none"
        data = self.get(session, "network", f"/v2.0/networks?name={wanted}")
        found = data.get("networks") or []
        return [{"uuid": found[0]["id"] if found else wanted}]

    def leftovers(self, session: Session, prefix: str) -> list[tuple[str, str, float]]:
        from urllib.parse import quote

        data = self.get(
            session, "compute", f"/servers/detail?name={quote('^' + prefix)}", headers=COMPUTE
        )
        try:
            return [
                (s["id"], s["name"], age_seconds(s["created"]))
                for s in data["servers"]
                if s["name"].startswith(prefix)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckError(f"compute API answered /servers/detail without {exc}") from None

    def delete(self, session: Session, resource_id: str) -> None:
        path = f"/servers/{resource_id}"
        self.request(session, "DELETE", "compute", path, decode=False, allow=(404,))
        self.wait_for(f"server {resource_id} not deleted", lambda: self._gone(session, path))

    def _gone(self, session: Session, path: str) -> bool:
        response = self.request(session, "GET", "compute", path, decode=False, allow=(404,))
        return bool(response.status_code == 404)
