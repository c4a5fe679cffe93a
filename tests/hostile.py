"""Misbehaving HTTP servers on 127.0.0.1 for fault tests: endless, trickling, looping, binary.

Each is a context manager yielding its port. Connections are served by
daemon threads that stop when the client goes away, when the server is left,
or after :data:`LIFETIME` seconds, whichever comes first: a test that fails
never leaves a server behind.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

#: The longest any connection is served, whatever the client does.
LIFETIME = 60.0
_CHUNK = b"x" * 65536

#: What a server does on one connection: (socket, request path, stop event).
Behaviour = Callable[[socket.socket, str, threading.Event], None]


def _request_path(conn: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    parts = data.split(b" ", 2)
    return parts[1].decode("latin-1") if len(parts) > 1 else "/"


@contextlib.contextmanager
def serve(behaviour: Behaviour) -> Iterator[int]:
    """Accept on a free port and run ``behaviour`` per connection, each on a daemon thread."""
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            # OSError: the client went away, which is what these servers wait for.
            with contextlib.suppress(OSError):
                behaviour(conn, _request_path(conn), stop)

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


def _until(stop: threading.Event) -> Iterator[None]:
    end = time.monotonic() + LIFETIME
    while not stop.is_set() and time.monotonic() < end:
        yield


def endless(chunked: bool = False, content_type: str = "text/plain") -> Behaviour:
    """200 and a body that never ends: unframed (read until close) or chunked."""

    def behaviour(conn: socket.socket, path: str, stop: threading.Event) -> None:
        framing = "Transfer-Encoding: chunked" if chunked else "Connection: close"
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n".encode()
        )
        chunk = b"%x\r\n%s\r\n" % (len(_CHUNK), _CHUNK) if chunked else _CHUNK
        for _ in _until(stop):
            conn.sendall(chunk)

    return behaviour


def trickle(interval: float = 0.5, length: int = 100_000) -> Behaviour:
    """200 with a long Content-Length, then one byte every ``interval`` seconds.

    Every read gets a byte well within any socket timeout: only a deadline
    over the whole response ends it.
    """

    def behaviour(conn: socket.socket, path: str, stop: threading.Event) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode())
        for _ in _until(stop):
            conn.sendall(b"x")
            stop.wait(interval)

    return behaviour


def redirect_loop(*paths: str) -> Behaviour:
    """302 from each path to the next, the last back to the first."""

    def behaviour(conn: socket.socket, path: str, stop: threading.Event) -> None:
        at = paths.index(path) if path in paths else -1
        target = paths[(at + 1) % len(paths)]
        conn.sendall(
            f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode()
        )

    return behaviour


def raw(response: bytes) -> Behaviour:
    """Exactly these bytes, then close: a status line with NUL and 0xFF, a broken header."""

    def behaviour(conn: socket.socket, path: str, stop: threading.Event) -> None:
        conn.sendall(response)

    return behaviour
