"""A real OpenStack on 127.0.0.1: Placement, Glance, Nova, Cinder and Neutron from PyPI.

Behind the test Keystone and RabbitMQ (one vhost), from one venv pinned by
``tests/fixtures/cloud/constraints.txt`` (``.work/cloud-venv``, made by
``tools/setup --dev``), placement and glance on SQLite with write-ahead logging,
nova, cinder and neutron on a MariaDB of the cloud's own (support.cloud.database). The services'
databases are prepared in parallel and each starts as soon as its own is ready;
every wait is bounded. ``tools/cloud`` starts the same cloud by hand.
"""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import Any

from . import cinder, glance, neutron, nova, placement
from .api import Api
from .base import REGION, VENV, Processes, Settings, wait

SERVICES = (placement, glance, nova, cinder, neutron)
#: Where clouds.yaml points the fault tests: the compute API behind a fault-injecting proxy.
FAULT_REGION = "RegionTwo"


class Cloud:
    """The running cloud: its settings, processes, an admin client and start-up timings."""

    def __init__(
        self,
        work: Path,
        keystone_url: str,
        admin_password: str,
        rabbit_api: str,
        amqp_port: int,
    ) -> None:
        from osops.testing import free_port

        self.rabbit_api = rabbit_api
        transport = f"rabbit://openstack:Cl0ud-Rabbit@127.0.0.1:{amqp_port}/openstack"
        self.settings = Settings(work, keystone_url, admin_password, transport)
        for name in ("placement", "glance", "nova", "cinder", "neutron"):
            self.settings.ports[name] = free_port()
        (work / "db").mkdir(parents=True, exist_ok=True)
        self.procs = Processes()
        self.api = Api(self.settings)
        self.timings: dict[str, float] = {}

    def start(self) -> None:
        """Everything up and settled, or RuntimeError naming what was not (then stopped)."""
        if not (VENV / "nova-manage").exists():
            raise RuntimeError(f"{VENV.parent} is missing: run tools/setup --dev")
        started = time.monotonic()
        try:
            self._rabbit_vhost()
            self._catalog()
            with concurrent.futures.ThreadPoolExecutor(len(SERVICES)) as pool:
                futures = {pool.submit(self._bring_up, s): s.__name__ for s in SERVICES}
                for future in concurrent.futures.as_completed(futures):
                    future.result()
            self.timings["services started"] = time.monotonic() - started
            self._settle()
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = time.monotonic() - started

    def _bring_up(self, service: Any) -> None:
        name = service.__name__.rsplit(".", 1)[-1]
        began = time.monotonic()
        if service in (nova, cinder, neutron):
            service.prepare(self.settings, self.procs)
        else:
            service.prepare(self.settings)
        self.timings[f"{name} prepared"] = time.monotonic() - began
        if service in (nova, neutron):
            service.start(self.settings, self.procs, self._consumed)
        else:
            service.start(self.settings, self.procs)
        self.timings[f"{name} started"] = time.monotonic() - began

    def _settle(self) -> None:
        began = time.monotonic()
        api, procs = self.api, self.procs
        wait(lambda: api.get("placement", "/"), 60, "placement API", procs)
        wait(lambda: api.get("image", "/images"), 60, "glance API", procs)
        wait(lambda: api.get("network", "/networks"), 60, "neutron API", procs)
        wait(lambda: api.get("volume", "/os-services"), 60, "cinder API", procs)
        nova.settle(self.settings, procs, api)
        wait(
            lambda: any(
                s["binary"] == "cinder-volume" and s["state"] == "up"
                for s in api.get("volume", "/os-services")["services"]
            ),
            60,
            "cinder-volume",
            procs,
        )
        wait(
            lambda: any(a["alive"] for a in api.get("network", "/agents")["agents"]),
            60,
            "neutron DHCP agent",
            procs,
        )
        self.timings["settled"] = time.monotonic() - began

    def stop(self) -> None:
        self.procs.stop_all()

    def _rabbit(self, method: str, path: str, body: Any = None) -> Any:
        import requests

        response = requests.request(
            method, self.rabbit_api + path, json=body, auth=("guest", "guest"), timeout=10
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def _rabbit_vhost(self) -> None:
        self._rabbit("PUT", "/api/vhosts/openstack")
        self._rabbit("PUT", "/api/users/openstack", {"password": "Cl0ud-Rabbit", "tags": ""})
        self._rabbit(
            "PUT",
            "/api/permissions/openstack/openstack",
            {"configure": ".*", "write": ".*", "read": ".*"},
        )

    def _consumed(self, queue: str) -> bool:
        return bool(self._rabbit("GET", f"/api/queues/openstack/{queue}")["consumers"])

    def _catalog(self) -> None:
        # The services call each other as the admin user with a service token;
        # keystonemiddleware accepts a service token only from a user with the
        # "service" role, as operators give their services' users.
        # (keystone-manage bootstrap makes the role; assign it to admin.)
        role = self.api.get("keystone", "/roles?name=service")["roles"][0]
        user = self.api.get("keystone", "/users?name=admin")["users"][0]["id"]
        self.api.request(
            "PUT",
            "keystone",
            f"/projects/{self.api.project_id}/users/{user}/roles/{role['id']}",
        )
        for service in SERVICES:
            for name, kind, path in service.CATALOG:
                self.register(
                    name, kind, self.settings.url(service.__name__.rsplit(".")[-1]) + path
                )

    def register(self, name: str, kind: str, url: str, region: str = REGION) -> None:
        """A service and its public, internal and admin endpoints in the Keystone catalog."""
        found = self.api.get("keystone", f"/services?type={kind}")["services"]
        if found:
            service_id = found[0]["id"]
        else:
            service_id = self.api.post(
                "keystone", "/services", {"service": {"name": name, "type": kind}}
            )["service"]["id"]
        if region != REGION:
            self.api.request("POST", "keystone", "/regions", {"region": {"id": region}}, ok=(409,))
        for interface in ("public", "internal", "admin"):
            self.api.post(
                "keystone",
                "/endpoints",
                {
                    "endpoint": {
                        "service_id": service_id,
                        "interface": interface,
                        "url": url,
                        "region_id": region,
                    }
                },
            )


def boot(real: Cloud, ids: dict[str, Any], name: str) -> str:
    """Ask Nova for a server of the seeded image and m1.tiny, with no network: its id.

    The fake driver makes it ACTIVE within seconds while nova-compute runs
    (:func:`wait_active`); with it paused, the server stays in BUILD.
    """
    body = {
        "name": name,
        "imageRef": ids["image"],
        "flavorRef": ids["flavors"]["m1.tiny"],
        "networks": "none",
    }
    return str(real.api.post("compute", "/servers", {"server": body})["server"]["id"])


def wait_active(real: Cloud, server: str, seconds: float = 90) -> None:
    """Until the server is ACTIVE: RuntimeError after ``seconds``, AssertionError if it fails."""

    def active() -> bool:
        status = real.api.get("compute", f"/servers/{server}")["server"]["status"]
        assert status != "ERROR", f"server {server} went ERROR"
        return bool(status == "ACTIVE")

    wait(active, seconds, f"server {server} ACTIVE", real.procs)
