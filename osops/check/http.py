"""The http check: status, body, latency and TLS certificate lifetime of a URL."""

from __future__ import annotations

import contextlib
import re
import time

from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.exceptions import CheckError, ServiceDown, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import nagiosplugin

#: Statuses whose Location is followed (with --max-redirects above 0).
_REDIRECTS = (301, 302, 303, 307, 308)
_READ = 65536


def _statuses(spec: str) -> list[tuple[int, int]]:
    ranges = []
    for part in spec.split(","):
        low, _, high = part.strip().partition("-")
        try:
            ranges.append((int(low), int(high or low)))
        except ValueError:
            raise UsageError(f"--expect: {spec!r} is not like 200,301-308") from None
    return ranges


def _printable(text: str, limit: int = 200) -> str:
    """Server-sent text fit for a status line: ASCII, other bytes escaped, bounded."""
    text = text[:limit]
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)


class _Answer:
    """One HTTP exchange: status, reason, the body as far as read, the peer's certificate."""

    def __init__(self) -> None:
        self.status = 0
        self.reason = ""
        self.location: str | None = None
        self.body = bytearray()
        self.cert: dict[str, Any] | None = None
        self.too_big = False


class Http(Check):
    """Check a URL: expected status, body regex, response time and days of TLS certificate left.

    Redirects are followed (up to --max-redirects); a redirect loop is
    CRITICAL. Connection refused, TLS failures, unexpected statuses and a
    body over --max-size are CRITICAL; a server that has not answered the
    whole response within the timeout, from connect to the last byte, is
    UNKNOWN.
    """

    arguments = (
        Argument("url", "URL to request (http or https).", required=True),
        Argument("method", "HTTP method.", default="GET", choices=("GET", "HEAD", "POST")),
        Argument("expect", "Acceptable statuses, e.g. 200,301-308.", default="200-399"),
        Argument("regex", "Regular expression the body must match (CRITICAL if not)."),
        Argument("header", "Request header 'Name: value'.", repeatable=True),
        Argument("cacert", "CA bundle to verify TLS against (default: the system's)."),
        Argument("insecure", "Do not verify the TLS certificate.", type="bool", default=False),
        Argument(
            "max-redirects",
            "Redirects followed; 0 judges the first answer, a 3xx included, against --expect.",
            type="int",
            default=10,
            min=0,
            max=50,
        ),
        Argument(
            "max-size",
            "Bytes of body read at most; a longer body is CRITICAL.",
            type="int",
            default=4 << 20,
            min=1,
        ),
    )
    perfdata = (
        Perf(
            "time",
            "Seconds from connect to the end of the body.",
            uom="s",
            min=0,
            fmt="response in {value:.3f}s",
        ),
        Perf("size", "Body size.", uom="B", min=0),
        Perf(
            "cert_days",
            "Days until the TLS certificate expires (https only).",
            warning="14:",
            critical="7:",
            fmt="certificate expires in {value:.0f} days",
        ),
    )

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        import http.client
        import ssl
        import urllib.parse

        url = self.options["url"]
        first = urllib.parse.urlsplit(url)
        if first.scheme not in ("http", "https") or not first.hostname:
            raise UsageError(f"--url: {url!r} is not an http(s) URL")
        expect = _statuses(self.options["expect"])
        try:
            pattern = re.compile(self.options["regex"]) if self.options["regex"] else None
        except re.error as exc:
            raise UsageError(
                f"--regex: {self.options['regex']!r} is not a regular expression: {exc}"
            ) from None
        headers = {"User-Agent": "osops-check-http"}
        for header in self.options["header"] or ():
            name, sep, value = header.partition(":")
            if not sep:
                raise UsageError(f"--header: {header!r} is not 'Name: value'")
            headers[name.strip()] = value.strip()
        context = self._tls() if first.scheme == "https" or self.options["cacert"] else None
        method = self.options["method"]
        started = time.monotonic()
        deadline = started + self.timeout
        visited = [url]
        while True:
            parts = urllib.parse.urlsplit(url)
            where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
            if parts.scheme == "https" and context is None:
                context = self._tls()
            try:
                answer = self._exchange(parts, method, headers, deadline, context)
            except ConnectionRefusedError:
                raise ServiceDown(f"{where} refused the connection") from None
            except ssl.SSLError as exc:
                if time.monotonic() >= deadline:
                    raise CheckError(f"{where} did not answer within {self.timeout:g}s") from None
                raise ServiceDown(f"TLS to {where} failed: {exc.reason or exc}") from None
            except TimeoutError:
                raise CheckError(f"{where} did not answer within {self.timeout:g}s") from None
            except (OSError, http.client.HTTPException) as exc:
                if time.monotonic() >= deadline:
                    raise CheckError(f"{where} did not answer within {self.timeout:g}s") from None
                raise ServiceDown(
                    f"{where}: {type(exc).__name__}: {_printable(str(exc))}"
                ) from None
            if (
                answer.status not in _REDIRECTS
                or answer.location is None
                or not self.options["max_redirects"]
            ):
                break
            target = urllib.parse.urljoin(url, answer.location)
            if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
                break  # judged as it is, against --expect
            if target in visited:
                loop = " -> ".join(_printable(u, 100) for u in visited[visited.index(target) :])
                yield Detail(f"redirect loop: {loop} -> {_printable(target, 100)}", State.CRITICAL)
                return
            if len(visited) > self.options["max_redirects"]:
                yield Detail(
                    f"more than {self.options['max_redirects']} redirects (--max-redirects) "
                    f"from {_printable(visited[0], 100)}",
                    State.CRITICAL,
                )
                return
            visited.append(target)
            url = target
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method = "GET"
        elapsed = time.monotonic() - started
        status, reason = answer.status, _printable(answer.reason, 60)
        if answer.too_big:
            yield Detail(
                f"body from {where} is larger than --max-size {self.options['max_size']} bytes",
                State.CRITICAL,
            )
        elif not any(low <= status <= high for low, high in expect):
            yield Detail(
                f"HTTP {status} {reason} from {where}, expected {self.options['expect']}",
                State.CRITICAL,
            )
        elif pattern is not None and not pattern.search(answer.body.decode(errors="replace")):
            yield Detail(f"body of {where} does not match {pattern.pattern!r}", State.CRITICAL)
        else:
            yield Detail(f"HTTP {status} {reason} in {elapsed:.3f}s", State.OK)
        yield metric("time", round(elapsed, 6))
        yield metric("size", len(answer.body))
        cert = answer.cert
        if cert and cert.get("notAfter"):
            expires = ssl.cert_time_to_seconds(cert["notAfter"])
            yield metric("cert_days", round((expires - time.time()) / 86400, 1))

    def _tls(self) -> Any:
        import ssl

        cacert = self.options["cacert"]
        try:
            context = ssl.create_default_context(cafile=cacert)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
            raise UsageError(f"--cacert {cacert}: {reason}") from None
        if self.options["insecure"]:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _exchange(
        self, url: Any, method: str, headers: dict[str, str], deadline: float, context: Any
    ) -> _Answer:
        """One request and its response, read no further than --max-size, cut at ``deadline``.

        A timer shuts the socket down at the deadline, so that nothing the
        server does (trickling headers or body a byte at a time, each read
        well within a socket timeout) keeps the check past it.

        :raises TimeoutError: the deadline passed first
        """
        import http.client
        import socket
        import threading

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        conn: Any
        if url.scheme == "https":
            conn = http.client.HTTPSConnection(
                url.hostname, url.port, timeout=remaining, context=context
            )
        else:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=remaining)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        fired = threading.Event()
        lock = threading.Lock()

        def cut() -> None:
            with lock:
                fired.set()
                if conn.sock is not None:  # the plain socket's shutdown: no TLS state touched
                    with contextlib.suppress(OSError):
                        socket.socket.shutdown(conn.sock, socket.SHUT_RDWR)

        watchdog = threading.Timer(remaining, cut)
        watchdog.daemon = True
        watchdog.start()
        answer = _Answer()
        response = None
        try:
            conn.connect()
            with lock:
                sock = conn.sock
                if fired.is_set():  # connected in the instant the timer fired
                    raise TimeoutError
            conn.request(method, path, headers=headers)
            # Before the response: a server that closes the connection takes the socket along.
            answer.cert = sock.getpeercert() if url.scheme == "https" else None
            response = conn.getresponse()  # may close conn, handing the socket to the response
            answer.status, answer.reason = response.status, response.reason
            answer.location = response.getheader("Location")
            conn.sock = sock  # still what the timer cuts
            limit = self.options["max_size"]
            while method != "HEAD" and not fired.is_set():
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = response.read1(_READ)
                if not chunk:
                    break
                if len(answer.body) + len(chunk) > limit:
                    answer.body += chunk[: limit - len(answer.body)]
                    answer.too_big = True
                    break
                answer.body += chunk
        except Exception:
            if fired.is_set():
                raise TimeoutError from None  # whatever the cut socket made the client say
            raise
        finally:
            watchdog.cancel()
            if response is not None:
                response.close()
            conn.close()
        if fired.is_set():
            raise TimeoutError
        return answer
