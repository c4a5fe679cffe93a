"""Real servers for integration tests: started on 127.0.0.1, awaited, stopped by pid."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path


def wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline: float = 20.0) -> None:
    """Return once something accepts on 127.0.0.1:port; fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.args!r} not listening on {port} after {deadline}s")


def wait_until(ready: Callable[[], bool], deadline: float, what: str) -> None:
    """Poll ``ready`` (errors count as not yet) until it holds; fail after ``deadline`` s."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {deadline}s")


@contextlib.contextmanager
def daemon(
    argv: Sequence[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server in the foreground of a child process; stop it by pid afterwards."""
    if shutil.which(argv[0]) is None:
        raise RuntimeError(f"{argv[0]} is not installed: run tools/setup --dev")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    try:
        wait_for_port(port, proc, deadline=60)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
