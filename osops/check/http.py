"""The http check: status, body, latency and TLS certificate lifetime of a URL."""

from __future__ import annotations

import re
import time

from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.exceptions import CheckError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import nagiosplugin


def _statuses(spec: str) -> list[tuple[int, int]]:
    ranges = []
    for part in spec.split(","):
        low, _, high = part.strip().partition("-")
        try:
            ranges.append((int(low), int(high or low)))
        except ValueError:
            raise UsageError(f"--expect: {spec!r} is not like 200,301-308") from None
    return ranges


class Http(Check):
    """Check a URL: expected status, body regex, response time and days of TLS certificate left.

    Connection refused, TLS failures and unexpected statuses are CRITICAL; a
    server that does not answer within the timeout is UNKNOWN.
    """

    arguments = (
        Argument("url", "URL to request (http or https).", required=True),
        Argument("method", "HTTP method.", default="GET", choices=("GET", "HEAD", "POST")),
        Argument("expect", "Acceptable statuses, e.g. 200,301-308.", default="200-399"),
        Argument("regex", "Regular expression the body must match (CRITICAL if not)."),
        Argument("header", "Request header 'Name: value'.", repeatable=True),
        Argument("cacert", "CA bundle to verify TLS against (default: the system's)."),
        Argument("insecure", "Do not verify the TLS certificate.", type="bool", default=False),
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

        url = urllib.parse.urlsplit(self.options["url"])
        if url.scheme not in ("http", "https") or not url.hostname:
            raise UsageError(f"--url: {self.options['url']!r} is not an http(s) URL")
        expect = _statuses(self.options["expect"])
        pattern = re.compile(self.options["regex"]) if self.options["regex"] else None
        headers = {"User-Agent": "osops-check-http"}
        for header in self.options["header"] or ():
            name, sep, value = header.partition(":")
            if not sep:
                raise UsageError(f"--header: {header!r} is not 'Name: value'")
            headers[name.strip()] = value.strip()
        where = f"{url.hostname}:{url.port or (443 if url.scheme == 'https' else 80)}"
        conn: Any
        if url.scheme == "https":
            context = ssl.create_default_context(cafile=self.options["cacert"])
            if self.options["insecure"]:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(
                url.hostname, url.port, timeout=self.timeout, context=context
            )
        else:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=self.timeout)
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        started = time.monotonic()
        try:
            conn.request(self.options["method"], path, headers=headers)
            # Before the response: a server that closes the connection takes the socket along.
            cert = conn.sock.getpeercert() if url.scheme == "https" and conn.sock else None
            response = conn.getresponse()
            body = response.read()
            elapsed = time.monotonic() - started
        except ConnectionRefusedError:
            yield Detail(f"{where} refused the connection", State.CRITICAL)
            return
        except ssl.SSLError as exc:
            yield Detail(f"TLS to {where} failed: {exc.reason or exc}", State.CRITICAL)
            return
        except TimeoutError:
            raise CheckError(f"{where} did not answer within {self.timeout:g}s") from None
        except (OSError, http.client.HTTPException) as exc:
            yield Detail(f"{where}: {type(exc).__name__}: {exc}", State.CRITICAL)
            return
        finally:
            conn.close()
        status = response.status
        if not any(low <= status <= high for low, high in expect):
            yield Detail(
                f"HTTP {status} {response.reason} from {where}, expected {self.options['expect']}",
                State.CRITICAL,
            )
        elif pattern is not None and not pattern.search(body.decode(errors="replace")):
            yield Detail(f"body of {where} does not match {pattern.pattern!r}", State.CRITICAL)
        else:
            yield Detail(f"HTTP {status} {response.reason} in {elapsed:.3f}s", State.OK)
        yield metric("time", round(elapsed, 6))
        yield metric("size", len(body))
        if cert and cert.get("notAfter"):
            expires = ssl.cert_time_to_seconds(cert["notAfter"])
            yield metric("cert_days", round((expires - time.time()) / 86400, 1))
