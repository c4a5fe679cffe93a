"""A stand-in for nova, neutron and cinder: serves the answers under fixtures/api.

It sits behind the real Keystone's catalog and accepts only tokens that
Keystone validates, so checks go through real authentication and discovery.
Tests switch ``scenario`` (healthy, degraded) and ``fault`` (500, 503, 401,
403, malformed, hang) between runs.
"""

from __future__ import annotations

import http.server
import re
import threading
import time
from pathlib import Path
from typing import Any

from helpers import FIXTURES

_PROJECT = re.compile(r"/[0-9a-f]{32}(?=/|$)")


class FakeOpenStack(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, keystone_url: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keystone_url = keystone_url
        self.root = FIXTURES / "api"
        self.scenario = "healthy"
        self.fault: str | None = None
        self.valid_tokens: set[str] = set()
        self.requests: list[str] = []
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def token_is_valid(self, token: str) -> bool:
        if token in self.valid_tokens:
            return True
        import requests

        # A token may validate itself; Keystone says whether it is real and current.
        response = requests.get(
            f"{self.keystone_url}/v3/auth/tokens",
            timeout=10,
            headers={"X-Auth-Token": token, "X-Subject-Token": token},
        )
        if response.status_code == 200:
            self.valid_tokens.add(token)
            return True
        return False

    def answer(self, path: str) -> Path | None:
        clean = _PROJECT.sub("/{project_id}", path.split("?", 1)[0]).strip("/")
        candidate = self.root / self.scenario / f"{clean}.json"
        return candidate if candidate.is_file() else None


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeOpenStack
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        fake = self.server
        fake.requests.append(self.path)
        if fake.fault == "hang":
            fake.stopping.wait(60)
            return
        token = self.headers.get("X-Auth-Token", "")
        if fake.fault in ("401", "403", "500", "503"):
            self._send(int(fake.fault), b'{"error": "injected"}')
            return
        answer = fake.answer(self.path)
        if answer is None:
            self._send(404, b'{"itemNotFound": {"code": 404}}')
            return
        is_version_document = answer.name in ("v2.1.json", "network.json", "{project_id}.json")
        if not is_version_document and not (token and fake.token_is_valid(token)):
            self._send(401, b'{"error": {"code": 401, "title": "Unauthorized"}}')
            return
        body = b'{"services": [' if fake.fault == "malformed" else answer.read_bytes()
        self._send(200, body)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def start(keystone_url: str) -> FakeOpenStack:
    server = FakeOpenStack(keystone_url)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server: FakeOpenStack) -> None:
    server.stopping.set()
    server.shutdown()
    server.server_close()
    time.sleep(0)
