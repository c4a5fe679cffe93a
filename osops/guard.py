"""Plugins' writes to standard output kept off it and named; exits a plugin may not take.

Standard output is osops's: a Nagios status line, JSON lines, a table. While a
plugin runs (imported, probing, processing a record, writing a batch), what it
prints is caught here instead, under the plugin's name, and osops reports it.
Writes with no plugin running go through unchanged.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Callable, Iterator
    from typing import Any, TextIO


class StdoutGuard(io.TextIOBase):
    """Stands in for ``sys.stdout``: passes osops's writes on, keeps the plugins'."""

    def __init__(self, real: TextIO, report: Callable[[str, str], None] | None = None) -> None:
        self.real = real
        #: First text caught of each plugin that printed, by its name.
        self.caught: dict[str, str] = {}
        self._report = report
        self._reported: set[str] = set()
        self._local = threading.local()
        self._lock = threading.Lock()

    def stack(self) -> list[str]:
        """This thread's running plugins, innermost last."""
        stack: list[str] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def write(self, text: str) -> int:
        stack = self.stack()
        if not stack:
            return self.real.write(text)
        owner = stack[-1]
        with self._lock:
            if len(self.caught.get(owner, "")) < 200:
                self.caught[owner] = self.caught.get(owner, "") + text
            line = self.caught[owner]
            complete = "\n" in line and owner not in self._reported
        if complete:  # print() writes its parts one by one: report the whole line
            self.report(owner)
        return len(text)

    def report(self, owner: str) -> None:
        """Report a plugin's print once: its first line."""
        with self._lock:
            if owner in self._reported:
                return
            self._reported.add(owner)
        if self._report is not None:
            self._report(owner, self.caught[owner].partition("\n")[0])

    def flush(self) -> None:
        if not self.stack():
            self.real.flush()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]  # a property on TextIOBase too
        return getattr(self.real, "encoding", "utf-8")

    @property
    def buffer(self) -> Any:
        """Bytes written here are caught the same way (``sys.stdout.buffer.write``)."""
        return _Bytes(self)


class _Bytes(io.RawIOBase):
    def __init__(self, text: StdoutGuard) -> None:
        self.text = text

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if not self.text.stack():
            written: int = self.text.real.buffer.write(data)
            return written
        self.text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)


def active() -> StdoutGuard | None:
    """The guard standing in for standard output, if one is."""
    out = sys.stdout
    return out if isinstance(out, StdoutGuard) else None


@contextlib.contextmanager
def stdout_guarded(report: Callable[[str, str], None] | None = None) -> Iterator[StdoutGuard]:
    """Stand a guard in for ``sys.stdout`` for the block (the one in place, if any).

    :param report: called once per plugin that printed: (its name, its first line)
    """
    current = active()
    if current is not None:
        yield current
        return
    guard = StdoutGuard(sys.stdout, report)
    sys.stdout = guard
    try:
        yield guard
    finally:
        sys.stdout = guard.real
        for owner in list(guard.caught):  # prints that never ended their line
            guard.report(owner)


@contextlib.contextmanager
def running(owner: str) -> Iterator[None]:
    """Mark a plugin as running in this thread: what it prints is caught under ``owner``."""
    guard = active()
    if guard is None:
        yield
        return
    stack = guard.stack()
    stack.append(owner)
    try:
        yield
    finally:
        stack.pop()


def plugin_fault(exc: BaseException) -> bool:
    """Whether an exception escaping a plugin is a plugin's bug osops reports (not Ctrl-C)."""
    return not isinstance(exc, KeyboardInterrupt | GeneratorExit)


def printed(where: str, text: str) -> str:
    """``filter 'x' printed 'text' to standard output during import``, from a running mark."""
    who, _, phase = where.partition(" during ")
    during = f" during {phase}" if phase else ""
    return f"{who} printed {shown(text)} to standard output{during}"


def shown(text: str, limit: int = 60) -> str:
    """Caught output as it is quoted in a message: one line, at most ``limit`` characters."""
    one = " ".join(text.split())
    return repr(one if len(one) <= limit else one[: limit - 3] + "...")
