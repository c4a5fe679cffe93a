"""The chrony check against real chronyd (Debian), none of which may touch this machine's clock."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import run_osops
from servers import wait_until
from support import chrony

from osops.testing import free_port
from osops_monitoring.chrony import Chrony

pytestmark = pytest.mark.integration
PERF = re.compile(r"(\S+?)=([-\d.]+)(\S*?)(?:;|\s|$)")


@pytest.fixture(scope="module")
def ntp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[chrony.Chronyd, int]]:
    with chrony.server(tmp_path_factory.mktemp("chrony-server")) as served:
        yield served


def check(daemon: chrony.Chronyd, *args: str) -> Any:
    return run_osops(
        "check", "run", "chrony", "--host", "127.0.0.1", "--port", str(daemon.cmdport), *args
    )


def perfdata(stdout: str) -> dict[str, str]:
    return {label: value for label, value, _ in PERF.findall(stdout.partition(" | ")[2])}


def test_synchronised(ntp_server: tuple[chrony.Chronyd, int], tmp_path: Path) -> None:
    with chrony.client(tmp_path, ntp_server[1]) as daemon:
        wait_until(daemon.synchronised, 20, "chronyd synchronised")
        proc = check(daemon)
        assert proc.returncode == 0, proc.stdout
        assert re.fullmatch(
            r"CHRONY OK - offset 0\.0000\d\ds (slow|fast), stratum 9 from 127\.0\.0\.1, "
            r"1 of 1 sources reachable",
            proc.stdout.partition(" | ")[0],
        ), proc.stdout
        emitted = {label: unit for label, _, unit in PERF.findall(proc.stdout.partition(" | ")[2])}
        assert emitted == {p.label: p.uom for p in Chrony.perfdata}  # both ways
        values = perfdata(proc.stdout)
        assert (values["stratum"], values["sources_reachable"], values["sources"]) == (
            "9",
            "1",
            "1",
        )


def test_offset_beyond_the_warning(ntp_server: tuple[chrony.Chronyd, int], tmp_path: Path) -> None:
    with chrony.client(tmp_path, ntp_server[1], offset=0.25) as daemon:
        wait_until(daemon.synchronised, 20, "chronyd synchronised")
        proc = check(daemon)
        assert proc.returncode == 1, proc.stdout
        found = re.match(r"CHRONY WARNING - clock (0\.\d{6})s slow of true time \| ", proc.stdout)
        assert found, proc.stdout
        # chronyd's estimate of the added 0.25 s, within its own measurement noise
        assert abs(float(found[1]) - 0.25) < 0.001, proc.stdout
        assert abs(float(perfdata(proc.stdout)["offset"]) - 0.25) < 0.001, proc.stdout
        assert check(daemon, "-c", "0.2").returncode == 2  # a bare range: the primary, offset


def test_source_lost(tmp_path: Path) -> None:
    # a server of its own: it is stopped
    with chrony.server(tmp_path) as (server, port), chrony.client(tmp_path, port) as daemon:
        wait_until(daemon.synchronised, 20, "chronyd synchronised")
        assert check(daemon).returncode == 0
        server.stop()
        wait_until(daemon.unreachable, 30, "the source's reach register emptied")
        proc = check(daemon)
        assert proc.returncode == 2, proc.stdout
        assert proc.stdout.startswith(
            "CHRONY CRITICAL - no source reachable of 1 (127.0.0.1) | "
        ), proc.stdout


def test_never_synchronised(tmp_path: Path) -> None:
    with chrony.client(tmp_path, free_port(), name="lonely") as daemon:
        proc = check(daemon)
        assert proc.returncode == 2, proc.stdout
        assert proc.stdout.startswith(
            "CHRONY CRITICAL - not synchronised (Not synchronised), "
            "no source reachable of 1 (127.0.0.1) | "
        ), proc.stdout
        assert perfdata(proc.stdout)["stratum"] == "0"


def test_chronyd_not_running() -> None:
    port = free_port()
    proc = run_osops("check", "run", "chrony", "--host", "127.0.0.1", "--port", str(port))
    assert (proc.returncode, proc.stdout) == (
        2,
        f"CHRONY CRITICAL - chronyd at 127.0.0.1 port {port} does not answer "
        "(506 Cannot talk to daemon)\n",
    )


def test_chronyd_hung() -> None:
    """A command port that takes requests and never answers: UNKNOWN at the timeout (chronyc
    itself would retry for 7 s before giving up)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hung:
        hung.bind(("127.0.0.1", 0))
        port = hung.getsockname()[1]
        started = time.monotonic()
        proc = run_osops(
            "check", "run", "chrony", "--host", "127.0.0.1", "--port", str(port), "-t", "2"
        )
        assert time.monotonic() - started < 5
    assert (proc.returncode, proc.stdout) == (
        3,
        "CHRONY UNKNOWN - chronyc gave no answer within 2s\n",
    )
