"""The kit as pytest fixtures; pytest loads this module through the ``pytest11`` entry point."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from osops.testing import servers


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    return servers.free_port()


@pytest.fixture
def fault_server() -> Callable[..., AbstractContextManager[int]]:
    """``with fault_server("silent" | "hang" | "trickle") as port:`` a server that misbehaves."""
    return servers.fault_server


@pytest.fixture
def silent_server() -> Iterator[int]:
    """The port of a server that accepts connections and never answers."""
    with servers.silent_listener() as port:
        yield port


@pytest.fixture
def sink_receiver() -> Iterator[servers.Receiver]:
    """A TCP receiver on 127.0.0.1 that keeps every line a sink sends (``.port``, ``.wait(n)``)."""
    with servers.receiver("tcp") as got:
        yield got
