"""Local commands for host-local checks: argv only, output bounded, within the check's time."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time

from osops.exceptions import CheckError

#: Bytes of standard output (and of standard error) read at most by default.
MAX_OUTPUT = 1 << 20


class Completed:
    """What a command left: its exit status and output, decoded."""

    __slots__ = ("code", "err", "out")

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def reason(self) -> str:
        """The last line the command wrote on stderr (or stdout), for one-line messages."""
        text = self.err.strip() or self.out.strip() or f"exit status {self.code}"
        return text.splitlines()[-1][:300]


def run(argv: list[str], timeout: float, limit: int = MAX_OUTPUT) -> Completed:
    """Run ``argv`` (no shell) and read its output, at most ``limit`` bytes of each stream.

    The command runs in a session of its own: past ``timeout`` seconds, or past
    the limit, the whole session is killed.

    :raises CheckError: no such command, no answer within the timeout, or too much output
    """
    name = os.path.basename(argv[0])
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise CheckError(f"{argv[0]}: no such command") from None
    except PermissionError:
        raise CheckError(f"{argv[0]}: not executable") from None
    assert proc.stdout is not None and proc.stderr is not None
    held = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    out, err = held[proc.stdout.fileno()], held[proc.stderr.fileno()]
    deadline = time.monotonic() + timeout
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            selector.register(proc.stderr, selectors.EVENT_READ)
            while selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired(argv, timeout)
                for key, _ in selector.select(left):
                    data = os.read(key.fd, 65536)
                    if not data:
                        selector.unregister(key.fileobj)
                        continue
                    held[key.fd] += data
                    if len(held[key.fd]) > limit:
                        raise CheckError(f"{name} wrote more than {limit} bytes")
        code = proc.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise CheckError(f"{name} gave no answer within {timeout:g}s") from None
    except BaseException:
        _kill(proc)
        raise
    finally:
        proc.stdout.close()
        proc.stderr.close()
    return Completed(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
