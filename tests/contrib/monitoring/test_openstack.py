"""OpenStack checks through a real Keystone to the nova/neutron/cinder stand-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import run_osops

from osops_monitoring.capacity import NeutronIpPool, NovaHypervisors
from osops_monitoring.endpoints import ApiEndpoint
from osops_monitoring.keystone import KeystoneToken
from osops_monitoring.services import PERFDATA

pytestmark = pytest.mark.integration


@pytest.fixture
def cloud(keystone: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The Keystone fixture, with the stand-in reset to a healthy cloud after each test."""
    yield keystone
    keystone["fake"].scenario = "healthy"
    keystone["fake"].fault = None


def check(cloud: dict[str, Any], name: str, *args: str, os_cloud: str = "test") -> Any:
    return run_osops("check", "run", name, "--os-cloud", os_cloud, *args, env=cloud["env"])


def labels(stdout: str) -> set[str]:
    perfdata = stdout.splitlines()[0].partition(" | ")[2]
    return {item.split("=")[0].split("[")[0] for item in perfdata.split()}


def test_keystone_token(cloud: dict[str, Any]) -> None:
    proc = check(cloud, "keystone_token")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("KEYSTONE_TOKEN OK - user admin in project admin | time=")
    assert "catalog_services=4;;1:;0" in proc.stdout
    assert labels(proc.stdout) == {p.label for p in KeystoneToken.perfdata}
    assert cloud["password"] not in proc.stdout


def test_wrong_credentials_are_unknown_and_secret(cloud: dict[str, Any]) -> None:
    for verbosity in ("-v", "-vvv"):
        proc = check(cloud, "keystone_token", verbosity, os_cloud="wrong")
        assert proc.returncode == 3
        assert proc.stdout.startswith("KEYSTONE_TOKEN UNKNOWN - authentication failed: ")
        assert "Wr0ng-Ks-Pw" not in proc.stdout + proc.stderr


def test_keystone_down_is_critical_for_keystone_unknown_for_others(cloud: dict[str, Any]) -> None:
    proc = check(cloud, "keystone_token", os_cloud="down")
    assert proc.returncode == 2
    assert re.match(
        r"KEYSTONE_TOKEN CRITICAL - cannot reach Keystone at http://127\.0\.0\.1:\d+/v3\n$",
        proc.stdout,
    )
    proc = check(cloud, "nova_services", os_cloud="down")
    assert proc.returncode == 3
    assert proc.stdout.startswith("NOVA_SERVICES UNKNOWN - cannot reach Keystone at ")


def test_tls_failure_to_keystone_is_critical_for_keystone(cloud: dict[str, Any]) -> None:
    proc = check(cloud, "keystone_token", os_cloud="tls")
    assert proc.returncode == 2
    assert proc.stdout.startswith(
        "KEYSTONE_TOKEN CRITICAL - TLS to Keystone at https://127.0.0.1:"
    )


def test_cloud_missing_from_clouds_yaml(cloud: dict[str, Any]) -> None:
    proc = check(cloud, "nova_services", os_cloud="nowhere")
    assert (proc.returncode, proc.stdout) == (
        3,
        "NOVA_SERVICES UNKNOWN - clouds.yaml: Cloud nowhere was not found.\n",
    )


@pytest.mark.parametrize(
    ("name", "healthy", "degraded"),
    [
        (
            "nova_services",
            "NOVA_SERVICES OK - 11 of 11 up, 1 disabled | down=0;;0;0;11",
            "NOVA_SERVICES CRITICAL - 2 of 11 down: nova-compute@cmp-3, nova-compute@cmp-7 | down=2;;0;0;11",
        ),
        (
            "neutron_agents",
            "NEUTRON_AGENTS OK - 7 of 7 up | down=0;;0;0;7",
            "NEUTRON_AGENTS CRITICAL - 1 of 7 down: neutron-l3-agent@net-2 | down=1;;0;0;7",
        ),
        (
            "cinder_services",
            "CINDER_SERVICES OK - 4 of 4 up | down=0;;0;0;4",
            "CINDER_SERVICES CRITICAL - 1 of 4 down: cinder-volume@stor-2@lvm | down=1;;0;0;4",
        ),
    ],
)
def test_service_states(cloud: dict[str, Any], name: str, healthy: str, degraded: str) -> None:
    proc = check(cloud, name)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith(healthy)
    assert labels(proc.stdout) == {p.label for p in PERFDATA}
    cloud["fake"].scenario = "degraded"
    proc = check(cloud, name)
    assert proc.returncode == 2
    assert proc.stdout.startswith(degraded)


def test_nova_hypervisors(cloud: dict[str, Any]) -> None:
    proc = check(cloud, "nova_hypervisors")
    assert proc.returncode == 0, proc.stdout
    assert "vcpus_used=50%;80;95;0" in proc.stdout and "disk_used=25%;80;95;0" in proc.stdout
    assert labels(proc.stdout) == {p.label for p in NovaHypervisors.perfdata}
    cloud["fake"].scenario = "degraded"
    proc = check(cloud, "nova_hypervisors")
    assert proc.returncode == 1
    assert proc.stdout.startswith(
        "NOVA_HYPERVISORS WARNING - vCPUs 89.1% used (outside range 0:80)"
    )


def test_neutron_ip_pool(cloud: dict[str, Any]) -> None:
    proc = check(cloud, "neutron_ip_pool")
    assert proc.returncode == 0, proc.stdout
    assert (
        "free_ips[provider]=1011;10:;1:" in proc.stdout
        and "free_ips[public]=133;10:;1:" in proc.stdout
    )
    assert labels(proc.stdout) == {p.label for p in NeutronIpPool.perfdata}
    cloud["fake"].scenario = "degraded"
    proc = check(cloud, "neutron_ip_pool")
    assert proc.returncode == 2
    assert proc.stdout.startswith(
        "NEUTRON_IP_POOL CRITICAL - free_ips[provider] has 0 free addresses"
    )


def test_api_endpoints(cloud: dict[str, Any]) -> None:
    proc = check(cloud, "api_endpoint", "--all")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("API_ENDPOINT OK - 4 of 4 endpoints answered | ")
    for kind in ("compute", "identity", "network", "volumev3"):
        assert f"time[{kind}]=" in proc.stdout
    assert labels(proc.stdout) == {p.label for p in ApiEndpoint.perfdata}
    cloud["fake"].fault = "503"
    proc = check(cloud, "api_endpoint", "--service-type", "compute", "--service-type", "identity")
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
def test_service_faults(cloud: dict[str, Any], fault: str, code: int, line: str) -> None:
    cloud["fake"].fault = fault
    proc = check(cloud, "nova_services")
    assert (proc.returncode, proc.stdout) == (code, line + "\n")


def test_hung_service_is_unknown_within_timeout(
    cloud: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import time

    from osops.check import runner

    cloud["fake"].fault = "hang"
    # Timed in-process: -t bounds Keystone auth and the hung call, while interpreter
    # start-up and imports are no part of it (and vary on a loaded machine).
    for key, value in cloud["env"].items():
        monkeypatch.setenv(key, value)
    out = io.StringIO()
    started = time.monotonic()
    code = runner.main(["nova_services", "--os-cloud", "test", "-t", "3"], out=out)
    elapsed = time.monotonic() - started
    assert (code, len(out.getvalue().splitlines())) == (3, 1), out.getvalue()
    assert out.getvalue().startswith("NOVA_SERVICES UNKNOWN - ")
    assert elapsed < 4.0, f"nova_services took {elapsed:.2f}s with -t 3"
    # And once as Icinga runs it: the same line.
    proc = check(cloud, "nova_services", "-t", "3")
    assert (proc.returncode, proc.stdout) == (3, out.getvalue())


def test_requests_carry_keystone_tokens(cloud: dict[str, Any]) -> None:
    cloud["fake"].requests.clear()
    assert check(cloud, "cinder_services").returncode == 0
    assert cloud["fake"].requests == [
        f"/volumev3/v3/{cloud['fake'].requests[0].split('/')[3]}/os-services"
    ]
    assert re.fullmatch(r"[0-9a-f]{32}", cloud["fake"].requests[0].split("/")[3])


def test_os_environment_without_clouds_yaml(cloud: dict[str, Any], tmp_path: Any) -> None:
    env = {
        "OS_CLIENT_CONFIG_FILE": str(tmp_path / "none.yaml"),
        "OS_AUTH_URL": cloud["url"] + "/v3",
        "OS_USERNAME": "admin",
        "OS_PASSWORD": cloud["password"],
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": "RegionOne",
    }
    proc = run_osops("check", "run", "cinder_services", "-v", env=env)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("CINDER_SERVICES OK - 4 of 4 up")
    assert cloud["password"] not in proc.stdout


def test_client_config_file_option(cloud: dict[str, Any], tmp_path: Any) -> None:
    path = cloud["env"]["OS_CLIENT_CONFIG_FILE"]
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
