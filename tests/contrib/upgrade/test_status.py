"""upgrade_status against the real keystone-status and placement-status from PyPI."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, run_osops

from osops_upgrade.status import UpgradeStatus

pytestmark = pytest.mark.integration

PLACEMENT = ROOT / ".work" / "cloud-venv" / "bin"
KEYSTONE = ROOT / ".work" / "keystone-venv" / "bin"


def _perfdata(stdout: str) -> dict[str, str]:
    _, _, perfdata = stdout.splitlines()[0].partition(" | ")
    return dict(item.split("=", 1) for item in perfdata.split())


@pytest.fixture(scope="module")
def placement_conf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A placement.conf over a SQLite database that placement-manage migrated."""
    where = tmp_path_factory.mktemp("placement")
    conf = where / "placement.conf"
    conf.write_text(f"[placement_database]\nconnection = sqlite:///{where}/placement.db\n")
    subprocess.run(
        [str(PLACEMENT / "placement-manage"), "--config-file", str(conf), "db", "sync"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return conf


def test_placement_all_checks_pass(placement_conf: Path) -> None:
    command = str(PLACEMENT / "placement-status")
    proc = run_osops(
        "check", "run", "upgrade_status", "--service", "placement", "--command", command,
        "--config-file", str(placement_conf), "-v",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    first, *details = proc.stdout.splitlines()
    assert first.startswith("UPGRADE_STATUS OK - placement-status: 3 checks, exit 0 | ")
    assert _perfdata(proc.stdout) == {
        "failures": "0;;0;0",
        "warnings": "0;0;;0",
        "checks": "3;;;0",
    }
    assert {p.label for p in UpgradeStatus.perfdata} == set(_perfdata(proc.stdout))
    assert details == [
        "Missing Root Provider IDs: Success",
        "Incomplete Consumers: Success",
        "Policy File JSON to YAML Migration: Success",
    ]


def test_placement_json_policy_file_fails_its_sub_check(
    placement_conf: Path, tmp_path: Path
) -> None:
    # placement-status prints its table even when asked for --json: the table is read.
    policy = tmp_path / "policy.json"
    policy.write_text('{"placement:resource_providers:list": "role:admin"}\n')
    extra = tmp_path / "policy.conf"
    extra.write_text(f"[oslo_policy]\npolicy_file = {policy}\n")
    direct = subprocess.run(
        [str(PLACEMENT / "placement-status"), "--config-file", str(placement_conf),
         "--config-file", str(extra), "upgrade", "check", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert direct.returncode == 2 and direct.stdout.lstrip().startswith("+--")
    proc = run_osops(
        "check", "run", "upgrade_status", "--service", "placement",
        "--command", str(PLACEMENT / "placement-status"),
        "--config-file", str(placement_conf), "--config-file", str(extra),
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout.startswith(
        "UPGRADE_STATUS CRITICAL - 1 of 3 failed: Policy File JSON to YAML Migration: "
        "Your policy file is JSON-formatted which is deprecated."
    )
    assert "backwards-compatible manner" in proc.stdout  # the wrapped table cell, joined
    assert _perfdata(proc.stdout)["failures"] == "1;;0;0"


def _keystone_status(keystone: dict[str, Any], where: Path) -> str:
    """keystone-status, run where /etc/keystone/fernet-keys/ exists.

    keystone-status loads its token provider before it reads --config-file, so
    it exits 1 ("/etc/keystone/fernet-keys/ does not exist") on any host whose
    keys live elsewhere, whatever the configuration says. The test Keystone's
    keys are shown there in a private mount namespace (an overlay on /etc that
    no other process sees); the command run is still the real keystone-status.
    """
    keys = Path(keystone["config"]).parent / "fernet-keys"
    (where / "upper").mkdir()
    (where / "work").mkdir()
    inner = (
        f"mount -t overlay overlay -o lowerdir=/etc,upperdir={where}/upper,workdir={where}/work "
        f'/etc && mkdir -p /etc/keystone && ln -s {keys} /etc/keystone/fernet-keys && exec "$0" "$@"'
    )
    script = where / "keystone-status"
    script.write_text(
        f"#!/bin/sh\nexec unshare --mount sh -c '{inner}' {KEYSTONE / 'keystone-status'} \"$@\"\n"
    )
    script.chmod(0o755)
    return str(script)


def test_keystone_empty_trust_policy_fails_its_sub_check(
    keystone: dict[str, Any], tmp_path: Path
) -> None:
    command = _keystone_status(keystone, tmp_path)
    proc = run_osops(
        "check", "run", "upgrade_status", "--service", "keystone", "--command", command,
        "--config-file", keystone["config"], "-v", "-t", "60",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.match(r"UPGRADE_STATUS OK - keystone-status: (\d+) checks, exit 0 \| ", proc.stdout)
    assert (
        "Check trust policies are not empty: Success (Trust policies are safe.)"
        in proc.stdout.splitlines()
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text('"identity:list_trusts": ""\n')
    extra = tmp_path / "policy.conf"
    extra.write_text(f"[oslo_policy]\npolicy_file = {policy}\n")
    proc = run_osops(
        "check", "run", "upgrade_status", "--service", "keystone", "--command", command,
        "--config-file", keystone["config"], "--config-file", str(extra), "-t", "60",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout
    assert (
        proc.stdout.startswith("UPGRADE_STATUS CRITICAL - 1 of ")
        and ' failed: Check trust policies are not empty: Policy check string for rules "identity:list_trusts" are overridden'
        in proc.stdout
    )


def test_a_crashing_command_is_unknown(tmp_path: Path) -> None:
    # glance-status and others exit 255 when a check raises: oslo.upgradecheck's code for it.
    conf = tmp_path / "broken.conf"
    conf.write_text("[placement_database]\nconnection = sqlite:////nonexistent/dir/p.db\n")
    proc = run_osops(
        "check", "run", "upgrade_status", "--service", "placement",
        "--command", str(PLACEMENT / "placement-status"), "--config-file", str(conf),
    )  # fmt: skip
    assert proc.returncode == 3, proc.stdout
    assert proc.stdout.startswith("UPGRADE_STATUS UNKNOWN - ")
    assert "exited 255" in proc.stdout


def test_a_command_that_hangs_is_unknown_within_the_timeout(tmp_path: Path) -> None:
    script = tmp_path / "hung-status"
    script.write_text("#!/bin/sh\nexec sleep 30\n")
    script.chmod(0o755)
    started = time.monotonic()
    proc = run_osops(
        "check", "run", "upgrade_status", "--service", "nova", "--command", str(script), "-t", "1"
    )
    assert time.monotonic() - started < 5
    # The check's own deadline ends it, before the framework's alarm.
    assert (proc.returncode, proc.stdout) == (
        3,
        f"UPGRADE_STATUS UNKNOWN - {script} gave no answer within 1s\n",
    )


# nova-status has no --json: the check runs it again without, and reads the table.
NOVA = ROOT / ".work" / "cloud-venv" / "bin" / "nova-status"


def test_nova_status_against_the_real_cloud(cloud: dict[str, Any]) -> None:
    conf = cloud["cloud"].settings.dir("nova") / "nova.conf"
    proc = run_osops(
        "check", "run", "upgrade_status", "--service", "nova", "--command", str(NOVA),
        "--config-file", str(conf), "-v", "-t", "60",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    first, *details = proc.stdout.splitlines()
    assert first == (
        "UPGRADE_STATUS OK - nova-status: 7 checks, exit 0 | "
        "failures=0;;0;0 warnings=0;0;;0 checks=7;;;0"
    )
    assert details == [
        "Cells v2: Success",
        "Placement API: Success",
        "Cinder API: Success",
        "Policy File JSON to YAML Migration: Success",
        "Older than N-1 computes: Success",
        "hw_machine_type unset: Success",
        "Service User Token Configuration: Success",
    ]


def test_nova_status_names_the_failing_check_with_its_whole_details(
    cloud: dict[str, Any], tmp_path: Path
) -> None:
    """Nova without its service token fails one sub-check; its details, a URL the table
    wrapped mid-word, come out whole."""
    conf = cloud["cloud"].settings.dir("nova") / "nova.conf"
    text = conf.read_text()
    assert "send_service_user_token = true\n" in text
    (tmp_path / "nova.conf").write_text(
        text.replace("send_service_user_token = true\n", "send_service_user_token = false\n")
    )
    proc = run_osops(
        "check", "run", "upgrade_status", "--service", "nova", "--command", str(NOVA),
        "--config-file", str(tmp_path / "nova.conf"), "-t", "60",
    )  # fmt: skip
    assert (proc.returncode, proc.stdout) == (
        2,
        "UPGRADE_STATUS CRITICAL - 1 of 7 failed: Service User Token Configuration: "
        "Service user token configuration is required for all Nova services. For more "
        "details see the following: https://docs.openstack.org/nova/latest/admin/"
        "configuration/service-user-token.html | failures=1;;0;0 warnings=0;0;;0 checks=7;;;0\n",
    )
