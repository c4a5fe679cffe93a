"""OpenStack checks through the real Keystone to the real Nova, Neutron, Cinder and Placement.

Faults are real: a service paused until the others see it down, a service
disabled, an agent set admin-down, a pool of addresses used up. HTTP faults
(500, 503, 401, 403, bad JSON, a hang) come from the proxy in front of the
real APIs in region RegionTwo (``--os-cloud faulty``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import run_osops
from support.cloud import faults

from osops.testing import parse_output
from osops_monitoring.capacity import NeutronIpPool, NovaHypervisors
from osops_monitoring.endpoints import ApiEndpoint
from osops_monitoring.keystone import KeystoneToken
from osops_monitoring.services import PERFDATA

pytestmark = pytest.mark.integration


@pytest.fixture
def os(cloud: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The cloud, with the fault proxies passing everything through after each test."""
    yield cloud
    for proxy in cloud["proxies"].values():
        proxy.fault = None


def check(cloud: dict[str, Any], name: str, *args: str, os_cloud: str = "test") -> Any:
    return run_osops("check", "run", name, "--os-cloud", os_cloud, *args, env=cloud["env"])


def labels(stdout: str) -> set[str]:
    return {item.base_label for item in parse_output(stdout)["perfdata"].values()}


def test_keystone_token(os: dict[str, Any]) -> None:
    proc = check(os, "keystone_token")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("KEYSTONE_TOKEN OK - user admin in project admin | time=")
    # identity, placement, image, compute, volumev3, block-storage, network
    assert "catalog_services=7;;1:;0" in proc.stdout
    assert labels(proc.stdout) == {p.label for p in KeystoneToken.perfdata}
    assert os["password"] not in proc.stdout


def test_wrong_credentials_are_unknown_and_secret(os: dict[str, Any]) -> None:
    for verbosity in ("-v", "-vvv"):
        proc = check(os, "keystone_token", verbosity, os_cloud="wrong")
        assert proc.returncode == 3
        assert proc.stdout.startswith("KEYSTONE_TOKEN UNKNOWN - authentication failed: ")
        assert "Wr0ng-Ks-Pw" not in proc.stdout + proc.stderr


def test_keystone_down_is_critical_for_keystone_unknown_for_others(os: dict[str, Any]) -> None:
    proc = check(os, "keystone_token", os_cloud="down")
    assert proc.returncode == 2
    assert re.match(
        r"KEYSTONE_TOKEN CRITICAL - cannot reach Keystone at http://127\.0\.0\.1:\d+/v3\n$",
        proc.stdout,
    )
    proc = check(os, "nova_services", os_cloud="down")
    assert proc.returncode == 3
    assert proc.stdout.startswith("NOVA_SERVICES UNKNOWN - cannot reach Keystone at ")


def test_tls_failure_to_keystone_is_critical_for_keystone(os: dict[str, Any]) -> None:
    proc = check(os, "keystone_token", os_cloud="tls")
    assert proc.returncode == 2
    assert proc.stdout.startswith(
        "KEYSTONE_TOKEN CRITICAL - TLS to Keystone at https://127.0.0.1:"
    )


def test_cloud_missing_from_clouds_yaml(os: dict[str, Any]) -> None:
    proc = check(os, "nova_services", os_cloud="nowhere")
    assert (proc.returncode, proc.stdout) == (
        3,
        "NOVA_SERVICES UNKNOWN - clouds.yaml: Cloud nowhere was not found.\n",
    )


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            "nova_services",
            "NOVA_SERVICES OK - 3 of 3 up | down=0;;0;0;3 up=3;;;0;3 disabled=0;;;0;3",
        ),
        (
            "neutron_agents",
            "NEUTRON_AGENTS OK - 1 of 1 up | down=0;;0;0;1 up=1;;;0;1 disabled=0;;;0;1",
        ),
        (
            "cinder_services",
            "CINDER_SERVICES OK - 2 of 2 up | down=0;;0;0;2 up=2;;;0;2 disabled=0;;;0;2",
        ),
    ],
)
def test_service_states_healthy(os: dict[str, Any], name: str, line: str) -> None:
    proc = check(os, name)
    assert (proc.returncode, proc.stdout) == (0, line + "\n")
    assert labels(proc.stdout) == {p.label for p in PERFDATA}


def test_nova_compute_down_then_disabled_and_down(os: dict[str, Any]) -> None:
    real = os["cloud"]
    state = lambda: faults.nova_state(real, "nova-compute")  # noqa: E731
    with faults.paused(
        real, "nova-compute", lambda: state()[0] == "down", lambda: state()[0] == "up"
    ):
        proc = check(os, "nova_services")
        assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
            2,
            "NOVA_SERVICES CRITICAL - 1 of 3 down: nova-compute@cmp-1",
        )
        # Disabled and down: an operator's decision, not an outage.
        service = next(
            s
            for s in real.api.get("compute", "/os-services")["services"]
            if s["binary"] == "nova-compute"
        )
        real.api.put("compute", f"/os-services/{service['id']}", {"status": "disabled"})
        try:
            proc = check(os, "nova_services", "-v")
            assert proc.returncode == 0, proc.stdout
            assert proc.stdout.startswith(
                "NOVA_SERVICES OK - 2 of 3 up, 1 disabled | down=0;;0;0;3 up=2;;;0;3 disabled=1;;;0;3\n"
            )
            assert "disabled: nova-compute@cmp-1" in proc.stdout
        finally:
            real.api.put("compute", f"/os-services/{service['id']}", {"status": "enabled"})
    assert check(os, "nova_services").returncode == 0


def test_cinder_volume_down_and_disabled(os: dict[str, Any]) -> None:
    real = os["cloud"]
    state = lambda: faults.cinder_state(real, "cinder-volume")  # noqa: E731
    with faults.paused(
        real, "cinder-volume", lambda: state()[0] == "down", lambda: state()[0] == "up"
    ):
        proc = check(os, "cinder_services")
        assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
            2,
            "CINDER_SERVICES CRITICAL - 1 of 2 down: cinder-volume@stor-1@fake",
        )
    # cinder 29.0.0's PUT /os-services/disable answers "disabled" and changes nothing (and
    # enable likewise): only disable-log-reason sets it, so the test re-enables in the database.
    body = {"host": "stor-1@fake", "binary": "cinder-volume", "disabled_reason": "osops test"}
    real.api.put("volume", "/os-services/disable-log-reason", body)
    try:
        proc = check(os, "cinder_services", "-v")
        assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
            0,
            "CINDER_SERVICES OK - 2 of 2 up, 1 disabled",
        )
        assert "disabled: cinder-volume@stor-1@fake" in proc.stdout
    finally:
        faults.cinder_enable(real, "cinder-volume")


def test_neutron_agent_dead_and_admin_down(os: dict[str, Any]) -> None:
    real = os["cloud"]
    with faults.paused(
        real,
        "neutron-dhcp-agent",
        lambda: not faults.agent(real)["alive"],
        lambda: faults.agent(real)["alive"],
    ):
        proc = check(os, "neutron_agents")
        assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
            2,
            "NEUTRON_AGENTS CRITICAL - 1 of 1 down: neutron-dhcp-agent@net-1",
        )
    agent_id = faults.agent(real)["id"]
    real.api.put("network", f"/agents/{agent_id}", {"agent": {"admin_state_up": False}})
    try:
        proc = check(os, "neutron_agents")
        assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
            0,
            "NEUTRON_AGENTS OK - 1 of 1 up, 1 disabled",
        )
    finally:
        real.api.put("network", f"/agents/{agent_id}", {"agent": {"admin_state_up": True}})


def _placement_share(real: Any, rc: str) -> tuple[float, float]:
    """(used, capacity) of one resource class over every provider, read by the test itself."""
    used = capacity = 0.0
    for rp in real.api.get("placement", "/resource_providers")["resource_providers"]:
        inventory = real.api.get("placement", f"/resource_providers/{rp['uuid']}/inventories")[
            "inventories"
        ].get(rc)
        if inventory:
            capacity += (inventory["total"] - inventory["reserved"]) * inventory[
                "allocation_ratio"
            ]
            used += real.api.get("placement", f"/resource_providers/{rp['uuid']}/usages")[
                "usages"
            ].get(rc, 0)
    return used, capacity


def test_nova_hypervisors_from_placement(os: dict[str, Any]) -> None:
    real = os["cloud"]
    rp = real.api.get("placement", "/resource_providers?name=cmp-1")["resource_providers"][0]
    # Three other consumers take 2 vCPUs (max_unit) and 1 GiB each: nova's API shows none.
    consumers = [f"7e57c0de-0000-4000-8000-00000000001{n}" for n in (1, 2, 3)]
    for consumer in consumers:
        real.api.put(
            "placement",
            f"/allocations/{consumer}",
            {
                "allocations": {rp["uuid"]: {"resources": {"VCPU": 2, "MEMORY_MB": 1024}}},
                "project_id": real.api.project_id,
                "user_id": "osops-test",
                "consumer_generation": None,
            },
        )
    try:
        proc = check(os, "nova_hypervisors")
        used, capacity = _placement_share(real, "VCPU")
        assert (used, capacity) == (6, 8)  # SmallFakeDriver: 2 vCPUs at ratio 4.0
        ram_used, ram = _placement_share(real, "MEMORY_MB")
        assert proc.returncode == 0, proc.stdout
        assert proc.stdout.startswith(
            "NOVA_HYPERVISORS OK - vCPUs 75.0% used | vcpus_used=75%;80;95;0 "
            f"ram_used={round(100 * ram_used / ram, 2):g}%;80;95;0 disk_used=0%;80;95;0 "
            "hypervisors_down=0;0;;0;1\n"
        )
        assert labels(proc.stdout) == {p.label for p in NovaHypervisors.perfdata}
        proc = check(os, "nova_hypervisors", "-w", "70")
        assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
            1,
            "NOVA_HYPERVISORS WARNING - vCPUs 75.0% used (outside range 0:70)",
        )
    finally:
        for consumer in consumers:
            real.api.delete("placement", f"/allocations/{consumer}")


def test_neutron_ip_pool_external_networks_only(os: dict[str, Any]) -> None:
    proc = check(os, "neutron_ip_pool", "-w", "3:")
    # public: .2-.14 (13), provider: .2-.6 (5); the internal network is not a pool.
    assert (proc.returncode, proc.stdout) == (
        0,
        "NEUTRON_IP_POOL OK - 2 external networks | "
        "free_ips[provider]=5;3:;1:;0 free_ips[public]=13;3:;1:;0\n",
    )
    assert labels(proc.stdout) == {p.label for p in NeutronIpPool.perfdata}
    real = os["cloud"]
    network = os["ids"]["networks"]["provider"]
    ports = [
        real.api.post("network", "/ports", {"port": {"network_id": network}})["port"]["id"]
        for _ in range(5)
    ]
    try:
        proc = check(os, "neutron_ip_pool", "-w", "3:")
        assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
            2,
            "NEUTRON_IP_POOL CRITICAL - free_ips[provider] has 0 free addresses (outside range 1:)",
        )
    finally:
        for port in ports:
            real.api.delete("network", f"/ports/{port}")


def test_api_endpoints_every_one_answers(os: dict[str, Any]) -> None:
    proc = check(os, "api_endpoint", "--all")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("API_ENDPOINT OK - 7 of 7 endpoints answered | ")
    for kind in ("block-storage", "compute", "identity", "image", "network", "placement"):
        assert f"time[{kind}]=" in proc.stdout
    # cinder's /v3/{project_id} routes no version document; its /v3 does.
    assert "time[volumev3]=" in proc.stdout
    assert labels(proc.stdout) == {p.label for p in ApiEndpoint.perfdata}
    os["proxies"]["compute"].fault = "503"
    proc = check(
        os,
        "api_endpoint",
        "--service-type",
        "compute",
        "--service-type",
        "network",
        os_cloud="faulty",
    )
    assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
        2,
        "API_ENDPOINT CRITICAL - 1 of 2 failed: compute: HTTP 503",
    )


@pytest.mark.parametrize(
    ("fault", "code", "line"),
    [
        ("500", 2, "NOVA_SERVICES CRITICAL - compute API answered HTTP 500 for /os-services"),
        ("503", 2, "NOVA_SERVICES CRITICAL - compute API answered HTTP 503 for /os-services"),
        ("401", 3, "NOVA_SERVICES UNKNOWN - compute API refused the credentials (HTTP 401)"),
        ("403", 3, "NOVA_SERVICES UNKNOWN - compute API refused the credentials (HTTP 403)"),
        (
            "malformed",
            3,
            "NOVA_SERVICES UNKNOWN - compute API answered /os-services with invalid JSON",
        ),
    ],
)
def test_service_faults(os: dict[str, Any], fault: str, code: int, line: str) -> None:
    assert check(os, "nova_services", os_cloud="faulty").returncode == 0
    os["proxies"]["compute"].fault = fault
    proc = check(os, "nova_services", os_cloud="faulty")
    assert (proc.returncode, proc.stdout) == (code, line + "\n")


def test_hung_service_is_unknown_within_timeout(
    os: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import time

    from osops.check import runner

    os["proxies"]["compute"].fault = "hang"
    # Timed in-process: -t bounds Keystone auth and the hung call, while interpreter
    # start-up and imports are no part of it (and vary on a loaded machine).
    for key, value in os["env"].items():
        monkeypatch.setenv(key, value)
    out = io.StringIO()
    started = time.monotonic()
    code = runner.main(["nova_services", "--os-cloud", "faulty", "-t", "3"], out=out)
    elapsed = time.monotonic() - started
    # Whichever ends first: the call's own timeout (connecting, when the hung proxy's
    # listen queue is full, or reading), or the check's.
    hung = {
        f"NOVA_SERVICES UNKNOWN - {why}\n"
        for why in (
            "compute API did not accept a connection in 3s",
            "compute API did not answer in 3s",
            "timed out after 3s",
        )
    }
    assert (code, out.getvalue() in hung) == (3, True), out.getvalue()
    assert elapsed < 4.0, f"nova_services took {elapsed:.2f}s with -t 3"
    # And once as Icinga runs it: one of the same lines.
    proc = check(os, "nova_services", "-t", "3", os_cloud="faulty")
    assert (proc.returncode, proc.stdout in hung) == (3, True), proc.stdout


def test_requests_carry_the_project_to_cinder(os: dict[str, Any]) -> None:
    proxy = os["proxies"]["volumev3"]
    proxy.requests.clear()
    assert check(os, "cinder_services", os_cloud="faulty").returncode == 0
    assert proxy.requests == [f"/v3/{os['cloud'].api.project_id}/os-services"]


def test_os_environment_without_clouds_yaml(os: dict[str, Any], tmp_path: Any) -> None:
    env = {
        "OS_CLIENT_CONFIG_FILE": str(tmp_path / "none.yaml"),
        "OS_AUTH_URL": os["url"] + "/v3",
        "OS_USERNAME": "admin",
        "OS_PASSWORD": os["password"],
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": "RegionOne",
    }
    proc = run_osops("check", "run", "cinder_services", "-v", env=env)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("CINDER_SERVICES OK - 2 of 2 up")
    assert os["password"] not in proc.stdout


def test_client_config_file_option(os: dict[str, Any], tmp_path: Any) -> None:
    path = os["env"]["OS_CLIENT_CONFIG_FILE"]
    proc = run_osops(
        "check", "run", "neutron_agents", "--os-cloud", "test", "--os-client-config-file", path
    )
    assert proc.returncode == 0, proc.stdout
    missing = tmp_path / "missing.yaml"
    proc = run_osops("check", "run", "neutron_agents", "--os-client-config-file", str(missing))
    assert (proc.returncode, proc.stdout) == (
        3,
        f"NEUTRON_AGENTS UNKNOWN - --os-client-config-file {missing}: not readable\n",
    )
