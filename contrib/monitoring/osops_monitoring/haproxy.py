"""The haproxy check: backends and servers DOWN, from the stats socket or the CSV page."""

from __future__ import annotations

import csv
import io
import socket
import time

from osops.check.base import Argument, Check, Detail, Perf, metric
from osops.exceptions import CheckError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin


class Haproxy(Check):
    """Check HAProxy: backends and servers DOWN, from the stats socket or stats CSV URL.

    A backend with no server left is CRITICAL, a server down in a backend that
    still serves is WARNING (both adjustable with -w/-c on their counts).
    """

    service = "haproxy"
    arguments = (
        Argument("socket", "Path of the stats socket ('stats socket' in haproxy.cfg)."),
        Argument("url", "Stats page URL, e.g. http://127.0.0.1:8404/stats (';csv' is added)."),
        Argument("username", "User for the stats page (basic auth)."),
        Argument("password", "Password for the stats page.", secret=True),
        Argument("backend", "Only backends whose name matches this regular expression."),
        Argument(
            "max-size",
            "Bytes of statistics read at most (thousands of servers may need more).",
            type="int",
            default=8 << 20,
            min=1,
        ),
    )
    perfdata = (
        Perf(
            "backends_down",
            "Backends with no server able to serve.",
            min=0,
            critical="0",
            fmt="{value} backends down",
        ),
        Perf(
            "servers_down",
            "Servers DOWN (not in maintenance) across backends.",
            min=0,
            warning="0",
            fmt="{value} servers down",
        ),
        Perf("servers_up", "Servers UP across backends.", min=0),
    )
    primary = "servers_down"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        import re

        try:
            only = re.compile(self.options["backend"]) if self.options["backend"] else None
        except re.error as exc:
            raise UsageError(f"--backend: not a regular expression: {exc}") from None
        self._deadline = time.monotonic() + self.timeout  # connect to last byte
        text = self._stats()
        rows = list(csv.DictReader(io.StringIO(text.lstrip("# "))))
        if not rows or "svname" not in rows[0]:
            raise CheckError("haproxy stats are not the CSV haproxy writes")
        down_backends, down_servers, up = [], [], 0
        for row in rows:
            proxy, name, status = row["pxname"], row["svname"], (row.get("status") or "")
            if name == "FRONTEND" or (only and not only.search(proxy)):
                continue
            if name == "BACKEND":
                if status.startswith("DOWN"):
                    down_backends.append(proxy)
            elif status.startswith("DOWN"):
                down_servers.append(f"{proxy}/{name}")
            elif status.startswith(("UP", "no check", "OPEN")):
                up += 1
        yield metric("backends_down", len(down_backends))
        yield metric("servers_down", len(down_servers))
        yield metric("servers_up", up)
        if down_backends:
            yield Detail(
                f"{len(down_backends)} backends down: {', '.join(down_backends)}",
                label="backends_down",
            )
        if down_servers:
            yield Detail(
                f"{len(down_servers)} servers down: {', '.join(down_servers)}",
                label="servers_down",
            )

    def _stats(self) -> str:
        if bool(self.options["socket"]) == bool(self.options["url"]):
            raise UsageError("give exactly one of --socket and --url")
        if self.options["socket"]:
            path = self.options["socket"]
            body = bytearray()
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                    conn.settimeout(self._left(f"stats socket {path}"))
                    conn.connect(path)
                    conn.sendall(b"show stat\n")
                    while True:
                        conn.settimeout(self._left(f"stats socket {path}"))
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        self._add(body, chunk, f"stats socket {path}")
            except TimeoutError:
                raise CheckError(f"stats socket {path} did not answer") from None
            except OSError as exc:
                raise CheckError(f"stats socket {path}: {exc.strerror or exc}") from None
            return body.decode(errors="replace")
        return self._fetch(self.options["url"])

    def _left(self, what: str) -> float:
        """Seconds left of the timeout.

        :raises CheckError: none
        """
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise CheckError(f"{what} did not answer within {self.timeout:g}s")
        return left

    def _add(self, body: bytearray, chunk: bytes, what: str) -> None:
        body += chunk
        if len(body) > self.options["max_size"]:
            raise CheckError(f"{what} sent more than --max-size {self.options['max_size']} bytes")

    def _fetch(self, url: str) -> str:
        import base64
        import http.client
        import urllib.error
        import urllib.request

        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--url: {url!r} is not an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url if url.endswith(";csv") else url + ";csv"
        )
        if self.options["username"]:
            token = f"{self.options['username']}:{self.options['password'] or ''}"
            request.add_header(
                "Authorization", "Basic " + base64.b64encode(token.encode()).decode()
            )
        what = f"stats page {url}"
        body = bytearray()
        try:
            with urllib.request.urlopen(  # noqa: S310 - the scheme is checked above
                request, timeout=self._left(what)
            ) as response:
                # One read at a time: a trickling server is cut at the timeout,
                # an endless one at --max-size.
                while chunk := response.read1(65536):
                    self._add(body, chunk, what)
                    self._left(what)
        except urllib.error.HTTPError as exc:
            raise CheckError(f"stats page answered HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise CheckError(f"stats page {url}: {exc.reason}") from None
        except TimeoutError:
            raise CheckError(f"stats page {url} did not answer") from None
        except (OSError, http.client.HTTPException) as exc:
            raise CheckError(f"stats page {url}: {type(exc).__name__}: {exc}") from None
        return body.decode(errors="replace")
