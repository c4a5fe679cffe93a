"""memcached from Debian on 127.0.0.1, as a session fixture."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from servers import daemon

from osops.testing import free_port


@pytest.fixture(scope="session")
def memcached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real memcached on 127.0.0.1, holding a few keys; yields its port."""
    port = free_port()
    log = tmp_path_factory.mktemp("memcached") / "memcached.log"
    argv = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-u", "nobody", "-c", "64"]
    with daemon(argv, port, log):
        with socket.create_connection(("127.0.0.1", port), 5) as conn:
            conn.sendall(b"set k 0 0 1\r\nv\r\nget k\r\nget missing\r\n")
            # Read every answer (a hit and a miss counted) before a test asks for stats.
            answers = b"STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\nEND\r\n"
            got = b""
            while len(got) < len(answers) and (chunk := conn.recv(4096)):
                got += chunk
            assert got == answers, got
        yield port
