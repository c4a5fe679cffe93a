"""Nova: API under gunicorn, conductor, scheduler and one compute with the fake driver.

Cells v2 with cell0 and cell1, RabbitMQ as transport. The fake driver's host
cannot be restarted under the same name (its node record is then a duplicate),
so faults pause it (SIGSTOP) rather than stop it.
"""

from __future__ import annotations

import shutil
from typing import Any

from . import database
from .api import Api
from .base import (
    DOWN_TIME,
    REPORT_INTERVAL,
    VENV,
    Processes,
    Settings,
    common,
    gunicorn,
    ini,
    run,
    wait,
)

CATALOG = [("nova", "compute", "/v2.1")]
COMPUTE_HOST = "cmp-1"


def _conf(settings: Settings, url: Any) -> dict[str, Any]:
    where = settings.dir("nova")
    sections = common(settings, "nova")
    sections["DEFAULT"].update(
        {
            "host": "ctl-1",
            "compute_driver": "fake.SmallFakeDriver",
            "report_interval": REPORT_INTERVAL,
            "service_down_time": DOWN_TIME,
            "instances_path": settings.dir("nova/instances"),
            "my_ip": "127.0.0.1",
            "enabled_apis": "osapi_compute",
            # The periodic task that reports resources to placement, often enough for the
            # capacity tests to see an inventory change.
            "update_resources_interval": 5,
        }
    )
    sections["api_database"] = {"connection": url("nova_api")}
    sections["database"] = {"connection": url("nova_cell1")}
    sections["wsgi"] = {"api_paste_config": where / "api-paste.ini"}
    sections["api"] = {"auth_strategy": "keystone"}
    sections["placement"] = {**settings.password_auth(), "valid_interfaces": "public"}
    sections["neutron"] = {**settings.password_auth(), "valid_interfaces": "public"}
    sections["glance"] = {"region_name": "RegionOne", "valid_interfaces": "public"}
    sections["cinder"] = {
        **settings.password_auth(),
        "os_region_name": "RegionOne",
        "catalog_info": "volumev3:cinderv3:publicURL",
    }
    # Nova sends its service token with the user's (as deployments must since CVE-2023-2088):
    # Cinder lets only Nova delete an attachment Nova made.
    sections["service_user"] = {**settings.password_auth(), "send_service_user_token": True}
    sections["scheduler"] = {"workers": 1, "discover_hosts_in_cells_interval": -1}
    sections["conductor"] = {"workers": 1}
    sections["vnc"] = {"enabled": False}
    return sections


def prepare(settings: Settings, procs: Processes) -> None:
    where = settings.dir("nova")
    shutil.copy(VENV.parent / "etc" / "nova" / "api-paste.ini", where)
    urls = {
        name: database.start(settings, procs, name)
        for name in ("nova_api", "nova_cell0", "nova_cell1")
    }
    (where / "nova.conf").write_text(ini(_conf(settings, urls.get)))
    (where / "nova-compute.conf").write_text(ini({"DEFAULT": {"host": COMPUTE_HOST}}))
    manage = [VENV / "nova-manage", "--config-file", where / "nova.conf"]
    log = where / "prepare.log"
    run([*manage, "api_db", "sync"], log)
    run(
        [*manage, "cell_v2", "map_cell0", "--database_connection", urls["nova_cell0"]],
        log,
    )
    run([*manage, "cell_v2", "create_cell", "--name", "cell1"], log)
    run([*manage, "db", "sync"], log)


def start(settings: Settings, procs: Processes, queues: Any) -> None:
    """Conductor and scheduler first (compute waits ~10 s for a conductor otherwise)."""
    where = settings.dir("nova")
    conf = ["--config-file", where / "nova.conf"]
    procs.start("nova-conductor", [VENV / "nova-conductor", *conf], where / "conductor.log")
    procs.start("nova-scheduler", [VENV / "nova-scheduler", *conf], where / "scheduler.log")
    gunicorn(
        procs,
        settings,
        "nova",
        where / "nova.conf",
        {"OS_NOVA_CONFIG_DIR": str(where), "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova.conf"},
    )
    wait(lambda: queues("conductor") and queues("scheduler"), 90, "nova conductor", procs)
    procs.start(
        "nova-compute",
        [VENV / "nova-compute", *conf, "--config-file", where / "nova-compute.conf"],
        where / "compute.log",
    )


def settle(settings: Settings, procs: Processes, api: Api) -> None:
    """Compute up and mapped to cell1, its resource provider in placement."""
    wait(
        lambda: any(
            s["binary"] == "nova-compute" and s["state"] == "up"
            for s in api.get("compute", "/os-services")["services"]
        ),
        90,
        "nova-compute",
        procs,
    )
    where = settings.dir("nova")
    run(
        [VENV / "nova-manage", "--config-file", where / "nova.conf", "cell_v2", "discover_hosts"],
        where / "prepare.log",
    )
    wait(
        lambda: api.get("placement", "/resource_providers?resources=VCPU:1")["resource_providers"],
        60,
        "the compute's resource provider",
        procs,
    )
