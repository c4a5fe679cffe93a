"""The logstash sink: events in python-logstash's format, over TCP json_lines, UDP or AMQP."""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from osops.log.base import Sink
from osops.log.record import LogRecord
from osops.options import Argument
from osops_logging.logstash_transports import (
    UDP_MAX,
    Amqp,
    Datagrams,
    JsonLines,
    fit,
    receivers,
)

__all__ = ["PORTS", "UDP_MAX", "Logstash", "event", "fit", "receivers"]

LOG = logging.getLogger(__name__)


def event(record: LogRecord) -> dict[str, Any]:
    """python-logstash's version 1 event (``@version``, ``message``, ``host``, ``path``,
    ``tags``, ``type``, ``level``, ``logger_name``) with the record's ECS fields.

    Key for key what python-logstash's LogstashFormatterVersion1 makes of the
    record logged with its fields as extra fields (tests/contrib/logging/
    test_logstash_format.py); a record with no time of its own (a line no
    grammar knows) gets, as there, the time it is sent, in UTC.
    """
    fields = record.to_dict()
    if "@timestamp" not in fields:
        now = datetime.datetime.now(datetime.UTC)
        fields["@timestamp"] = (
            now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        )
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


#: Ports by protocol: python-logstash's TCP and UDP handlers', AMQP's.
PORTS = {"tcp": 5959, "udp": 5959, "amqp": 5672}


class Logstash(Sink):
    """Send events to Logstash (or rsyslog, Fluentd): TCP json_lines, UDP, or AMQP (RabbitMQ).

    UDP has no acknowledgement and no retry: a datagram the kernel accepted is
    counted as sent, whether or not anything received it; sends the kernel
    refuses (the receiver's port closed, as ICMP told it) are counted as send
    errors and the batch goes on. An event larger than ``max-datagram`` has its
    longest fields cut to fit and is tagged ``truncated``.

    Several receivers (``host=a,b:5960``): each shipper starts at one chosen at
    random, so that many shippers spread over them, and stays with it; when it
    fails (refused, reset, closed), the batch goes to the next one at once, and
    only when every one has failed is the batch refused (and retried later).

    AMQP (for Logstash's rabbitmq input)
    goes through python-logstash's AMQP handler (its connection, channel and
    exchange), one persistent message per event, published ``mandatory`` with
    publisher confirms: a batch counts as accepted once the broker has
    confirmed every event of it to a queue, so a broker restart or an exchange
    no queue is bound to loses nothing (the batch is sent again).
    """

    arguments = (
        Argument(
            "host",
            "Receiver address, or several as ADDRESS[:PORT],... (spread over, failed over; "
            "TCP and UDP).",
            default="127.0.0.1",
        ),
        Argument(
            "port",
            "Receiver port (default 5959, AMQP 5672).",
            type="int",
            min=1,
            max=65535,
        ),
        Argument(
            "protocol",
            "tcp (json_lines codec), udp (json codec) or amqp (Logstash's rabbitmq input).",
            default="tcp",
            choices=("tcp", "udp", "amqp"),
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
        Argument("exchange", "AMQP: the exchange events are published to.", default="logstash"),
        Argument(
            "exchange-type",
            "AMQP: the exchange's type, declared if it does not exist.",
            default="fanout",
            choices=("fanout", "direct", "topic"),
        ),
        Argument("routing-key", "AMQP: the routing key of every event (default none)."),
        Argument("virtual-host", "AMQP: the virtual host.", default="/"),
        Argument("user", "AMQP: user name.", default="guest"),
        Argument("password", "AMQP: password.", default="guest", secret=True),
        Argument(
            "durable",
            "AMQP: declare the exchange durable (it then outlives a broker restart).",
            type="bool",
            default=True,
        ),
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.receivers = receivers(options["host"], self.port)
        protocol, timeout = options["protocol"], options["timeout"]
        # Only the objects: each connects in its first send (no I/O here).
        self._tcp = JsonLines(self.receivers, timeout) if protocol == "tcp" else None
        self._udp = Datagrams(self.receivers, timeout) if protocol == "udp" else None
        self._amqp = Amqp(options, self.port) if protocol == "amqp" else None

    @property
    def port(self) -> int:
        return int(self.options.get("port") or PORTS[self.options["protocol"]])

    def write(self, records: Sequence[LogRecord]) -> None:
        if self._udp is not None:
            self._send_datagrams(self._udp, records)
            return
        bodies = [json.dumps(event(r), ensure_ascii=False).encode() for r in records]
        if self._amqp is not None:
            self._amqp.send(bodies)
            return
        assert self._tcp is not None
        self._tcp.send(b"\n".join(bodies) + b"\n")

    def _send_datagrams(self, udp: Datagrams, records: Sequence[LogRecord]) -> None:
        """One datagram per event; what the kernel refuses is counted, the rest goes on."""
        where = udp.where()
        limit = self.options["max_datagram"]
        failed = udp.send(fit(event(record), limit) for record in records)
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
        for transport in (self._amqp, self._tcp, self._udp):
            if transport is not None:
                transport.close()
