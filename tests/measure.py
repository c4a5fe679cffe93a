"""Run a child process bounded in time and memory and measure what it used (wait4's rusage)."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any


@dataclass
class Measured:
    """What a child did: exit code, output, wall and CPU seconds, peak RSS."""

    returncode: int
    stdout: str
    stderr: str
    wall: float
    cpu: float
    rss_mib: float
    killed: bool  # it ran past its deadline and was killed

    def __str__(self) -> str:
        return (
            f"exit {self.returncode} in {self.wall:.2f}s wall, {self.cpu:.2f}s CPU, "
            f"{self.rss_mib:.0f} MiB{' (killed at its deadline)' if self.killed else ''}; "
            f"stdout {self.stdout[:300]!r} stderr {self.stderr[-300:]!r}"
        )


def run_measured(
    argv: Sequence[str],
    deadline: float = 30.0,
    memory: int = 1 << 30,
    stdin: IO[Any] | int | None = subprocess.DEVNULL,
    stdout: IO[Any] | int | None = None,
    env: dict[str, str] | None = None,
) -> Measured:
    """Run ``argv`` with at most ``memory`` bytes of address space, killed after ``deadline``.

    Whatever the code under test does (an endless read, an alias bomb), the
    test ends: a child past its memory dies of MemoryError, one past its
    deadline is killed with its whole process group. Its rusage comes from
    wait4 for that child alone, not from every child of the test process.

    :param stdout: where the child writes (default: captured)
    """

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=out if stdout is None else stdout,
            stderr=err,
            start_new_session=True,
            preexec_fn=limit,  # only setrlimit, before exec
            env={**os.environ, **(env or {})},
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(deadline, kill)
        timer.daemon = True
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(ProcessLookupError):  # helpers it left behind
            os.killpg(proc.pid, signal.SIGKILL)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            rss_mib=usage.ru_maxrss / 1024,
            killed=killed.is_set(),
        )
