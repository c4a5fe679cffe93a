"""The galera check: wsrep readiness, Primary component, size, local state, flow control."""

from __future__ import annotations

import time

from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.exceptions import CheckError, ServiceDown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import nagiosplugin

# wsrep_local_state_comment: what each node state means for clients.
_STATE_OF_NODE = {"Synced": State.OK, "Donor/Desynced": State.WARNING}


class Galera(Check):
    """Check a MariaDB/MySQL Galera node: ready, Primary, cluster size, state, flow control.

    A node that is not in a cluster is checked as plain MySQL: up, and its
    connections against max_connections. Refused connections are CRITICAL,
    denied credentials UNKNOWN.
    """

    service = "galera"
    arguments = (
        Argument("host", "Address of the database node.", default="127.0.0.1"),
        Argument(
            "port", "TCP port of the database node.", type="int", default=3306, min=1, max=65535
        ),
        Argument("socket", "Unix socket instead of host and port."),
        Argument("username", "Database user (needs no privilege beyond USAGE).", default="root"),
        Argument("password", "Password of that user.", secret=True),
        Argument(
            "expected-size",
            "Nodes the cluster should have; fewer is CRITICAL.",
            type="int",
            min=1,
        ),
    )
    perfdata = (
        Perf(
            "connections_used",
            "Connections in use as a share of max_connections.",
            uom="%",
            min=0,
            max=100,
            warning="80",
            critical="90",
            fmt="{value:.1f}% of connections used",
        ),
        Perf("connections", "Threads_connected.", min=0),
        Perf(
            "cluster_size",
            "Nodes in the cluster this node sees.",
            min=0,
            fmt="cluster size {value}",
        ),
        Perf(
            "flow_control_paused",
            "Share of time replication was paused by flow control.",
            uom="%",
            min=0,
            max=100,
            warning="10",
            critical="50",
            fmt="flow control paused {value:.1f}% of the time",
        ),
        Perf("local_recv_queue_avg", "Average length of the receive queue.", min=0),
        Perf("response_time", "Time to connect and read the status.", uom="s", min=0),
    )
    primary = "connections_used"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        import pymysql

        where = self.options["socket"] or f"{self.options['host']}:{self.options['port']}"
        started = time.monotonic()
        try:
            conn = pymysql.connect(
                host=self.options["host"],
                port=self.options["port"],
                unix_socket=self.options["socket"],
                user=self.options["username"],
                password=self.options["password"] or "",
                # Within the check's timeout, which runs from before pymysql's import:
                # a server that never answers gets pymysql's own words, not the runner's.
                connect_timeout=self.timeout * 0.8,
                read_timeout=self.timeout * 0.8,
            )
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else 0
            if code == 1045:
                raise CheckError(
                    f"{where}: access denied for user {self.options['username']!r}"
                ) from None
            if code == 2003 and "refused" in str(exc).lower():
                raise ServiceDown(f"database at {where} refused the connection") from None
            raise CheckError(f"{where}: {_reason(exc)}") from None
        try:
            with conn.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS")
                status = {str(k): str(v) for k, v in cursor.fetchall()}
                cursor.execute(
                    "SHOW GLOBAL VARIABLES WHERE Variable_name IN "
                    "('max_connections', 'wsrep_on', 'version')"
                )
                variables = {str(k): str(v) for k, v in cursor.fetchall()}
        except pymysql.err.MySQLError as exc:
            raise CheckError(f"{where}: {_reason(exc)}") from None
        finally:
            conn.close()
        elapsed = time.monotonic() - started
        current, maximum = int(status["Threads_connected"]), int(variables["max_connections"])
        yield metric("connections_used", round(100.0 * current / maximum, 2) if maximum else 0.0)
        yield metric("connections", current).replace(max=maximum)
        yield metric("response_time", round(elapsed, 6))
        if variables.get("wsrep_on", "OFF") != "ON" or "wsrep_ready" not in status:
            expected = self.options["expected_size"]
            if expected:
                yield Detail(f"not in a Galera cluster, expected {expected} nodes", State.CRITICAL)
            else:
                yield Detail(
                    f"{variables.get('version', 'MySQL')} up, not in a Galera cluster", State.OK
                )
            return
        yield from self._cluster(status)

    def _cluster(self, status: dict[str, str]) -> Iterator[Any]:
        size = int(status.get("wsrep_cluster_size", 0))
        yield metric("cluster_size", size)
        yield metric(
            "flow_control_paused",
            round(100.0 * float(status.get("wsrep_flow_control_paused", 0)), 3),
        )
        yield metric("local_recv_queue_avg", float(status.get("wsrep_local_recv_queue_avg", 0)))
        if status.get("wsrep_ready") != "ON":
            yield Detail("node is not ready (wsrep_ready OFF)", State.CRITICAL)
        component = status.get("wsrep_cluster_status", "?")
        if component != "Primary":
            yield Detail(f"cluster component is {component}, not Primary", State.CRITICAL)
        local = status.get("wsrep_local_state_comment", "?")
        state = _STATE_OF_NODE.get(local, State.CRITICAL)
        yield Detail(f"node {local}", state)
        expected = self.options["expected_size"]
        if expected:  # compared by the framework: see ranges()
            yield Detail(f"cluster size {size} of {expected}", State.OK)
            yield Detail(f"cluster size {size}, expected {expected}", label="cluster_size")

    def ranges(self) -> dict[str, tuple[str | None, str | None]]:
        """``--expected-size N``: fewer nodes than N is CRITICAL (``cluster_size`` ``N:``)."""
        expected = self.options["expected_size"]
        return {"cluster_size": (None, f"{expected}:")} if expected else {}


def _reason(exc: BaseException) -> str:
    # pymysql errors carry (code, message); the message alone reads best.
    args: tuple[Any, ...] = tuple(exc.args)
    return str(args[1]) if len(args) > 1 else str(exc) or type(exc).__name__
