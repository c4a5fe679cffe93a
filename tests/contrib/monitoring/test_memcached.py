"""The memcached check against a real memcached, and its faults."""

from __future__ import annotations

import re

import pytest
from helpers import assert_unknown_when_hung, run_osops

from osops.testing import free_port, parse_perfdata
from osops_monitoring.memcached import Memcached

pytestmark = pytest.mark.integration


def test_ok_with_declared_perfdata_exactly(memcached: int) -> None:
    proc = run_osops("check", "run", "memcached", "--port", str(memcached))
    assert proc.returncode == 0, proc.stdout
    status, _, perfdata = proc.stdout.strip().partition(" | ")
    assert re.fullmatch(r"MEMCACHED OK - \d+\.\d% of connections used", status)
    emitted = {item.base_label: item.uom for item in parse_perfdata(perfdata).values()}
    declared = {perf.label: perf.uom for perf in Memcached.perfdata}
    assert emitted == declared  # both ways: nothing missing, nothing undeclared
    assert re.search(r"connections=\d+;;;0;64\b", perfdata)  # max from "stats settings"
    assert "hit_ratio=50%" in perfdata  # one hit, one miss set up by the fixture


def test_threshold_on_named_metric(memcached: int) -> None:
    proc = run_osops(
        "check",
        "run",
        "memcached",
        "--port",
        str(memcached),
        "-w",
        "hit_ratio=90:",
        "-c",
        "hit_ratio=10:",
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith("MEMCACHED WARNING - hit ratio 50.0% (outside range 90:)")


def test_json_and_prometheus_output(memcached: int) -> None:
    proc = run_osops(
        "check", "run", "memcached", "--port", str(memcached), "--output-format", "prometheus"
    )
    assert proc.returncode == 0
    assert (
        'osops_memcached_hit_ratio_percent{check="memcached",name="memcached"} 50' in proc.stdout
    )
    assert 'osops_check_state{check="memcached",name="memcached"} 0' in proc.stdout


def test_connection_refused_is_critical() -> None:
    port = free_port()
    proc = run_osops("check", "run", "memcached", "--port", str(port))
    assert (proc.returncode, proc.stdout) == (
        2,
        f"MEMCACHED CRITICAL - memcached at 127.0.0.1:{port} refused the connection\n",
    )


def test_hung_server_is_unknown_within_timeout() -> None:
    assert_unknown_when_hung("memcached", "--port", "{port}")
