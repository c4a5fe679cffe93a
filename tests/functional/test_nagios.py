"""Nagios 4 validates the command definitions osops generates and runs them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from monitoring_daemons import by_hand, export, mask_numbers, perf_labels, readable_dir, wait_for

pytestmark = pytest.mark.integration
HOST = "osops-test"


def _objects(config: Path, memcached: int) -> str:
    return f"""
define timeperiod {{
    timeperiod_name 24x7
    alias           always
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}}
define command {{
    command_name    notify-nobody
    command_line    /bin/true
}}
define contact {{
    contact_name                    nobody
    host_notifications_enabled      0
    service_notifications_enabled   0
    host_notification_period        24x7
    service_notification_period     24x7
    host_notification_options       n
    service_notification_options    n
    host_notification_commands      notify-nobody
    service_notification_commands   notify-nobody
}}
define host {{
    host_name               {HOST}
    address                 127.0.0.1
    check_command           osops-dummy!--text up
    max_check_attempts      1
    check_interval          60
    check_period            24x7
    contacts                nobody
    notification_period     24x7
}}
define service {{
    host_name               {HOST}
    service_description     dummy
    check_command           osops-dummy!--state 2 --text "from nagios"
    max_check_attempts      1
    check_interval          60
    retry_interval          60
    check_period            24x7
    contacts                nobody
    notification_period     24x7
}}
define service {{
    host_name               {HOST}
    service_description     memcached
    check_command           osops-memcached!--port {memcached} --config {config}
    max_check_attempts      1
    check_interval          60
    retry_interval          60
    check_period            24x7
    contacts                nobody
    notification_period     24x7
}}
"""


@pytest.fixture(scope="module")
def nagios(monitoring_osops: Path, memcached: int) -> Iterator[dict[str, Any]]:
    """Nagios 4 from Debian with the generated commands, its own directory and command pipe."""
    work = readable_dir("osops-nagios-")
    (work / "checkresults").mkdir()
    settings = work / "memcached.yaml"  # a --config file, as secrets would travel
    settings.write_text("host: 127.0.0.1\n")
    (work / "osops-commands.cfg").write_text(export(monitoring_osops, "nagios"))
    (work / "objects.cfg").write_text(_objects(settings, memcached))
    (work / "resource.cfg").write_text("$USER1$=/usr/lib/nagios/plugins\n")
    main = work / "nagios.cfg"
    main.write_text(
        "\n".join(
            [
                f"log_file={work}/nagios.log",
                f"cfg_file={work}/objects.cfg",
                f"cfg_file={work}/osops-commands.cfg",
                f"resource_file={work}/resource.cfg",
                f"object_cache_file={work}/objects.cache",
                f"precached_object_file={work}/objects.precache",
                f"status_file={work}/status.dat",
                "status_update_interval=1",
                "nagios_user=nagios",
                "nagios_group=nagios",
                "check_external_commands=1",
                f"command_file={work}/nagios.cmd",
                f"lock_file={work}/nagios.pid",
                f"temp_file={work}/nagios.tmp",
                f"temp_path={work}",
                f"check_result_path={work}/checkresults",
                "check_result_reaper_frequency=1",
                "interval_length=60",
                "execute_service_checks=1",
                "enable_notifications=0",
                f"state_retention_file={work}/retention.dat",
                "retain_state_information=0",
                "use_syslog=0",
                "log_initial_states=0",
            ]
        )
        + "\n"
    )
    subprocess.run(["chown", "-R", "nagios:nagios", str(work)], check=True)
    verify = subprocess.run(
        ["nagios4", "-v", str(main)], capture_output=True, text=True, timeout=60, check=False
    )
    assert verify.returncode == 0, verify.stdout[-3000:]
    subprocess.run(["nagios4", "-d", str(main)], check=True, capture_output=True, timeout=60)
    pid = int(wait_for(lambda: (work / "nagios.pid").read_text().strip(), 30, "nagios pid"))
    wait_for(lambda: (work / "nagios.cmd").exists(), 30, "nagios command pipe")
    try:
        yield {
            "work": work,
            "verify": verify.stdout,
            "osops": monitoring_osops,
            "memcached": memcached,
            "settings": settings,
        }
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), 30, "nagios to stop")
        subprocess.run(["rm", "-rf", str(work)], check=False)


def _status(work: Path, service: str) -> dict[str, str]:
    text = (work / "status.dat").read_text()
    for block in re.findall(r"servicestatus \{(.*?)\n\s*\}", text, re.S):
        fields = dict(
            line.strip().split("=", 1) for line in block.strip().splitlines() if "=" in line
        )
        if fields.get("service_description") == service:
            return fields
    return {}


def _force(nagios: dict[str, Any], service: str) -> dict[str, str]:
    now = int(time.time())
    with open(nagios["work"] / "nagios.cmd", "w") as pipe:
        pipe.write(f"[{now}] SCHEDULE_FORCED_SVC_CHECK;{HOST};{service};{now}\n")
    return dict(
        wait_for(
            lambda: (
                (s := _status(nagios["work"], service))
                and int(s.get("last_check", 0)) >= now
                and s.get("has_been_checked") == "1"
                and s
            ),
            60,
            f"a fresh {service} result in status.dat",
        )
    )


def test_generated_definitions_pass_verification(nagios: dict[str, Any]) -> None:
    assert "Total Errors:   0" in nagios["verify"]
    assert re.search(r"Checked \d+ commands", nagios["verify"])


def test_forced_dummy_lands_in_status(nagios: dict[str, Any]) -> None:
    status = _force(nagios, "dummy")
    assert (status["current_state"], status["plugin_output"]) == (
        "2",
        "DUMMY CRITICAL - from nagios",
    )
    assert status["performance_data"] == ""


def test_forced_memcached_matches_running_by_hand(nagios: dict[str, Any]) -> None:
    status = _force(nagios, "memcached")
    code, output, perfdata = by_hand(
        nagios["osops"],
        "memcached",
        ["--port", str(nagios["memcached"]), "--config", str(nagios["settings"])],
        {},
    )
    assert int(status["current_state"]) == code == 0
    assert mask_numbers(status["plugin_output"].rstrip()) == mask_numbers(output)
    assert perf_labels(status["performance_data"]) == perf_labels(perfdata)
    assert "connections_used=" in status["performance_data"]
