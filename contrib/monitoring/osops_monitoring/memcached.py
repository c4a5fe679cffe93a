"""The memcached check: up, evictions, hit ratio and connections against the maximum."""

from __future__ import annotations

import socket
import time

from osops.check.base import Argument, Check, Detail, Perf, metric
from osops.exceptions import CheckError, ServiceDown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin


class Memcached(Check):
    """Check a memcached server: up, evictions, hit ratio, connections against the maximum.

    Connection refused is CRITICAL (the cache is down); a server that accepts
    but does not answer within the timeout is UNKNOWN.
    """

    service = "memcached"
    arguments = (
        Argument("host", "Address of the memcached server.", default="127.0.0.1"),
        Argument(
            "port",
            "TCP port of the memcached server.",
            type="int",
            default=11211,
            min=1,
            max=65535,
        ),
    )
    perfdata = (
        Perf(
            "connections_used",
            "Current connections as a share of max connections.",
            uom="%",
            min=0,
            max=100,
            warning="80",
            critical="90",
            fmt="{value:.1f}% of connections used",
        ),
        Perf("connections", "Current client connections.", min=0),
        Perf(
            "hit_ratio",
            "Share of get requests that found their key, since start.",
            uom="%",
            min=0,
            max=100,
            fmt="hit ratio {value:.1f}%",
        ),
        Perf(
            "evictions", "Items evicted to free memory for new ones, since start.", uom="c", min=0
        ),
        Perf("response_time", "Time to connect and read the statistics.", uom="s", min=0),
    )

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        host, port = self.options["host"], self.options["port"]
        started = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=self.timeout) as conn:
                stats = _query(conn, b"stats\r\n")
                settings = _query(conn, b"stats settings\r\n")
        except ConnectionRefusedError:
            raise ServiceDown(f"memcached at {host}:{port} refused the connection") from None
        except TimeoutError:
            raise CheckError(
                f"memcached at {host}:{port} did not answer in {self.timeout:g}s"
            ) from None
        except OSError as exc:
            raise CheckError(f"memcached at {host}:{port}: {exc.strerror or exc}") from None
        elapsed = time.monotonic() - started
        try:
            current = int(stats["curr_connections"])
            maximum = int(settings["maxconns"])
            hits, misses = int(stats["get_hits"]), int(stats["get_misses"])
            evictions = int(stats["evictions"])
        except (KeyError, ValueError) as exc:
            raise CheckError(f"memcached at {host}:{port}: stats lack {exc}") from None
        lookups = hits + misses
        yield metric("connections_used", round(100.0 * current / maximum, 2) if maximum else 0.0)
        yield metric("connections", current).replace(max=maximum)
        yield metric("hit_ratio", round(100.0 * hits / lookups, 2) if lookups else 100.0)
        yield metric("evictions", evictions)
        yield metric("response_time", round(elapsed, 6))
        yield Detail(
            f"memcached {stats.get('version', '?')} up {stats.get('uptime', '?')}s, "
            f"{stats.get('curr_items', '?')} items"
        )


def _query(conn: socket.socket, command: bytes) -> dict[str, str]:
    conn.sendall(command)
    data = b""
    while not data.endswith(b"END\r\n"):
        chunk = conn.recv(65536)
        if not chunk:
            raise CheckError("memcached closed the connection mid-answer")
        data += chunk
        if data.startswith((b"ERROR", b"SERVER_ERROR", b"CLIENT_ERROR")):
            raise CheckError(f"memcached answered {data.splitlines()[0].decode(errors='replace')}")
    stats = {}
    for line in data.decode(errors="replace").splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] == "STAT":
            stats[parts[1]] = parts[2]
    return stats
