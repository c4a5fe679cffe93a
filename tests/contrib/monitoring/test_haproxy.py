"""The haproxy check against a real HAProxy with one backend half down and one all down."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import assert_unknown_when_hung, run_osops

pytestmark = pytest.mark.integration

EXPECTED = (
    "HAPROXY CRITICAL - 1 backends down: dead | backends_down=1;;0;0 servers_down=2;0;;0 "
    "servers_up=1;;;0\n"
)


def test_from_stats_socket(haproxy: dict[str, Any]) -> None:
    proc = run_osops("check", "run", "haproxy", "--socket", haproxy["socket"])
    assert (proc.returncode, proc.stdout) == (2, EXPECTED)


def test_from_stats_page_with_credentials_in_config(
    haproxy: dict[str, Any], tmp_path: Any
) -> None:
    config = tmp_path / "haproxy.yaml"
    config.write_text(f"username: admin\npassword: {haproxy['password']}\n")
    proc = run_osops("check", "run", "haproxy", "--url", haproxy["url"], "--config", str(config))
    assert (proc.returncode, proc.stdout) == (2, EXPECTED)


def test_half_down_backend_is_warning_with_names(haproxy: dict[str, Any]) -> None:
    proc = run_osops(
        "check", "run", "haproxy", "--socket", haproxy["socket"], "--backend", "^api$"
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith("HAPROXY WARNING - 1 servers down: api/api2 | ")


def test_wrong_password_is_unknown_and_not_printed(haproxy: dict[str, Any]) -> None:
    proc = run_osops(
        "check",
        "run",
        "haproxy",
        "--url",
        haproxy["url"],
        "--username",
        "admin",
        "--password",
        "Wr0ng-Secret",
        "-vvv",
    )
    assert proc.returncode == 3
    assert proc.stdout.startswith("HAPROXY UNKNOWN - stats page answered HTTP 401")
    assert "Wr0ng-Secret" not in proc.stdout


def test_missing_socket_is_unknown(tmp_path: Any) -> None:
    proc = run_osops("check", "run", "haproxy", "--socket", str(tmp_path / "none.sock"))
    assert (proc.returncode, proc.stdout) == (
        3,
        f"HAPROXY UNKNOWN - stats socket {tmp_path}/none.sock: No such file or directory\n",
    )


def test_hung_server_is_unknown_within_timeout() -> None:
    assert_unknown_when_hung("haproxy", "--url", "http://127.0.0.1:{port}/")


def test_needs_exactly_one_source() -> None:
    proc = run_osops("check", "run", "haproxy")
    assert (proc.returncode, proc.stdout) == (
        3,
        "HAPROXY UNKNOWN - give exactly one of --socket and --url\n",
    )


def test_stats_page_refused_is_unknown() -> None:
    from osops.testing import free_port

    port = free_port()
    proc = run_osops("check", "run", "haproxy", "--url", f"http://127.0.0.1:{port}/stats")
    assert proc.returncode == 3
    assert proc.stdout.startswith(f"HAPROXY UNKNOWN - stats page http://127.0.0.1:{port}/stats: ")
    assert "refused" in proc.stdout
