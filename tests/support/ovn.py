"""OVN Northbound and Southbound raft clusters of Debian's ovsdb-server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from servers import wait_for_port, wait_until

from osops.testing import free_port

SCHEMAS = {"nb": "/usr/share/ovn/ovn-nb.ovsschema", "sb": "/usr/share/ovn/ovn-sb.ovsschema"}
NAMES = {"nb": "OVN_Northbound", "sb": "OVN_Southbound"}


class Server:
    """One member: its database file, raft and client ports, control socket, process."""

    def __init__(self, where: Path, index: int) -> None:
        self.index = index
        self.db = where / f"m{index}.db"
        self.ctl = where / f"m{index}.ctl"
        self.log = where / f"m{index}.log"
        self.raft = free_port()
        self.client = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def raft_address(self) -> str:
        return f"tcp:127.0.0.1:{self.raft}"

    def start(self) -> None:
        with open(self.log.with_suffix(".out"), "wb") as out:
            self.proc = subprocess.Popen(
                [
                    "ovsdb-server",
                    "--no-chdir",
                    f"--unixctl={self.ctl}",
                    f"--remote=ptcp:{self.client}:127.0.0.1",
                    f"--log-file={self.log}",
                    "-vconsole:off",
                    str(self.db),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_port(self.client, self.proc, deadline=30)

    def kill(self) -> None:
        """SIGKILL, as a crash or a host lost: no goodbye to the other members."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def status(self, name: str) -> str:
        return subprocess.run(
            ["ovs-appctl", "--timeout=5", "-t", str(self.ctl), "cluster/status", name],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout


class Cluster:
    """A three-member raft cluster of one OVN database, made with ovsdb-tool."""

    def __init__(self, where: Path, database: str, size: int = 3) -> None:
        self.where = where
        self.database = database
        self.name = NAMES[database]
        self.servers = [Server(where, i) for i in range(size)]
        self.formed_in = 0.0

    def start(self) -> None:
        started = time.monotonic()
        first, *others = self.servers
        subprocess.run(
            [
                "ovsdb-tool",
                "create-cluster",
                str(first.db),
                SCHEMAS[self.database],
                first.raft_address,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        for server in others:
            subprocess.run(
                [
                    "ovsdb-tool",
                    "join-cluster",
                    str(server.db),
                    self.name,
                    server.raft_address,
                    first.raft_address,
                ],
                check=True,
                capture_output=True,
                timeout=30,
            )
        for server in self.servers:
            server.start()
        wait_until(self.healthy, 30, f"{self.name} raft cluster")
        self.formed_in = time.monotonic() - started

    def stop(self) -> None:
        for server in self.servers:
            server.kill()

    def alive(self) -> list[Server]:
        return [s for s in self.servers if s.proc is not None]

    def leader(self) -> Server:
        for server in self.alive():
            if "\nRole: leader\n" in server.status(self.name):
                return server
        raise AssertionError(f"{self.name}: no leader among {len(self.alive())} members")

    def followers(self) -> list[Server]:
        leader = self.leader()
        return [s for s in self.alive() if s is not leader]

    def healthy(self) -> bool:
        """Every member alive sees one leader and a raft connection with every other."""
        texts = [s.status(self.name) for s in self.alive()]
        leaders = {line for t in texts for line in t.splitlines() if line.startswith("Leader:")}
        return (
            len(leaders - {"Leader: self"}) == 1
            and sum("\nRole: leader\n" in t for t in texts) == 1
            and "Leader: unknown" not in leaders
            and all("Status: cluster member" in t for t in texts)
            and all("(->" not in t for t in texts)
        )

    def field(self, server: Server, name: str) -> str:
        """One ``Name: value`` of the server's cluster/status (Term, Role, Server ID...)."""
        for line in server.status(self.name).splitlines():
            key, _, value = line.partition(":")
            if key == name:
                return value.strip()
        raise AssertionError(f"cluster/status without {name}")

    def sid(self, server: Server) -> str:
        return self.field(server, "Server ID").split()[0]


@contextlib.contextmanager
def running(where: Path, database: str) -> Iterator[Cluster]:
    cluster = Cluster(where, database)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
