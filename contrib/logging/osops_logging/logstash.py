"""The logstash sink: events in python-logstash's format, TCP json_lines or UDP."""

from __future__ import annotations

import json
import logging
import random
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from osops.exceptions import SinkError, UsageError
from osops.log.base import Sink
from osops.log.record import LogRecord
from osops.options import Argument

LOG = logging.getLogger(__name__)
#: The largest UDP payload over IPv4.
UDP_MAX = 65507


def event(record: LogRecord) -> dict[str, Any]:
    """python-logstash's version 1 event (``@version``, ``message``, ``host``, ``path``,
    ``tags``, ``type``, ``level``, ``logger_name``) with the record's ECS fields."""
    fields = record.to_dict()
    return {
        **fields,
        "@version": "1",
        "message": fields.get("message", record.raw),
        "host": record.host or "",
        "path": record.file,
        "tags": fields.get("tags", []),
        "type": "osops",
        "level": record.level or "",
        "logger_name": record.logger or "",
    }


class Logstash(Sink):
    """Send events to Logstash (or rsyslog, Fluentd): TCP json_lines or UDP JSON datagrams.

    UDP has no acknowledgement and no retry: a datagram the kernel accepted is
    counted as sent, whether or not anything received it; sends the kernel
    refuses (the receiver's port closed, as ICMP told it) are counted as send
    errors and the batch goes on. An event larger than ``max-datagram`` has its
    longest fields cut to fit and is tagged ``truncated``.

    Several receivers (``host=a,b:5960``): each shipper starts at one chosen at
    random, so that many shippers spread over them, and stays with it; when it
    fails (refused, reset, closed), the batch goes to the next one at once, and
    only when every one has failed is the batch refused (and retried later).
    """

    arguments = (
        Argument(
            "host",
            "Receiver address, or several as ADDRESS[:PORT],... (spread over, failed over).",
            default="127.0.0.1",
        ),
        Argument("port", "Receiver port.", type="int", default=5959, min=1, max=65535),
        Argument(
            "protocol",
            "tcp (json_lines codec) or udp (json codec).",
            default="tcp",
            choices=("tcp", "udp"),
        ),
        Argument(
            "timeout",
            "Seconds to connect and send.",
            type="float",
            default=10.0,
            min=0.1,
            max=3600,
        ),
        Argument(
            "max-datagram",
            "UDP: bytes per event at most; a larger event is cut to fit, tagged truncated.",
            type="int",
            default=UDP_MAX,
            min=8192,
            max=UDP_MAX,
        ),
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._conn: socket.socket | None = None
        self.receivers = receivers(options["host"], options["port"])
        self._current = random.randrange(len(self.receivers))  # noqa: S311 (spreading, not secrecy)

    def write(self, records: Sequence[LogRecord]) -> None:
        if self.options["protocol"] == "udp":
            self._send_datagrams(records)
            return
        data = b"\n".join(json.dumps(event(r), ensure_ascii=False).encode() for r in records)
        failed = []
        for _ in self.receivers:  # the one in use, then each other once
            try:
                self._send(data + b"\n")
                return
            except OSError as exc:
                self.close()
                failed.append(f"{self._where()}: {exc.strerror or exc}")
                self._next()
        raise SinkError(f"logstash at {'; '.join(failed)}")

    def _send(self, data: bytes) -> None:
        if self._conn is not None and _closed_by_peer(self._conn):
            self.close()  # the receiver went away: what we send now would be lost
        if self._conn is None:
            self._conn = socket.create_connection(
                self.receivers[self._current], timeout=self.options["timeout"]
            )
            if len(self.receivers) > 1:
                LOG.info("logstash: sending to %s", self._where())
        self._conn.sendall(data)

    def _next(self) -> None:
        self._current = (self._current + 1) % len(self.receivers)

    def _where(self) -> str:
        address, port = self.receivers[self._current]
        return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"

    def _send_datagrams(self, records: Sequence[LogRecord]) -> None:
        """One datagram per event; what the kernel refuses is counted, the rest goes on
        (to the next receiver from the next batch on)."""
        where = self._where()
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                *self.receivers[self._current], type=socket.SOCK_DGRAM
            )[0]
            udp = socket.socket(family, kind, proto)
        except OSError as exc:  # no such host: nothing could be sent, try again later
            self._next()
            raise SinkError(f"logstash at {where}: {exc.strerror or exc}") from None
        failed: list[str] = []
        with udp:
            udp.settimeout(self.options["timeout"])
            # Connected, so that ICMP "port unreachable" comes back as an error.
            try:
                udp.connect(address)
            except OSError as exc:
                self._next()
                raise SinkError(f"logstash at {where}: {exc.strerror or exc}") from None
            for record in records:
                datagram = fit(event(record), self.options["max_datagram"])
                try:
                    udp.send(datagram)
                except OSError as exc:
                    failed.append(exc.strerror or str(exc))
        if failed:
            self.send_errors += len(failed)
            self._next()
            LOG.warning(
                "logstash at %s (udp): %d of %d events not sent (%s); UDP does not retry",
                where,
                len(failed),
                len(records),
                failed[-1],
            )

    def close(self) -> None:
        """Drop the connection; the next batch opens a new one."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def receivers(hosts: str, port: int) -> list[tuple[str, int]]:
    """``ADDRESS[:PORT],...`` as (address, port) pairs; ``[v6]:PORT`` for IPv6 with a port.

    :raises UsageError: an empty address or a port that is not one
    """
    found = []
    for item in hosts.split(","):
        text, own = item.strip(), None
        if text.startswith("["):
            text, _, rest = text[1:].partition("]")
            own = rest[1:] if rest.startswith(":") else rest or None
        elif text.count(":") == 1:
            text, own = text.split(":")
        try:
            number = port if own is None else int(own)
        except ValueError:
            number = 0
        if not text or not 1 <= number <= 65535:
            raise UsageError(f"sink 'logstash': host {item.strip()!r} is not ADDRESS[:PORT]")
        found.append((text, number))
    return found


def fit(fields: dict[str, Any], limit: int) -> bytes:
    """An event as JSON of at most ``limit`` bytes: if it is larger, its longest
    string fields are cut (ending in "...") and it is tagged ``truncated``."""
    data = json.dumps(fields, ensure_ascii=False).encode()
    if len(data) <= limit:
        return data
    fields = {**fields, "tags": [*fields.get("tags", []), "truncated"]}
    for _ in range(len(fields) + 1):
        data = json.dumps(fields, ensure_ascii=False).encode()
        excess = len(data) - limit
        if excess <= 0:
            return data
        texts = [k for k, v in fields.items() if isinstance(v, str) and len(v) > 16]
        if not texts:
            break
        key = max(texts, key=lambda k: len(fields[k]))
        value = fields[key].encode()
        # JSON may escape some characters: cut a little more than the excess.
        keep = max(0, len(value) - excess - excess // 8 - 16)
        fields[key] = value[:keep].decode("utf-8", "ignore") + "..."
    # Nothing long left to cut (very many short fields): the essentials only.
    essentials = ("@timestamp", "@version", "type", "host", "path", "level", "tags")
    small = {k: fields[k] for k in essentials if k in fields}
    for key, value in small.items():
        if isinstance(value, str):
            small[key] = value[:64]
    message = str(fields.get("message", "")).encode()[: limit // 4]
    small["message"] = message.decode("utf-8", "ignore") + "..."
    return json.dumps(small, ensure_ascii=False).encode()


def _closed_by_peer(conn: socket.socket) -> bool:
    """True when the receiver closed or reset the connection since the last batch.

    json_lines has no acknowledgement: bytes written into a connection the
    peer already closed are accepted by the kernel and lost, so look first.
    """
    import select

    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
