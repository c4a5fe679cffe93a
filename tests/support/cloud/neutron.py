"""Neutron: the API under gunicorn, the RPC server, ML2, and a DHCP agent.

ML2 with flat and VLAN networks and no mechanism driver: the API, networks,
subnets, IP availability and quotas are real; ports bind to nothing. The DHCP
agent runs with the null interface driver: it spawns no dnsmasq for networks
without DHCP, but it reports its state over RPC like any agent, so the agent
list (alive, admin_state_up) is the real server's.
"""

from __future__ import annotations

from typing import Any

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
    sqlite_wal,
    wait,
)

CATALOG = [("neutron", "network", "")]
AGENT_HOST = "net-1"
_CREATE_ALL = """
import sys, sqlalchemy
from neutron.db.migration.models import head
head.get_metadata().create_all(sqlalchemy.create_engine(sys.argv[1]))
"""


def _conf(settings: Settings) -> dict[str, Any]:
    sections = common(settings, "neutron")
    sections["DEFAULT"].update(
        {
            "host": "ctl-1",
            "core_plugin": "ml2",
            "service_plugins": "",
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
    sections["database"] = {"connection": settings.sqlite("neutron")}
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


def prepare(settings: Settings) -> None:
    where = settings.dir("neutron")
    (where / "neutron.conf").write_text(ini(_conf(settings)))
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
    # Neutron's migrations alter constraints, which SQLite cannot: the schema comes
    # from its models instead (as neutron's own tests make it on SQLite), stamped
    # at the heads of its migrations.
    run([VENV / "python", "-c", _CREATE_ALL, settings.sqlite("neutron")], where / "prepare.log")
    run(
        [VENV / "neutron-db-manage", "--config-file", where / "neutron.conf", "stamp", "heads"],
        where / "prepare.log",
    )
    sqlite_wal(settings.sqlite("neutron"))


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
