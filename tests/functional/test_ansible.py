"""The Ansible collection: lint, syntax, and a real run against localhost into Icinga 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from helpers import ROOT
from monitoring_daemons import ICINGA_CA as CA
from monitoring_daemons import build_wheels, icinga_config, wait_for
from monitoring_daemons import icinga as icinga_daemon

pytestmark = pytest.mark.integration
COLLECTION = ROOT / "contrib" / "ansible"
BIN = Path(sys.executable).parent
API = ("osops", "Ans1ble-Api-Pw")


@pytest.fixture(scope="module")
def collections(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """ANSIBLE_COLLECTIONS_PATH holding this repository's collection as osops.toolkit."""
    root = tmp_path_factory.mktemp("collections")
    (root / "ansible_collections" / "osops").mkdir(parents=True)
    (root / "ansible_collections" / "osops" / "toolkit").symlink_to(COLLECTION)
    return {
        "ANSIBLE_COLLECTIONS_PATH": str(root),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOME": str(root / "home"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }


def test_ansible_lint_production(collections: dict[str, str]) -> None:
    proc = subprocess.run(
        [str(BIN / "ansible-lint"), "--profile", "production", "--offline"],
        cwd=COLLECTION,
        env={**os.environ, **collections},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Profile 'production' was required, and it passed" in proc.stderr + proc.stdout


@pytest.mark.parametrize(
    "playbook", sorted((COLLECTION / "playbooks").glob("*.yml")), ids=lambda p: p.name
)
def test_syntax_check(collections: dict[str, str], playbook: Path) -> None:
    proc = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "--syntax-check",
            "-i",
            str(COLLECTION / "inventory" / "example.yml"),
            str(playbook),
        ],
        env={**os.environ, **collections},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def deployment(collections: dict[str, str], memcached: int) -> Iterator[dict[str, Any]]:
    """A running Icinga 2 (no osops in it yet) and an inventory deploying osops into it."""
    work, conf_d, port = icinga_config("osops-ansible-", API)
    (conf_d / "base.conf").write_text(
        'object Host "ansible-test" {\n  check_command = "dummy"\n  check_interval = 1h\n'
        f'  vars.osops_memcached = {{ "cache" = {{ osops_memcached_port = {memcached} }} }}\n}}\n'
    )
    wheels = build_wheels(work / "wheels")
    shutil.copy(ROOT / "constraints.txt", work / "constraints.txt")
    log, out = work / "app.log", work / "shipped.jsonl"
    log.write_text("")
    inventory = {
        "monitoring": {
            "hosts": {
                "localhost": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": "/usr/bin/python3",
                    "install_venv": str(work / "venv"),
                    "install_wheel_dir": str(wheels),
                    "install_constraints": str(work / "constraints.txt"),
                    "install_distributions": ["osops-monitoring", "osops-logging"],
                    "install_system_packages": False,
                    "install_config_dir": str(work / "etc"),
                    "install_clouds": {
                        "test": {
                            "auth": {
                                "auth_url": "http://127.0.0.1:5000/v3",
                                "password": "Cl0uds-Pw",
                            }
                        }
                    },
                    "icinga_conf_dir": str(conf_d / "osops"),
                    "icinga_main_config": str(work / "icinga2.conf"),
                    "icinga_host": "ansible-test",
                    "icinga_staging_dir": str(work / "staging"),
                    "icinga_services": [
                        {
                            "name": "ansible-dummy",
                            "check": "dummy",
                            "vars": {"state": 1, "text": "deployed by ansible"},
                        },
                    ],
                    "log_shipper_files": [str(log)],
                    "log_shipper_state_file": str(work / "state" / "ship.state"),
                    "log_shipper_sink": "jsonl",
                    "log_shipper_sink_options": {"path": str(out)},
                    "log_shipper_env_file": str(work / "etc" / "log-ship.env"),
                    "log_shipper_use_systemd": False,
                    "log_shipper_pid_file": str(work / "ship.pid"),
                    "log_shipper_daemon_script": str(work / "osops-log-ship"),
                }
            }
        }
    }
    (work / "inventory.yml").write_text(yaml.safe_dump(inventory))
    with icinga_daemon(work, port, API) as api:
        try:
            yield {"work": work, "api": api, "log": log, "out": out, "env": collections}
        finally:
            if (work / "osops-log-ship").exists():
                subprocess.run(
                    [str(work / "osops-log-ship"), "stop"], capture_output=True, check=False
                )


def playbook(deployment: dict[str, Any], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(deployment["work"] / "inventory.yml"),
            str(COLLECTION / "playbooks" / "site.yml"),
            *extra,
        ],
        env={**os.environ, **deployment["env"]},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def recap(output: str) -> dict[str, int]:
    line = next(ln for ln in output.splitlines() if ln.startswith("localhost"))
    return {key: int(value) for key, value in (part.split("=") for part in line.split()[2:])}


def test_playbook_deploys_and_icinga_runs_the_check(deployment: dict[str, Any]) -> None:
    first = playbook(deployment)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert recap(first.stdout)["changed"] > 0
    work = deployment["work"]
    assert oct((work / "etc" / "clouds.yaml").stat().st_mode & 0o777) == "0o600"
    assert "Cl0uds-Pw" not in first.stdout
    started = time.time()

    def fresh() -> Any:
        requests.post(
            f"{deployment['api']}/actions/reschedule-check",
            auth=API,
            verify=CA,
            headers={"Accept": "application/json"},
            timeout=10,
            json={"type": "Service", "force": True, "filter": 'service.name=="ansible-dummy"'},
        )
        answer = requests.get(
            f"{deployment['api']}/objects/services",
            auth=API,
            verify=CA,
            params={"service": "ansible-test!ansible-dummy"},
            timeout=10,
        )
        result = (
            answer.json()["results"][0]["attrs"].get("last_check_result") if answer.ok else None
        )
        return result if result and result["execution_end"] > started else None

    result = wait_for(fresh, 90, "the deployed check's result through the Icinga API")
    assert (result["exit_status"], result["output"]) == (1, "DUMMY WARNING - deployed by ansible")
    assert str(work / "venv" / "bin" / "osops") == result["command"][0]


def test_log_shipper_ships(deployment: dict[str, Any]) -> None:
    with open(deployment["log"], "a") as fh:
        fh.write("2024-05-02 09:14:03.000 812 INFO nova.api [-] shipped by the daemon\n")

    def arrived() -> bool:
        out = deployment["out"]
        return out.exists() and "shipped by the daemon" in out.read_text()

    wait_for(arrived, 30, "the line at the sink")
    record = json.loads(deployment["out"].read_text().splitlines()[-1])
    assert record["log.level"] == "INFO"


def test_second_run_changes_nothing(deployment: dict[str, Any]) -> None:
    again = playbook(deployment)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again.stdout)["changed"] == 0, again.stdout[-4000:]


def test_check_mode_with_diff(deployment: dict[str, Any]) -> None:
    proc = playbook(deployment, "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc.stdout)["failed"] == 0


def test_invalid_configuration_is_rolled_back(deployment: dict[str, Any]) -> None:
    live = deployment["work"] / "conf.d" / "osops" / "osops-services.conf"
    before = live.read_text()
    broken = json.dumps(
        {"icinga_services": [{"name": "broken", "check": "no_such_check", "vars": {}}]}
    )
    proc = playbook(deployment, "-e", broken)
    assert proc.returncode != 0
    assert "did not validate; the previous one is back in place" in proc.stdout
    assert live.read_text() == before
    check = subprocess.run(
        ["icinga2", "daemon", "-C", "-c", str(deployment["work"] / "icinga2.conf")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0
