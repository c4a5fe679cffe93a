"""Shared fixtures: plugin packages built and installed for the tests."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from helpers import FIXTURES, install_target
from servers import daemon, free_port


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment that adds the installed third-party osops-example package."""
    site = install_target(FIXTURES / "osops-example", tmp_path_factory.mktemp("example-site"))
    return {"PYTHONPATH": str(site)}


@pytest.fixture(scope="session")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment that adds the installed, deliberately broken osops-broken package."""
    site = install_target(FIXTURES / "osops-broken", tmp_path_factory.mktemp("broken-site"))
    return {"PYTHONPATH": str(site)}


@pytest.fixture(scope="session")
def memcached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real memcached on 127.0.0.1, holding a few keys; yields its port."""
    port = free_port()
    log = tmp_path_factory.mktemp("memcached") / "memcached.log"
    argv = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-u", "nobody", "-c", "64"]
    with daemon(argv, port, log):
        with socket.create_connection(("127.0.0.1", port), 5) as conn:
            conn.sendall(b"set k 0 0 1\r\nv\r\nget k\r\nget missing\r\n")
            time.sleep(0.2)
        yield port
