"""The distributed layout in two real Icinga 2 instances: host-local checks run on the agent.

``osops check export --zones-dir`` fills the master's zones.d; the master
syncs the global zone to the agent. Where a check ran is proven from the
check's own process (the ``whereami`` fixture check lists the process ids
above it: the agent's icinga2, never the master's), not from macros, which
the master resolves. A stopped agent is seen through the master's endpoint
``connected`` state: the "not connected" check result only comes once the
master has been up for 300 s (hard-coded in Icinga).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, ROOT, run_osops
from servers import wait_until
from support import chrony
from support.icinga_zones import Cluster, cluster

pytestmark = pytest.mark.integration
SITE = FIXTURES / "osops-whereami"
GLOBAL = "global-templates"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def zones(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("icinga-zones")
    env = {"PYTHONPATH": str(SITE)}  # the daemons' checks find whereami too
    with (
        chrony.server(root) as (_, ntp),
        chrony.client(root, ntp) as clock,
        cluster(root, env, GLOBAL) as made,
    ):
        zones_d = made.master.zones_d
        proc = run_osops(
            *("check", "export", "--zones-dir", str(zones_d)),
            *("whereami", "chrony", "dummy"),
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        (zones_d / "master").mkdir()
        (zones_d / "master" / "hosts.conf").write_text(
            'object Host "agent" {\n  check_command = "dummy"\n'
            '  vars.osops_whereami = { "here" = { } }\n'
            '  vars.osops_chrony = { "clock" = { osops_chrony_host = "127.0.0.1", '
            f"osops_chrony_port = {clock.cmdport} }} }}\n"
            '  vars.osops_dummy = { "central" = { osops_dummy_text = "from the zone" } }\n}\n'
        )
        started = time.monotonic()
        made.start_master()
        master_up = time.monotonic() - started
        made.start_agent()
        connected = time.monotonic() - started
        wait_until(clock.synchronised, 20, "chronyd synchronised")
        timings = {"master up": master_up, "agent connected": connected}
        yield {"cluster": made, "timings": timings, "started": started}


def result(made: Cluster, service: str, expect: str, deadline: float = 60) -> dict[str, Any]:
    """The master's last result of the agent host's ``service`` once its output matches
    ``expect``, forcing checks (the first ones fail until the agent has the global zone)."""
    found: dict[str, Any] = {}

    def ready() -> bool:
        attrs = made.service("agent", service)
        last = attrs.get("last_check_result") or {}
        if last and re.match(expect, last.get("output", "")):
            found.update(last)
            return True
        made.check_now("agent", service)
        return False

    wait_until(ready, deadline, f"{service}: a result matching {expect!r}")
    return found


def test_host_local_check_runs_on_the_agent(zones: dict[str, Any]) -> None:
    made = zones["cluster"]
    last = result(made, "osops-whereami-here", r"WHEREAMI OK - pid \d+ under ")
    zones["timings"]["first host-local result"] = time.monotonic() - zones["started"]
    ancestors = [int(p) for p in last["output"].split(" under ")[1].split()]
    assert made.agent.proc.pid in ancestors, (last["output"], made.agent.proc.pid)
    assert made.master.proc.pid not in ancestors
    assert last["check_source"] == "agent"


def test_real_data_plane_check_through_the_agent(zones: dict[str, Any]) -> None:
    last = result(zones["cluster"], "osops-chrony-clock", r"CHRONY OK - offset ")
    assert last["check_source"] == "agent"
    assert last["exit_status"] == 0
    assert "stratum=9" in " ".join(str(p) for p in last["performance_data"])


def test_other_checks_run_in_the_hosts_zone(zones: dict[str, Any]) -> None:
    last = result(zones["cluster"], "osops-dummy-central", r"DUMMY OK - from the zone")
    assert last["check_source"] == "master"


def test_stopped_agent_is_seen_by_the_master(zones: dict[str, Any]) -> None:
    made = zones["cluster"]
    assert made.connected("agent")
    stopped = time.monotonic()
    made.agent.stop()
    wait_until(lambda: not made.connected("agent"), 10, "the master to see the agent gone")
    print(f"agent seen disconnected {time.monotonic() - stopped:.2f}s after SIGTERM")
    print({what: round(seconds, 2) for what, seconds in zones["timings"].items()})


def test_ansible_icinga_role_in_master_mode(tmp_path: Path) -> None:
    """The icinga role with icinga_mode: master fills a running master's zones.d, validates
    and reloads it; the agent gets the global zone and runs the host-local check."""
    env = {"PYTHONPATH": str(SITE)}
    collections = tmp_path / "collections" / "ansible_collections" / "osops"
    collections.mkdir(parents=True)
    (collections / "toolkit").symlink_to(ROOT / "contrib" / "ansible")
    with cluster(tmp_path / "icinga", env, GLOBAL) as made:
        zones_d = made.master.zones_d
        (zones_d / "master").mkdir()
        (zones_d / "master" / "hosts.conf").write_text(
            'object Host "agent" {\n  check_command = "dummy"\n'
            '  vars.osops_whereami = { "here" = { } }\n}\n'
        )
        made.start_master()
        made.start_agent()
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "/usr/bin/python3",
            "icinga_mode": "master",
            "icinga_osops_venv": str(BIN.parent),
            "icinga_zones_dir": str(zones_d),
            "icinga_staging_dir": str(tmp_path / "staging"),
            "icinga_user": "root",
            "icinga_group": "root",
            "icinga_validate_command": made.master.argv("daemon", "-C"),
            "icinga_reload_command": ["kill", "-HUP", str(made.master.proc.pid)],
            "icinga_services": [
                {
                    "name": "inventory-dummy",
                    "check": "dummy",
                    "vars": {"text": "from the inventory"},
                    "assign": 'host.name == "agent"',
                }
            ],
        }
        inventory = tmp_path / "inventory.json"
        inventory.write_text(json.dumps({"monitoring": {"hosts": {"localhost": host}}}))
        play = tmp_path / "play.yml"
        play.write_text("- hosts: monitoring\n  roles:\n    - role: osops.toolkit.icinga\n")
        ansible_env = {
            **os.environ,
            **env,
            "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_NOCOLOR": "1",
        }
        argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(play)]

        def playbook() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                argv, env=ansible_env, capture_output=True, text=True, timeout=300, check=False
            )

        first = playbook()
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
        assert (zones_d / GLOBAL / "osops-commands.conf").exists()
        last = result(made, "osops-whereami-here", r"WHEREAMI OK - pid \d+ under ")
        assert made.agent.proc.pid in [int(p) for p in last["output"].split(" under ")[1].split()]
        assert last["check_source"] == "agent"
        ours = result(made, "inventory-dummy", r"DUMMY OK - from the inventory")
        assert ours["check_source"] == "master"
        again = playbook()
        assert again.returncode == 0, again.stdout[-4000:]
        assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", again.stdout), again.stdout[-2000:]
