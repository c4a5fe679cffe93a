"""Faults made real in the test cloud: a service paused until the others see it down."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from . import Cloud
from .base import wait

#: Seconds to wait for a heartbeat to be missed (service_down_time 4 s) or to come back.
SETTLE = 60


def nova_state(cloud: Cloud, binary: str) -> tuple[str, str]:
    service = next(
        s for s in cloud.api.get("compute", "/os-services")["services"] if s["binary"] == binary
    )
    return service["state"], service["status"]


def cinder_state(cloud: Cloud, binary: str) -> tuple[str, str]:
    service = next(
        s for s in cloud.api.get("volume", "/os-services")["services"] if s["binary"] == binary
    )
    return service["state"], service["status"]


def agent(cloud: Cloud) -> dict[str, Any]:
    found: dict[str, Any] = cloud.api.get("network", "/agents")["agents"][0]
    return found


@contextlib.contextmanager
def paused(
    cloud: Cloud, process: str, down: Callable[[], bool], up: Callable[[], bool]
) -> Iterator[None]:
    """SIGSTOP a process until ``down()`` holds; afterwards SIGCONT it until ``up()`` does."""
    cloud.procs.pause(process)
    try:
        wait(down, SETTLE, f"{process} seen down", cloud.procs)
        yield
    finally:
        cloud.procs.resume(process)
        wait(up, SETTLE, f"{process} seen up again", cloud.procs)


def cinder_enable(cloud: Cloud, binary: str) -> None:
    """Enable a cinder service in its database: cinder 29.0.0's enable API does not."""
    import subprocess

    sock = cloud.settings.dir("mariadb") / "mysql.sock"
    statement = (
        "UPDATE cinder.services SET disabled = 0, disabled_reason = NULL "
        f"WHERE `binary` = '{binary}'"
    )
    subprocess.run(
        ["mariadb", "--no-defaults", "-S", str(sock), "-uroot", "-e", statement],
        check=True,
        capture_output=True,
        timeout=30,
    )
