"""An HTTP proxy in front of osmem-server for the search-sink tests.

``fail`` injects 429/5xx answers to prove retries with backoff. ``elasticsearch``
makes osmem answer as Elasticsearch 8/9 would to elasticsearch-py: that client
always sends ``application/vnd.elasticsearch+json; compatible-with=N`` (which
osmem, like OpenSearch, refuses with 406) and insists on the
``X-Elastic-Product`` header; the proxy maps the media types to plain JSON and
back and adds the header. Everything else (the bulk semantics, ids, errors)
is osmem's own. ``acked`` counts, per document id, the bulk items the server
answered with 2xx: what a client was told was stored there (kept when the
server behind is killed, as its contents are not).
"""

from __future__ import annotations

import http.client
import http.server
import json
import re
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_COMPAT = re.compile(r"application/vnd\.elasticsearch\+([a-z\-]+)(?:;\s*compatible-with=\d+)?")


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        proxy = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        proxy.requests.append((self.command, self.path))
        status = 0
        if self.path.split("?")[0].endswith("_bulk"):
            # Handlers run on threads of their own: test and pop at once, or two
            # requests both see the last fault and the second pops an empty list.
            with proxy.lock:
                status = proxy.fail.pop(0) if proxy.fail else 0
        if status:
            payload = b'{"error": "injected", "status": %d}' % status
            self._reply(status, payload, "application/json")
            return
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("host", "content-length", "connection")
        }
        if proxy.elasticsearch:
            headers = {k: _COMPAT.sub(r"application/\1", v) for k, v in headers.items()}
        conn = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port, timeout=30)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except OSError:  # the server behind is gone: so is this connection, as with a dead node
            self.close_connection = True
            return
        finally:
            conn.close()
        if self.path.split("?")[0].endswith("_bulk") and response.status == 200:
            with proxy.lock:  # Counter's += is a read then a write, not one step
                for item in json.loads(data)["items"]:
                    (result,) = item.values()
                    if 200 <= result["status"] < 300:
                        proxy.acked[result["_id"]] += 1
        kind = response.getheader("Content-Type", "application/json")
        if proxy.elasticsearch and kind.startswith("application/json"):
            kind = "application/vnd.elasticsearch+json; compatible-with=9"
        self._reply(response.status, data, kind)

    def _reply(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        if self.server.elasticsearch:
            self.send_header("X-Elastic-Product", "Elasticsearch")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def proxy(
    target: str, elasticsearch: bool = False, fail: list[int] | None = None
) -> Iterator[Any]:
    server: Any = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.target = urllib.parse.urlsplit(target)
    server.elasticsearch = elasticsearch
    server.fail = list(fail or [])
    server.requests = []
    server.acked = Counter()
    server.lock = threading.Lock()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
