"""The galera check against a real single-node Galera cluster and a plain MariaDB."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import assert_unknown_when_hung, run_osops

from osops.testing import free_port, parse_perfdata
from osops_monitoring.galera import Galera

pytestmark = pytest.mark.integration


def _config(tmp_path: Path, server: dict[str, Any], **extra: Any) -> str:
    path = tmp_path / "galera.yaml"
    values = {**server, **extra}
    path.write_text("".join(f"{key}: {value}\n" for key, value in values.items()))
    return str(path)


def test_synced_primary_node(galera: dict[str, Any], tmp_path: Path) -> None:
    proc = run_osops(
        "check", "run", "galera", "--config", _config(tmp_path, galera), "--expected-size", "1"
    )
    assert proc.returncode == 0, proc.stdout
    status, _, perfdata = proc.stdout.strip().partition(" | ")
    assert re.fullmatch(
        r"GALERA OK - node Synced, cluster size 1 of 1",
        status,
    )
    emitted = {item.base_label for item in parse_perfdata(perfdata).values()}
    assert emitted == {perf.label for perf in Galera.perfdata}
    assert "cluster_size=1;;1:;0" in perfdata  # --expected-size as a critical range


def test_cluster_smaller_than_expected_is_critical(galera: dict[str, Any], tmp_path: Path) -> None:
    proc = run_osops(
        "check", "run", "galera", "--config", _config(tmp_path, galera), "--expected-size", "3"
    )
    assert proc.returncode == 2
    assert proc.stdout.startswith("GALERA CRITICAL - cluster size 1, expected 3 | ")
    assert "cluster_size=1;;3:;0" in proc.stdout


def test_plain_mariadb_is_checked_as_mysql(mariadb: dict[str, Any], tmp_path: Path) -> None:
    proc = run_osops("check", "run", "galera", "--config", _config(tmp_path, mariadb))
    assert proc.returncode == 0, proc.stdout
    assert re.match(r"GALERA OK - \S+MariaDB\S* up, not in a Galera cluster \| ", proc.stdout)
    assert "cluster_size" not in proc.stdout
    proc = run_osops(
        "check", "run", "galera", "--config", _config(tmp_path, mariadb), "--expected-size", "3"
    )
    assert proc.returncode == 2
    assert proc.stdout.startswith("GALERA CRITICAL - not in a Galera cluster, expected 3 nodes")


def test_wrong_password_is_unknown_without_the_password(
    galera: dict[str, Any], tmp_path: Path
) -> None:
    config = _config(tmp_path, galera, password="Not-The-Pw-9")
    proc = run_osops("check", "run", "galera", "--config", config, "-vvv")
    assert proc.returncode == 3
    assert proc.stdout.startswith(
        f"GALERA UNKNOWN - 127.0.0.1:{galera['port']}: access denied for user 'osops'"
    )
    assert "Not-The-Pw-9" not in proc.stdout


def test_refused_is_critical() -> None:
    port = free_port()
    proc = run_osops("check", "run", "galera", "--port", str(port))
    assert (proc.returncode, proc.stdout) == (
        2,
        f"GALERA CRITICAL - database at 127.0.0.1:{port} refused the connection\n",
    )


def test_hung_server_is_unknown_within_timeout() -> None:
    assert_unknown_when_hung("galera", "--port", "{port}")
