"""provider_capacity's deadline (osops_monitoring.placement), without a server."""

from __future__ import annotations

import time
from typing import Any

import pytest

from osops.exceptions import CheckError
from osops_monitoring.placement import provider_capacity


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
