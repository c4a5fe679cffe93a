"""Icinga 2 runs the CheckCommands osops generates, and gets what an operator gets by hand."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from monitoring_daemons import ICINGA_CA as CA
from monitoring_daemons import (
    by_hand,
    export,
    icinga_config,
    mask_numbers,
    perf_labels,
    validate_icinga,
    wait_for,
)
from monitoring_daemons import icinga as icinga_daemon

pytestmark = pytest.mark.integration
API_USER, API_PASSWORD = "osops", "Ic1nga-Api-Pw"
HOST = "osops-test"


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o644)


def _services(cfg: dict[str, Any]) -> str:
    """Service objects for every check under test, their vars pointing at the fixtures."""
    blocks = []
    for name, check, variables in cfg["services"]:
        lines = [
            f'object Service "{name}" {{',
            f'  host_name = "{HOST}"',
            f'  check_command = "osops-{check.replace("_", "-")}"',
            "  check_interval = 1h",
            "  retry_interval = 1h",
            "  max_check_attempts = 1",
        ]
        for key, value in variables.items():
            literal = value if isinstance(value, int) else '"' + str(value) + '"'
            lines.append(f"  vars.osops_{check}_{key.replace('-', '_')} = {literal}")
        blocks.append("\n".join(lines) + "\n}\n")
    return "\n".join(blocks)


@pytest.fixture(scope="module")
def icinga(
    monitoring_osops: Path,
    cloud: dict[str, Any],
    rabbitmq: dict[str, Any],
    galera: dict[str, Any],
    memcached: int,
) -> Iterator[dict[str, Any]]:
    """Icinga 2 from Debian with a generated conf.d, its API on 127.0.0.1."""
    work, conf_d, port = icinga_config("osops-icinga-", (API_USER, API_PASSWORD))
    clouds = work / "clouds.yaml"
    keystone = cloud  # the real cloud behind the test Keystone
    shutil.copy(keystone["env"]["OS_CLIENT_CONFIG_FILE"], clouds)
    os_vars = {"os-cloud": "test", "os-client-config-file": str(clouds)}
    keystone_conf = work / "keystone.conf"  # a keystone.conf of 2025.1, for upgrade_config
    shutil.copy(
        Path(__file__).parent.parent / "contrib/upgrade/configs/keystone-2025.1.conf",
        keystone_conf,
    )
    keystone_conf.chmod(0o644)
    services = [
        ("dummy", "dummy", {"state": 1, "text": "from icinga"}),
        ("http", "http", {"url": keystone["url"] + "/v3"}),
        (
            "rabbitmq",
            "rabbitmq",
            {
                "url": rabbitmq["url"],
                "username": rabbitmq["username"],
                "password": rabbitmq["password"],
            },
        ),
        (
            "galera",
            "galera",
            {
                "host": galera["host"],
                "port": galera["port"],
                "username": galera["username"],
                "password": galera["password"],
                "expected-size": 1,
            },
        ),
        ("keystone_token", "keystone_token", os_vars),
        ("nova_services", "nova_services", os_vars),
        (
            "upgrade_config",
            "upgrade_config",
            {"service": "keystone", "file": str(keystone_conf), "from": "2025.1"},
        ),
    ]
    _write(conf_d / "osops-commands.conf", export(monitoring_osops, "icinga2", "--services"))
    _write(
        conf_d / "hosts.conf",
        f'object Host "{HOST}" {{\n  check_command = "osops-dummy"\n'
        '  address = "127.0.0.1"\n  check_interval = 1h\n'
        f'  vars.osops_memcached = {{ "cache" = {{ osops_memcached_port = {memcached} }} }}\n}}\n',
    )
    _write(conf_d / "services.conf", _services({"services": services}))
    with icinga_daemon(work, port, (API_USER, API_PASSWORD)) as api:
        validate = validate_icinga(work)
        yield {
            "api": api,
            "osops": monitoring_osops,
            "services": services,
            "validate": validate.stdout,
            "memcached": memcached,
        }


def _result(icinga: dict[str, Any], service: str) -> dict[str, Any]:
    response = requests.get(
        f"{icinga['api']}/objects/services",
        verify=CA,
        timeout=10,
        auth=(API_USER, API_PASSWORD),
        params={"service": f"{HOST}!{service}"},
    )
    response.raise_for_status()
    return dict(response.json()["results"][0]["attrs"])


def _force(icinga: dict[str, Any], service: str) -> dict[str, Any]:
    started = time.time()
    response = requests.post(
        f"{icinga['api']}/actions/reschedule-check",
        verify=CA,
        timeout=10,
        auth=(API_USER, API_PASSWORD),
        headers={"Accept": "application/json"},
        json={
            "type": "Service",
            "filter": f'host.name=="{HOST}" && service.name=="{service}"',
            "force": True,
        },
    )
    assert response.ok, response.text
    return dict(
        wait_for(
            lambda: (
                (r := _result(icinga, service).get("last_check_result"))
                and r["execution_end"] > started
                and r
            ),
            60,
            f"a fresh result of {service}",
        )
    )


def test_generated_config_validates(icinga: dict[str, Any]) -> None:
    assert "Finished validating the configuration" in icinga["validate"]


@pytest.mark.parametrize(
    "service",
    ["dummy", "http", "rabbitmq", "galera", "keystone_token", "nova_services", "upgrade_config"],
)
def test_icinga_result_matches_running_by_hand(icinga: dict[str, Any], service: str) -> None:
    result = _force(icinga, service)
    check, variables = next((c, v) for n, c, v in icinga["services"] if n == service)
    args, env = [], {}
    for key, value in variables.items():
        if key == "password":
            env["OSOPS_PASSWORD"] = str(value)
        else:
            args += [f"--{key}", str(value)]
    code, output, perfdata = by_hand(icinga["osops"], check, args, env)
    assert int(result["exit_status"]) == code, result["output"]
    # Icinga keeps the blank before the '|' that separated the perfdata.
    assert mask_numbers(result["output"].rstrip()) == mask_numbers(output)
    assert perf_labels(result["performance_data"]) == perf_labels(perfdata)
    assert "Pw" not in result["output"] and "Rabb1t" not in str(result["command"])


def test_dummy_state_and_text_exactly(icinga: dict[str, Any]) -> None:
    result = _force(icinga, "dummy")
    assert (result["exit_status"], result["output"]) == (1, "DUMMY WARNING - from icinga")


def test_secrets_are_not_on_the_command_line(icinga: dict[str, Any]) -> None:
    result = _force(icinga, "rabbitmq")
    assert result["exit_status"] == 0, result["output"]
    assert not any("Rabb1t" in part for part in result["command"])
    assert "--password" not in result["command"]


def test_service_apply_rule_from_host_vars(icinga: dict[str, Any]) -> None:
    result = _force(icinga, "osops-memcached-cache")
    assert result["exit_status"] == 0, result["output"]
    assert result["output"].startswith("MEMCACHED OK - ")
    assert "--port" in result["command"] and str(icinga["memcached"]) in result["command"]
