"""fan_out (osops_monitoring.fanout) and provider_capacity's deadline, without a server."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from osops.exceptions import CheckError
from osops_monitoring.fanout import fan_out
from osops_monitoring.placement import provider_capacity


class Calls:
    """A call that takes ``seconds`` and counts how many run at once and how many began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.active = self.peak = self.began = 0

    def __call__(self, item: int) -> int:
        with self.lock:
            self.began += 1
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.seconds)
            if item % 10 == 9:
                raise ValueError(f"item {item}")
            return item * 2
        finally:
            with self.lock:
                self.active -= 1


def test_fan_out_every_item_with_its_result_or_error() -> None:
    calls = Calls(0.01)
    got = list(fan_out(calls, range(30), 4, time.monotonic() + 10))
    assert sorted(item for item, _, _ in got) == list(range(30))
    for item, result, error in got:
        if item % 10 == 9:
            assert (result, str(error)) == (None, f"item {item}")
        else:
            assert (result, error) == (item * 2, None)
    assert calls.peak == 4


def test_fan_out_stops_at_the_deadline_without_waiting_for_running_calls() -> None:
    calls = Calls(0.1)
    started = time.monotonic()
    got = list(fan_out(calls, range(200), 5, started + 0.35))
    returned = time.monotonic() - started
    assert returned < 1.0  # 0.35 s and a busy machine's slack: not the 0.1 s calls' end
    # Rounds of 5 calls of 0.1 s: 3 rounds done by 0.35 s, the fourth still running.
    assert 5 <= len(got) <= 15, len(got)
    time.sleep(0.3)  # what was running has ended; nothing more began
    assert calls.began <= len(got) + 5, (calls.began, len(got))
    assert calls.peak == 5
    # The calls run on daemon threads: a process exits without waiting for them.
    assert all(t.daemon for t in threading.enumerate() if t.name == "osops-fan-out")


def test_fan_out_stops_when_the_caller_stops() -> None:
    calls = Calls(0.05)
    for _ in fan_out(calls, range(100), 2, time.monotonic() + 10):
        break
    time.sleep(0.2)
    assert calls.began <= 4  # the two running, and the next each took before the stop


class Placement:
    """Enough of an OpenStackCheck for provider_capacity: providers whose calls take 0.05 s."""

    timeout = 10.0

    def __init__(self, providers: int) -> None:
        self.providers = providers

    def get(self, session: Any, service: str, path: str, headers: Any = None) -> Any:
        if path == "/resource_providers":
            rps = [{"uuid": f"rp-{n}", "name": f"cmp-{n}"} for n in range(self.providers)]
            return {"resource_providers": rps}
        time.sleep(0.05)
        if path.endswith("/inventories"):
            inventory = {"total": 8, "reserved": 0, "allocation_ratio": 2.0}
            return {"inventories": {"VCPU": inventory}}
        return {"usages": {"VCPU": 4}}


def test_provider_capacity_reads_every_provider() -> None:
    found = provider_capacity(Placement(20), None, time.monotonic() + 10)  # type: ignore[arg-type]
    assert sorted(found) == sorted(f"cmp-{n}" for n in range(20))
    assert {(p["VCPU"].capacity, p["VCPU"].used) for p in found.values()} == {(16.0, 4)}


def test_provider_capacity_gives_up_at_the_deadline() -> None:
    """500 providers at 2 calls of 0.05 s each, 8 at a time, take over 6 s: by a deadline
    0.5 s away the check says how many it read instead of overrunning its timeout."""
    started = time.monotonic()
    with pytest.raises(CheckError) as raised:
        provider_capacity(Placement(500), None, started + 0.5)  # type: ignore[arg-type]
    assert time.monotonic() - started < 1.2  # not the 6 s every provider takes
    read = int(str(raised.value).split()[2])
    assert 8 <= read <= 48, str(raised.value)
    assert str(raised.value) == (
        f"placement API: {read} of 500 resource providers read within --timeout 10 (2 calls "
        "each, 8 at a time); a longer one reads them all"
    )
