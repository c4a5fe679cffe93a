"""chronyd from Debian on 127.0.0.1, never allowed to touch this machine's clock.

Every chronyd here runs with ``-x`` (no control of the system clock) and
without CAP_SYS_TIME in its bounding set (``setpriv``), and is refused if its
capabilities say otherwise: a test must never step or slew the clock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from servers import wait_until

from osops.testing import free_port

CAP_SYS_TIME = 25


class Chronyd:
    """One chronyd: an NTP server on loopback, or a client of one, with a command port."""

    def __init__(self, where: Path, name: str, lines: list[str]) -> None:
        self.where = where
        self.name = name
        self.cmdport = free_port()
        # Its own unix socket (the default, /run/chrony/chronyd.sock, is the system chronyd's).
        self.socket = where / f"{name}.sock"
        self.config = where / f"{name}.conf"
        self.config.write_text(
            "\n".join(
                [
                    *lines,
                    f"cmdport {self.cmdport}",
                    "bindcmdaddress 127.0.0.1",
                    f"bindcmdaddress {self.socket}",
                    f"pidfile {where}/{name}.pid",
                    f"driftfile {where}/{name}.drift",
                ]
            )
            + "\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [
            "setpriv",
            "--bounding-set=-sys_time",
            "--",
            "chronyd",
            "-x",  # never adjust the system clock
            "-4",  # 127.0.0.1 only: no command port on ::1
            "-n",
            "-d",
            "-u",
            "root",
            "-f",
            str(self.config),
        ]
        with open(self.where / f"{self.name}.log", "wb") as out:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_until(self._answers, 20, f"chronyd {self.name}")
            assert not _may_set_time(self.proc.pid), "chronyd could set the clock: stopped"
        except BaseException:
            self.stop()
            raise

    def chronyc(self, *commands: str) -> str:
        return subprocess.run(
            ["chronyc", "-n", "-c", "-h", "127.0.0.1", "-p", str(self.cmdport), "-m", *commands],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout

    def _answers(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, "chronyd exited"
        return bool(self.chronyc("tracking"))

    def synchronised(self) -> bool:
        return not self.chronyc("tracking").strip().endswith("Not synchronised")

    def unreachable(self) -> bool:
        """Every source's reach register has emptied."""
        return all(line.split(",")[5] == "0" for line in self.chronyc("sources").splitlines())

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            self.proc = None


def _may_set_time(pid: int) -> bool:
    """Whether the process holds CAP_SYS_TIME (effective or permitted)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("CapEff", "CapPrm"):
            found[key] = int(value.strip(), 16)
    if len(found) != 2:
        raise AssertionError(f"no capabilities of pid {pid}")
    return any(bits & (1 << CAP_SYS_TIME) for bits in found.values())


@contextlib.contextmanager
def server(where: Path) -> Iterator[tuple[Chronyd, int]]:
    """An NTP server at stratum 8 on 127.0.0.1 (its own clock, "local"); yields it and its port."""
    port = free_port()
    daemon = Chronyd(
        where,
        "server",
        [f"port {port}", "bindaddress 127.0.0.1", "local stratum 8", "allow 127.0.0.1"],
    )
    daemon.start()
    try:
        yield daemon, port
    finally:
        daemon.stop()


@contextlib.contextmanager
def client(where: Path, port: int, offset: float = 0.0, name: str = "client") -> Iterator[Chronyd]:
    """A chronyd polling the server at ``port`` 64 times a second; ``offset`` seconds are
    added to its measurements (chrony's own ``offset`` option), so the clock it tracks is
    that far from its source, without any clock being changed."""
    daemon = Chronyd(
        where,
        name,
        [
            f"server 127.0.0.1 port {port} iburst minpoll -6 maxpoll -6 offset {offset}",
            "port 0",
        ],
    )
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
