"""Neutron: the API under gunicorn, the RPC server, ML2, the L3 plugin, and a DHCP agent.

On MariaDB (support.cloud.database), not SQLite: see there why.

ML2 with flat and VLAN networks and no mechanism driver: the API, networks,
subnets, IP availability and quotas are real; ports bind to nothing. The DHCP
agent runs with the null interface driver: it spawns no dnsmasq for networks
without DHCP, but it reports its state over RPC like any agent, so the agent
list (alive, admin_state_up) is the real server's.
"""

from __future__ import annotations

from typing import Any

from . import database
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

CATALOG = [("neutron", "network", "")]
AGENT_HOST = "net-1"
_CREATE_ALL = """
import sys, sqlalchemy
from neutron.db.migration.models import head
head.get_metadata().create_all(sqlalchemy.create_engine(sys.argv[1]))
"""


def _conf(settings: Settings, connection: str) -> dict[str, Any]:
    sections = common(settings, "neutron")
    sections["DEFAULT"].update(
        {
            "host": "ctl-1",
            "core_plugin": "ml2",
            "service_plugins": "router",
            "auth_strategy": "keystone",
            "api_paste_config": VENV.parent / "etc" / "neutron" / "api-paste.ini",
            "notify_nova_on_port_status_changes": False,
            "notify_nova_on_port_data_changes": False,
            "agent_down_time": DOWN_TIME,
            "api_workers": 1,
            "rpc_workers": 1,
            "rpc_state_report_workers": 1,
        }
    )
    sections["database"] = {"connection": connection}
    sections["ml2"] = {
        "type_drivers": "flat,vlan",
        "tenant_network_types": "",
        "mechanism_drivers": "",
        "extension_drivers": "port_security",
    }
    sections["ml2_type_flat"] = {"flat_networks": "*"}
    sections["ml2_type_vlan"] = {"network_vlan_ranges": "physnet1:100:199"}
    sections["nova"] = {**settings.password_auth(), "endpoint_type": "public"}
    sections["agent"] = {"report_interval": REPORT_INTERVAL}
    sections["quotas"] = {}
    return sections


def prepare(settings: Settings, procs: Processes) -> None:
    where = settings.dir("neutron")
    connection = database.start(settings, procs, "neutron")
    (where / "neutron.conf").write_text(ini(_conf(settings, connection)))
    (where / "dhcp_agent.ini").write_text(
        ini(
            {
                "DEFAULT": {
                    "host": AGENT_HOST,
                    "interface_driver": "null",
                    "enable_isolated_metadata": False,
                    "log_file": where / "dhcp-agent.log",
                },
                "agent": {"report_interval": REPORT_INTERVAL, "root_helper": ""},
            }
        )
    )
    # The schema from neutron's models (as its own tests make it), stamped at the heads
    # of its migrations: a few seconds, where running the migrations takes minutes here.
    run([VENV / "python", "-c", _CREATE_ALL, connection], where / "prepare.log")
    run(
        [VENV / "neutron-db-manage", "--config-file", where / "neutron.conf", "stamp", "heads"],
        where / "prepare.log",
    )


def start(settings: Settings, procs: Processes, queues: Any) -> None:
    """The RPC server first: an agent's first call sent before it listens is lost."""
    where = settings.dir("neutron")
    conf = ["--config-file", where / "neutron.conf"]
    gunicorn(procs, settings, "neutron", where / "neutron.conf")
    procs.start("neutron-rpc-server", [VENV / "neutron-rpc-server", *conf], where / "rpc.log")
    wait(lambda: queues("q-plugin") and queues("q-reports-plugin"), 60, "neutron RPC", procs)
    procs.start(
        "neutron-dhcp-agent",
        [VENV / "neutron-dhcp-agent", *conf, "--config-file", where / "dhcp_agent.ini"],
        where / "dhcp-agent-stdout.log",
    )
