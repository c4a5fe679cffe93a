"""The rabbitmq check: nodes, alarms, partitions and queues, from the management API."""

from __future__ import annotations

import re
import time

from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.exceptions import CheckError, ServiceDown, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Generator, Iterator
    from typing import Any

    import nagiosplugin


class Rabbitmq(Check):
    """Check RabbitMQ through its management API: nodes, alarms, partitions, queues.

    A stopped node, a memory or disk alarm and a network partition are
    CRITICAL; messages waiting per queue and per-node resource use are held
    against thresholds; queues without consumers are counted and named.
    """

    service = "rabbitmq"
    arguments = (
        Argument("url", "Management API base URL.", default="http://127.0.0.1:15672"),
        Argument("username", "Management user (the 'monitoring' tag is enough).", default="guest"),
        Argument("password", "Password of that user.", secret=True),
        Argument("vhost", "Only queues of this virtual host."),
        Argument("queue", "Only queues whose name matches this regular expression."),
        Argument("cacert", "CA bundle for an https URL."),
        Argument("insecure", "Do not verify the TLS certificate.", type="bool", default=False),
        Argument(
            "max-size",
            "Bytes of each API answer read at most (a big cluster's queue list may need more).",
            type="int",
            default=16 << 20,
            min=1,
        ),
    )
    perfdata = (
        Perf(
            "partitions",
            "Nodes that report a network partition.",
            min=0,
            critical="0",
            fmt="{value} partitions",
        ),
        Perf("nodes_running", "Cluster nodes running.", min=0),
        Perf(
            "fd_used",
            "File descriptors used, per node.",
            uom="%",
            min=0,
            max=100,
            warning="80",
            critical="90",
            per="node",
        ),
        Perf(
            "sockets_used",
            "Sockets used, per node.",
            uom="%",
            min=0,
            max=100,
            warning="80",
            critical="90",
            per="node",
        ),
        Perf(
            "mem_used",
            "Memory used against the high watermark, per node.",
            uom="%",
            min=0,
            warning="80",
            critical="90",
            per="node",
        ),
        Perf("messages_ready", "Messages waiting for a consumer, per queue.", min=0, per="queue"),
        Perf(
            "messages_unacknowledged",
            "Messages delivered but not acknowledged, per queue.",
            min=0,
            per="queue",
        ),
        Perf(
            "queues_without_consumers",
            "Queues nobody consumes from.",
            min=0,
            fmt="{value} queues without consumers",
        ),
    )
    primary = "partitions"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        self._deadline = time.monotonic() + self.timeout  # both requests, connect to last byte
        nodes = self._get("/api/nodes")
        if not isinstance(nodes, list) or not nodes:
            raise CheckError("management API listed no nodes")
        running = 0
        partitioned = 0
        for node in nodes:
            name = str(node.get("name", "?"))
            if not node.get("running"):
                yield Detail(f"node {name} is not running", State.CRITICAL)
                continue
            running += 1
            if node.get("partitions"):
                partitioned += 1
            for alarm, what in (("mem_alarm", "memory"), ("disk_free_alarm", "disk")):
                if node.get(alarm):
                    yield Detail(f"{what} alarm on {name}: publishers are blocked", State.CRITICAL)
            for label, used, total in (
                ("fd_used", "fd_used", "fd_total"),
                ("sockets_used", "sockets_used", "sockets_total"),
                ("mem_used", "mem_used", "mem_limit"),
            ):
                if node.get(used) is not None and node.get(total):
                    value = round(100.0 * node[used] / node[total], 2)
                    yield metric(label, value, instance=name)
        yield metric("nodes_running", running).replace(max=len(nodes))
        yield metric("partitions", partitioned)
        if partitioned:
            yield Detail(f"{partitioned} nodes report a partition", label="partitions")
        checked = yield from self._queues()
        yield Detail(f"{running} of {len(nodes)} nodes running, {checked} queues", State.OK)

    def _queues(self) -> Generator[Any, None, int]:
        vhost = self.options["vhost"]
        path = "/api/queues" + (f"/{_quote(vhost)}" if vhost else "")
        queues = self._get(
            path + "?columns=name,vhost,messages_ready,messages_unacknowledged,consumers"
        )
        if not isinstance(queues, list):
            raise CheckError("management API answered queues with something not a list")
        try:
            only = re.compile(self.options["queue"]) if self.options["queue"] else None
        except re.error as exc:
            raise UsageError(f"--queue: not a regular expression: {exc}") from None
        idle = []
        checked = 0
        for queue in queues:
            name = str(queue.get("name", "?"))
            if only is not None and not only.search(name):
                continue
            checked += 1
            instance = name if queue.get("vhost", "/") == "/" else f"{queue['vhost']}/{name}"
            yield metric("messages_ready", int(queue.get("messages_ready") or 0), instance)
            yield metric(
                "messages_unacknowledged", int(queue.get("messages_unacknowledged") or 0), instance
            )
            if not queue.get("consumers"):
                idle.append(instance)
        yield metric("queues_without_consumers", len(idle))
        if idle:
            yield Detail(
                f"{len(idle)} queues without consumers: {', '.join(sorted(idle))}",
                label="queues_without_consumers",
            )
        return checked

    def _get(self, path: str) -> Any:
        import requests

        url = self.options["url"].rstrip("/") + path
        verify: bool | str = not self.options["insecure"]
        if self.options["cacert"] and verify:
            verify = self.options["cacert"]
        if self.options["cacert"] and not self._readable(self.options["cacert"]):
            raise UsageError(f"--cacert {self.options['cacert']}: cannot be read")
        try:
            response = requests.get(
                url,
                auth=(self.options["username"], self.options["password"] or ""),
                timeout=self._left(),
                verify=verify,
                stream=True,
            )
        except requests.exceptions.SSLError as exc:
            raise CheckError(f"TLS to the management API failed: {_first_line(exc)}") from None
        except requests.exceptions.ConnectionError as exc:
            if "refused" in str(exc).lower():
                raise ServiceDown(
                    f"management API at {self.options['url']} refused the connection"
                ) from None
            raise CheckError(f"management API unreachable: {_first_line(exc)}") from None
        except requests.exceptions.Timeout:
            raise CheckError(f"management API did not answer in {self.timeout:g}s") from None
        with response:
            return self._answer(response, path)

    def _answer(self, response: Any, path: str) -> Any:
        import requests

        if response.status_code in (401, 403):
            raise CheckError(
                f"management API refused user {self.options['username']!r} "
                f"(HTTP {response.status_code})"
            )
        if response.status_code >= 500:
            raise ServiceDown(f"management API answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise CheckError(f"management API answered HTTP {response.status_code} for {path}")
        body = bytearray()
        limit = self.options["max_size"]
        try:
            while True:
                # One read at a time, each within what is left of the timeout: a
                # server trickling bytes never keeps the check past it.
                sock = getattr(response.raw.connection, "sock", None)
                if sock is not None:
                    sock.settimeout(self._left())
                chunk = response.raw.read1(65536, decode_content=True)  # gzip: bounded too
                if not chunk:
                    break
                body += chunk
                if len(body) > limit:
                    raise CheckError(
                        f"management API answered {path} with more than --max-size {limit} bytes"
                    )
                self._left()
        except (OSError, requests.exceptions.RequestException, _urllib3_errors()) as exc:
            if time.monotonic() >= self._deadline:
                raise CheckError(f"management API did not answer in {self.timeout:g}s") from None
            raise CheckError(
                f"management API answer to {path} broke off: {_first_line(exc)}"
            ) from None
        try:
            import json

            return json.loads(body)
        except ValueError:
            raise CheckError(f"management API answered {path} with invalid JSON") from None

    def _left(self) -> float:
        """Seconds left of the timeout.

        :raises CheckError: none
        """
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise CheckError(f"management API did not answer in {self.timeout:g}s")
        return left

    @staticmethod
    def _readable(path: str) -> bool:
        import os

        return os.access(path, os.R_OK)


def _urllib3_errors() -> type[Exception]:
    import urllib3.exceptions

    return urllib3.exceptions.HTTPError


def _quote(text: str) -> str:
    import urllib.parse

    return urllib.parse.quote(text, safe="")


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
