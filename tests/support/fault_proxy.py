"""A proxy in front of one real API that can be told to fail: 500, 503, 401, 403, bad JSON,
hang, slow.

The real services cannot be asked to answer 503 or to hang on cue, so the fault
tests reach them through this proxy (their endpoints in region ``RegionTwo``):
with no fault set it passes every request and answer through unchanged. It
counts the requests it holds at once (``peak``), as a server sees a client's
concurrency.
"""

from __future__ import annotations

import http.server
import threading
import time
from typing import Any

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class FaultProxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream.rstrip("/")
        #: None, "401", "403", "500", "503", "malformed", "hang" (no answer while it is
        #: set) or "slow" (each answer ``delay`` seconds late).
        self.fault: str | None = None
        self.delay = 0.2
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.active = 0
        #: The most requests held at once since the last reset_peak().
        self.peak = 0

    def reset_peak(self) -> None:
        with self.lock:
            self.peak = self.active

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FaultProxy
    protocol_version = "HTTP/1.1"

    def _proxy(self) -> None:
        proxy = self.server
        with proxy.lock:
            proxy.active += 1
            proxy.peak = max(proxy.peak, proxy.active)
        try:
            self._answer()
        finally:
            with proxy.lock:
                proxy.active -= 1

    def _answer(self) -> None:
        import requests

        proxy = self.server
        proxy.requests.append(self.path)
        if proxy.fault == "hang":
            # Until the test lifts the fault: a hung request of one test is not
            # still held during the next.
            end = time.monotonic() + 60
            while proxy.fault == "hang" and time.monotonic() < end:
                if proxy.stopping.wait(0.1):
                    return
            return
        if proxy.fault == "slow":
            proxy.stopping.wait(proxy.delay)
        if proxy.fault in ("401", "403", "500", "503"):
            self._send(int(proxy.fault), b'{"error": "injected"}', {})
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP | {"host"}}
        answer = requests.request(
            self.command, proxy.upstream + self.path, data=body, headers=headers, timeout=60
        )
        content = b'{"services": [' if proxy.fault == "malformed" else answer.content
        self._send(answer.status_code, content, answer.headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _proxy

    def _send(self, status: int, body: bytes, headers: Any) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in _HOP:
                self.send_header(key, value)
        if not headers:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def start(upstream: str) -> FaultProxy:
    server = FaultProxy(upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server: FaultProxy) -> None:
    server.stopping.set()
    server.shutdown()
    server.server_close()
