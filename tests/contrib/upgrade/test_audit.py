"""The configuration audit on files written for 2025.1, against the data of 2026.2.

Every row below was checked against the releases themselves (the option data
generated from their code): the options nova 32 dropped with its own WSGI
server, neutron 29 with eventlet's, oslo.cache's renames of 2026.1, the mongo
backend oslo.cache removed, the scheduler filters nova no longer has.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_osops

from osops_upgrade.audit import FINDINGS

CONFIGS = Path(__file__).resolve().parent / "configs"

# Rows of the libraries every service uses: oslo.log, oslo.cache, keystonemiddleware.
LOG_LEVELS = (
    "DEFAULT",
    "default_log_levels",
    "default-changed",
    "-amqplib=WARN -qpid=WARN",
    "2026.1",
)
CACHE_MONGO = (
    "cache",
    "backend",
    "value-removed",
    "oslo_cache.mongo: a choice last in 2025.2",
    "2026.1",
)
AUTHTOKEN_PASSWORD = (
    "keystone_authtoken",
    "memcache_password",
    "default-changed",
    "(secret)",
    "2026.2",
)
AUTHTOKEN_USERNAME = (
    "keystone_authtoken",
    "memcache_username",
    "default-changed",
    "(empty) -> unset",
    "2026.2",
)
AUTHTOKEN_ROLES = (
    "keystone_authtoken",
    "service_token_roles_required",
    "default-changed",
    "false -> true",
    "2026.2",
)

NOVA = [
    LOG_LEVELS,
    ("DEFAULT", "enabled_apis", "removed", "last in 2025.1", "2025.2"),
    ("DEFAULT", "graceful_shutdown_timeout", "default-changed", "60 -> 180", "2026.1"),
    (
        "DEFAULT",
        "image_cache_manager_interval",
        "renamed",
        "now [image_cache] manager_interval",
        "2025.1",
    ),
    ("DEFAULT", "osapi_compute_workers", "removed", "last in 2025.1", "2025.2"),
    ("DEFAULT", "sync_power_state_pool_size", "default-changed", "1000 -> 5", "2026.1"),
    (
        "DEFAULT",
        "vcpu_pin_set",
        "deprecated",
        "since 20.0.0: This option has been superseded by the ``[compute] cpu_dedicated_set`` and ``[compute] cpu_shared_set`` options, which allow things like the co-existence of pinned and unpinned instances on the same host (for the libvirt driver).",
        "2025.1",
    ),
    (
        "api",
        "auth_strategy",
        "removed",
        "last in 2025.1; since 21.0.0: The only non-default choice, ``noauth2``, is for internal development and testing purposes only and should not be used in deployments. This option and its middleware, NoAuthMiddleware[V2_18], will be removed in a future release.",
        "2025.2",
    ),
    (
        "api",
        "neutron_default_tenant_id",
        "renamed",
        "now [api] neutron_default_project_id",
        "2025.2",
    ),
    CACHE_MONGO,
    # Gone before the oldest release of the option data: from tools/history.py.
    (
        "filter_scheduler",
        "enabled_filters",
        "value-removed",
        "RetryFilter: last in 2020.1",
        "2020.2",
    ),
    (
        "filter_scheduler",
        "enabled_filters",
        "value-removed",
        "AvailabilityZoneFilter: last in 2023.1",
        "2023.2",
    ),
    (
        "filter_scheduler",
        "enabled_filters",
        "invalid",
        "ComputFilter: in no release 2025.1 to 2026.2; closest ComputeFilter",
        "2026.2",
    ),
    AUTHTOKEN_PASSWORD,
    AUTHTOKEN_USERNAME,
    AUTHTOKEN_ROLES,
    (
        "libvirt",
        "virt_type",
        "invalid",
        "kvmm: Valid values are [kvm, lxc, qemu, parallels], but found 'kvmm'",
        "2026.2",
    ),
    ("oslo_limit", "endpoint_interface", "default-changed", "publicURL -> public", "2026.1"),
    (
        "scheduler",
        "max_atempts",
        "unknown",
        "in no release 2025.1 to 2026.2; closest [scheduler] max_attempts",
        "2026.2",
    ),
]

NEUTRON = [
    (
        "DEFAULT",
        "allow_overlaping_ips",
        "unknown",
        "in no release 2025.1 to 2026.2; no close match",
        "2026.2",
    ),
    ("DEFAULT", "bind_port", "removed", "last in 2026.1", "2026.2"),
    LOG_LEVELS,
    (
        "DEFAULT",
        "dhcp_agents_per_network",
        "invalid",
        "two: invalid literal for int() with base 10: 'two'",
        "2026.2",
    ),
    ("DEFAULT", "enable_signals", "removed", "last in 2025.2", "2026.1"),
    (
        "DEFAULT",
        "service_plugins",
        "invalid",
        "firewall_v2: in no release 2025.1 to 2026.2",
        "2026.2",
    ),
    ("DEFAULT", "vlan_qinq", "default-changed", "false -> unset", "2025.2"),
    (
        "DEFAULT",
        "vlan_transparent",
        "deprecated",
        "since 2025.2: This option is going to be removed as availability of the `vlan_transparency` in the deployment is now calculated automatically based on the loaded mechanism drivers.",
        "2025.2",
    ),
    CACHE_MONGO,
    AUTHTOKEN_PASSWORD,
    (
        "keystone_authtoken",
        "memcache_servers",
        "renamed",
        "now [keystone_authtoken] memcached_servers",
        "2025.1",
    ),
    AUTHTOKEN_USERNAME,
    AUTHTOKEN_ROLES,
    ("policy", "create_networks_tags", "renamed", "now create_network:tags", "2025.1"),
    (
        "policy",
        "get_netwrok",
        "unknown",
        "no such policy in any release 2025.1 to 2026.2; closest get_network",
        "2026.2",
    ),
    (
        "ssl",
        "ca_file",
        "removed",
        "last in 2025.2; deprecated for removal: The 'ca_file' option is deprecated and will be removed in a future release.",
        "2026.1",
    ),
]

KEYSTONE = [
    LOG_LEVELS,
    (
        "DEFAULT",
        "max_param_size",
        "deprecated",
        "since 2025.1: This option has had no effect.",
        "2025.1",
    ),
    (
        "DEFAULT",
        "watch_log_file",
        "removed",
        "last in 2025.2; deprecated for removal: This function is known to have bene broken for long time, and depends on the unmaintained library",
        "2026.1",
    ),
    ("auth", "methods", "default-changed", "+ec2credential", "2026.2"),
    ("cache", "dead_timeout", "renamed", "now [cache] hashclient_dead_timeout", "2026.1"),
    ("cache", "memcache_password", "renamed", "now [cache] password", "2026.1"),
    (
        "identity",
        "max_passwrd_length",
        "unknown",
        "in no release 2025.1 to 2026.2; closest [identity] max_password_length",
        "2026.2",
    ),
    (
        "oslo_policy",
        "enforce_scope",
        "removed",
        "last in 2026.1; deprecated for removal: This configuration was added temporarily to facilitate a smooth transition to the new RBAC. OpenStack will always enforce scope checks. This configuration option is deprecated and will be removed in the 2025.2 cycle.",
        "2026.2",
    ),
    (
        "token",
        "expiration",
        "invalid",
        "one hour: invalid literal for int() with base 10: 'one hour'",
        "2026.2",
    ),
]


CASES = {
    "nova": (("configs/nova-2025.1.conf",), NOVA),
    "neutron": (("configs/neutron-2025.1.conf", "configs/neutron-policy.yaml"), NEUTRON),
    "keystone": (("configs/keystone-2025.1.conf",), KEYSTONE),
}


def _audit(service: str, *args: str) -> tuple[int, list[tuple[str, ...]]]:
    proc = run_osops("upgrade", "audit", "--service", service, *args, "-f", "json")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, [tuple(row.values()) for row in json.loads(proc.stdout)]


@pytest.mark.parametrize("service", sorted(CASES))
def test_files_written_for_2025_1_against_2026_2(service: str) -> None:
    files, expected = CASES[service]
    paths = [str(CONFIGS.parent / f) for f in files]
    code, rows = _audit(service, "--from", "2025.1", *paths)
    assert rows == expected
    assert code == 1
    text = json.dumps(rows)
    for secret in ("Rabbit-Pw", "Db-Pw", "Ks-Pw", "Cache-Pw"):
        assert secret not in text


def test_every_kind_of_finding_appears() -> None:
    kinds = {row[2] for _files, rows in CASES.values() for row in rows}
    assert kinds == set(FINDINGS)


def test_to_an_older_release_sees_fewer_removals() -> None:
    # Against 2026.1, neutron still has bind_port (2026.2 removed it with eventlet's WSGI).
    _code, rows = _audit(
        "neutron", "--from", "2025.1", "--to", "2026.1", str(CONFIGS / "neutron-2025.1.conf")
    )
    assert ("DEFAULT", "bind_port", "removed", "last in 2026.1", "2026.2") in NEUTRON
    assert not [r for r in rows if r[1] == "bind_port"]


@pytest.mark.parametrize(
    ("service", "text"),
    [
        (
            "nova",
            "[DEFAULT]\ntransport_url = rabbit://nova:Rabbit-Pw-2@ctl1:5672/\n"
            "[api]\nneutron_default_project_id = default\n"
            "[filter_scheduler]\nenabled_filters = ComputeFilter,ImagePropertiesFilter\n"
            "[libvirt]\nvirt_type = kvm\n[keystone_authtoken]\nusername = nova\n"
            "password = Ks-Pw-9\nauth_url = http://ctl1:5000\n",
        ),
        (
            "neutron",
            "[DEFAULT]\ncore_plugin = ml2\nservice_plugins = router,qos,trunk\n"
            "[keystone_authtoken]\nmemcached_servers = ctl1:11211\npassword = Ks-Pw-9\n"
            "[nova]\nauth_type = password\nusername = neutron\n",
        ),
    ],
)
def test_clean_configuration_has_no_row(service: str, text: str, tmp_path: Path) -> None:
    conf = tmp_path / f"{service}.conf"
    conf.write_text(text)
    assert _audit(service, "--from", "2026.2", str(conf)) == (0, [])
