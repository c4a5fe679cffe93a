"""The logstash sink: events in python-logstash's format, TCP json_lines or UDP."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from osops.exceptions import SinkError
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
    """

    arguments = (
        Argument("host", "Receiver address.", default="127.0.0.1"),
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

    def write(self, records: Sequence[LogRecord]) -> None:
        where = f"{self.options['host']}:{self.options['port']}"
        if self.options["protocol"] == "udp":
            self._send_datagrams(records, where)
            return
        lines = [json.dumps(event(r), ensure_ascii=False).encode() for r in records]
        try:
            if self._conn is not None and _closed_by_peer(self._conn):
                self.close()  # the receiver went away: what we send now would be lost
            if self._conn is None:
                self._conn = socket.create_connection(
                    (self.options["host"], self.options["port"]), timeout=self.options["timeout"]
                )
            self._conn.sendall(b"\n".join(lines) + b"\n")
        except OSError as exc:
            self.close()
            raise SinkError(f"logstash at {where}: {exc.strerror or exc}") from None

    def _send_datagrams(self, records: Sequence[LogRecord], where: str) -> None:
        """One datagram per event; what the kernel refuses is counted, the rest goes on."""
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                self.options["host"], self.options["port"], type=socket.SOCK_DGRAM
            )[0]
            udp = socket.socket(family, kind, proto)
        except OSError as exc:  # no such host: nothing could be sent, try again later
            raise SinkError(f"logstash at {where}: {exc.strerror or exc}") from None
        failed: list[str] = []
        with udp:
            udp.settimeout(self.options["timeout"])
            # Connected, so that ICMP "port unreachable" comes back as an error.
            try:
                udp.connect(address)
            except OSError as exc:
                raise SinkError(f"logstash at {where}: {exc.strerror or exc}") from None
            for record in records:
                datagram = fit(event(record), self.options["max_datagram"])
                try:
                    udp.send(datagram)
                except OSError as exc:
                    failed.append(exc.strerror or str(exc))
        if failed:
            self.send_errors += len(failed)
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
