"""Servers on 127.0.0.1 for tests: a receiver that counts what a sink sends, and faulty ones.

Each is a context manager; connections are served by daemon threads that stop
when the client goes away or the server is left, so a failing test leaves
nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

#: The longest any connection is served, whatever the client does.
LIFETIME = 60.0

#: What a server does on one connection: (socket, request path, stop event).
Behaviour = Callable[[socket.socket, str, threading.Event], None]


#: The lowest port :func:`free_port` gives (above the well-known and most registered ones).
LOWEST = 10000
_GIVEN: set[int] = set()
_GIVING = threading.Lock()
# The system's randomness: a test seeding ``random`` (hypothesis does) would make every
# process of a run pick the same ports.
_RANDOM = random.SystemRandom()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing uses, for TCP and UDP (connecting to it is refused).

    Taken below the kernel's ephemeral range (``ip_local_port_range``), where
    the kernel never puts an outgoing connection: a port the kernel chose
    (bind to 0) could be taken by one, of a test or of a daemon it started,
    before the server meant for it binds it. Never the same port twice in a
    process, so a port kept free for a "refused" test stays free.
    """
    low = _ephemeral_low()
    with _GIVING:
        for _ in range(500):
            port = _RANDOM.randrange(LOWEST, low) if low > LOWEST + 100 else _any_port()
            if port not in _GIVEN and _unused(port):
                _GIVEN.add(port)
                return port
    raise RuntimeError(f"no free port on 127.0.0.1 from {LOWEST} to {low} after 500 tries")


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux), else the IANA one's."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


def _any_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _unused(port: int) -> bool:
    """Whether TCP and UDP sockets can bind the port now, on 127.0.0.1 and on ::1.

    A daemon binding "localhost" or every address takes both families: a port
    held on ::1 alone is not free for it. Without IPv6, ::1 is not asked.
    """
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            try:
                sock = socket.socket(family, kind)
            except OSError:  # no IPv6 here
                break
            with sock:
                try:
                    sock.bind((host, port))
                except OSError as exc:
                    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                        break  # no ::1 here
                    return False
    return True


#: A port where the connection is refused: for "service down" tests.
refused_port = free_port


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def request_path(conn: socket.socket) -> str:
    """Read one HTTP request's head; its path ("/" if there is none)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    parts = data.split(b" ", 2)
    return parts[1].decode("latin-1") if len(parts) > 1 else "/"


def until(stop: threading.Event) -> Iterator[None]:
    """Loop while the server runs, never longer than :data:`LIFETIME`."""
    end = time.monotonic() + LIFETIME
    while not stop.is_set() and time.monotonic() < end:
        yield


@contextlib.contextmanager
def serve(behaviour: Behaviour, http: bool = True) -> Iterator[int]:
    """Accept on a free port and run ``behaviour`` per connection, each on a daemon thread.

    :param http: read an HTTP request's head first and pass on its path
    """
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5 if http else 0.2)
            # OSError: the client went away, which is what these servers wait for.
            with contextlib.suppress(OSError):
                behaviour(conn, request_path(conn) if http else "", stop)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()


def hang() -> Behaviour:
    """Read the request, answer a status line and headers, then nothing: a hung backend."""

    def behaviour(conn: socket.socket, path: str, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        stop.wait(LIFETIME)

    return behaviour


def trickle(interval: float = 0.5, length: int = 100_000) -> Behaviour:
    """200 with a long Content-Length, then one byte every ``interval`` seconds.

    Every read gets a byte well within any socket timeout: only a deadline
    over the whole response ends it.
    """

    def behaviour(conn: socket.socket, path: str, stop: threading.Event) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode())
        for _ in until(stop):
            conn.sendall(b"x")
            stop.wait(interval)

    return behaviour


@contextlib.contextmanager
def fault_server(kind: str, interval: float = 0.5) -> Iterator[int]:
    """A server that fails the way real ones do; yields its port.

    :param kind: ``silent`` (connects, never answers), ``hang`` (answers the
        headers, never the body) or ``trickle`` (a byte every ``interval`` s)
    """
    if kind == "silent":
        with silent_listener() as port:
            yield port
        return
    if kind not in ("hang", "trickle"):
        raise ValueError(f"fault_server: {kind!r} is not silent, hang or trickle")
    with serve(hang() if kind == "hang" else trickle(interval)) as port:
        yield port


class Receiver:
    """What a sink sent: newline-separated lines (TCP) or datagrams (UDP), in order."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.port = 0
        self.lines: list[bytes] = []
        self._arrived = threading.Condition()

    def add(self, line: bytes) -> None:
        with self._arrived:
            self.lines.append(line)
            self._arrived.notify_all()

    @property
    def records(self) -> list[Any]:
        """Every line read as JSON."""
        return [json.loads(line) for line in self.lines]

    def wait(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """The lines, once at least ``count`` arrived.

        :raises AssertionError: fewer arrived within ``timeout`` seconds
        """
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.lines) >= count, timeout):
                raise AssertionError(f"{len(self.lines)} of {count} lines arrived in {timeout}s")
            return list(self.lines)


@contextlib.contextmanager
def receiver(protocol: str = "tcp") -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 counting every line a sink sends (``tcp`` or ``udp``)."""
    got = Receiver(protocol)
    if protocol == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        got.port = sock.getsockname()[1]
        stop = threading.Event()

        def read_datagrams() -> None:
            while not stop.is_set():
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                for line in data.splitlines():
                    got.add(line)

        thread = threading.Thread(target=read_datagrams, daemon=True)
        thread.start()
        try:
            yield got
        finally:
            stop.set()
            thread.join(5)
            sock.close()
        return
    if protocol != "tcp":
        raise ValueError(f"receiver: {protocol!r} is not tcp or udp")

    def read_lines(conn: socket.socket, first: str, stop: threading.Event) -> None:
        buffer = b""
        for _ in until(stop):
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                got.add(line)
        if buffer:
            got.add(buffer)

    with serve(read_lines, http=False) as port:
        got.port = port
        yield got
