"""HAProxy from Debian with a stats socket and page and backends up and down, as a session fixture."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import daemon, wait_until

from osops.testing import free_port


@pytest.fixture(scope="session")
def haproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real HAProxy: backend 'api' with one server up and one down, 'dead' all down.

    Yields the stats socket path, the stats page URL and its credentials.
    """
    where = tmp_path_factory.mktemp("haproxy")
    with socket.socket() as alive:
        alive.bind(("127.0.0.1", 0))
        alive.listen(64)
        stats_port = free_port()
        config = where / "haproxy.cfg"
        config.write_text(
            "global\n"
            f"    stats socket {where}/stats.sock mode 600 level admin\n"
            "defaults\n    mode http\n    timeout connect 1s\n"
            "    timeout client 5s\n    timeout server 5s\n"
            f"frontend stats\n    bind 127.0.0.1:{stats_port}\n    stats enable\n"
            "    stats uri /stats\n    stats auth admin:St4ts-Pw\n"
            "backend api\n"
            f"    server api1 127.0.0.1:{alive.getsockname()[1]} check inter 200 rise 1 fall 1\n"
            f"    server api2 127.0.0.1:{free_port()} check inter 200 rise 1 fall 1\n"
            "backend dead\n"
            f"    server dead1 127.0.0.1:{free_port()} check inter 200 rise 1 fall 1\n"
        )
        with daemon(["haproxy", "-db", "-f", str(config)], stats_port, where / "haproxy.log"):
            wait_until(lambda: _haproxy_settled(where / "stats.sock"), 20, "haproxy health checks")
            yield {
                "socket": str(where / "stats.sock"),
                "url": f"http://127.0.0.1:{stats_port}/stats",
                "username": "admin",
                "password": "St4ts-Pw",
            }


def _haproxy_settled(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as conn:
        # wait_until cannot interrupt a blocked recv: a stuck haproxy must time out here.
        conn.settimeout(5)
        conn.connect(str(path))
        conn.sendall(b"show stat\n")
        text = b""
        while chunk := conn.recv(65536):
            text += chunk
    states = {
        line.split(",")[1]: line.split(",")[17]
        for line in text.decode().splitlines()[1:]
        if line.count(",") > 17
    }
    return states.get("api1") == "UP" and states.get("api2") == "DOWN" == states.get("dead1")
