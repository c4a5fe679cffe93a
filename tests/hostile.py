"""Misbehaving HTTP servers on 127.0.0.1 beyond the kit's: endless, looping, binary.

Behaviours for :func:`osops.testing.servers.serve` (the kit: silent, hung
and trickling servers are there, as plugin authors get them); and the
arguments that ship a log to a UDP port, shared by the tests and the bench.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from osops.testing.servers import Behaviour, serve, trickle, until

__all__ = ["endless", "raw", "redirect_loop", "serve", "ship_udp", "trickle"]

_CHUNK = b"x" * 65536


def endless(chunked: bool = False, content_type: str = "text/plain") -> Behaviour:
    """200 and a body that never ends: unframed (read until close) or chunked."""

    def behaviour(conn: socket.socket, path: str, stop: threading.Event) -> None:
        framing = "Transfer-Encoding: chunked" if chunked else "Connection: close"
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n".encode()
        )
        chunk = b"%x\r\n%s\r\n" % (len(_CHUNK), _CHUNK) if chunked else _CHUNK
        for _ in until(stop):
            conn.sendall(chunk)

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


def ship_udp(path: Path, port: int, *more: str) -> tuple[str, ...]:
    """``osops`` arguments shipping ``path`` to Logstash over UDP on 127.0.0.1, summary in JSON."""
    return (
        "log",
        "ship",
        str(path),
        "--sink",
        "logstash",
        "--option",
        "protocol=udp",
        "--option",
        f"port={port}",
        "--format",
        "json",
        *more,
    )
