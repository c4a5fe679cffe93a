"""The logstash sink: events in python-logstash's format, TCP json_lines or UDP."""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from osops.exceptions import SinkError
from osops.log.base import Sink
from osops.log.record import LogRecord
from osops.options import Argument


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
    """Send events to Logstash (or rsyslog, Fluentd): TCP json_lines or UDP JSON datagrams."""

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
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._conn: socket.socket | None = None

    def write(self, records: Sequence[LogRecord]) -> None:
        lines = [json.dumps(event(r), ensure_ascii=False).encode() for r in records]
        where = f"{self.options['host']}:{self.options['port']}"
        try:
            if self.options["protocol"] == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    for line in lines:
                        udp.sendto(line, (self.options["host"], self.options["port"]))
                return
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

    def close(self) -> None:
        """Drop the connection; the next batch opens a new one."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


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
