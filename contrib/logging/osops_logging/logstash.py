"""The logstash sink: events in python-logstash's format, over TCP json_lines, UDP or AMQP."""

from __future__ import annotations

import datetime
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

    AMQP (for Logstash's rabbitmq input)
    goes through python-logstash's AMQP handler (its connection, channel and
    exchange), one persistent message per event, published ``mandatory`` with
    publisher confirms: a batch counts as accepted once the broker has
    confirmed every event of it to a queue, so a broker restart or an exchange
    no queue is bound to loses nothing (the batch is sent again).
    """

    arguments = (
        Argument("host", "Receiver address.", default="127.0.0.1"),
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
        self._conn: socket.socket | None = None
        self._amqp: Any = None  # python-logstash's PikaSocket, in confirm mode

    @property
    def port(self) -> int:
        return int(self.options.get("port") or PORTS[self.options["protocol"]])

    def write(self, records: Sequence[LogRecord]) -> None:
        where = f"{self.options['host']}:{self.port}"
        if self.options["protocol"] == "udp":
            self._send_datagrams(records, where)
            return
        if self.options["protocol"] == "amqp":
            self._publish(records, where)
            return
        lines = [json.dumps(event(r), ensure_ascii=False).encode() for r in records]
        try:
            if self._conn is not None and _closed_by_peer(self._conn):
                self.close()  # the receiver went away: what we send now would be lost
            if self._conn is None:
                self._conn = socket.create_connection(
                    (self.options["host"], self.port), timeout=self.options["timeout"]
                )
            self._conn.sendall(b"\n".join(lines) + b"\n")
        except OSError as exc:
            self.close()
            raise SinkError(f"logstash at {where}: {exc.strerror or exc}") from None

    def _send_datagrams(self, records: Sequence[LogRecord], where: str) -> None:
        """One datagram per event; what the kernel refuses is counted, the rest goes on."""
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                self.options["host"], self.port, type=socket.SOCK_DGRAM
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

    def _publish(self, records: Sequence[LogRecord], where: str) -> None:
        """Every event to the exchange, each confirmed by the broker before the next."""
        try:
            import pika.exceptions
            from logstash.handler_amqp import AMQPLogstashHandler
        except ImportError as exc:
            raise SinkError(
                f"logstash protocol=amqp needs {exc.name}, which osops-logging requires "
                "(pip install 'python-logstash>=0.4.8' 'pika>=1.3')"
            ) from None
        bodies = [json.dumps(event(r), ensure_ascii=False).encode() for r in records]
        try:
            if self._amqp is None:
                options = self.options
                handler = AMQPLogstashHandler(
                    host=options["host"],
                    port=self.port,
                    username=options["user"],
                    password=options["password"],
                    exchange=options["exchange"],
                    exchange_type=options["exchange_type"],
                    virtual_host=options["virtual_host"],
                    durable=options["durable"],
                    exchange_routing_key=options["routing_key"] or "",
                    message_type="osops",
                    version=1,
                )
                amqp = handler.makeSocket()  # connects and declares the exchange
                # Confirmed, each publish returns once the broker has the message
                # (persistent: delivery_mode 2) in every queue it routes to; with
                # mandatory, one it routes to no queue is an error, not a loss.
                amqp.channel.confirm_delivery()
                self._amqp = amqp
            amqp = self._amqp
            for body in bodies:
                amqp.channel.basic_publish(
                    amqp.exchange, amqp.routing_key, body, properties=amqp.spec, mandatory=True
                )
        except (pika.exceptions.AMQPError, OSError, ValueError) as exc:
            self._close_amqp()
            raise SinkError(f"logstash at {where} (amqp): {_amqp_error(exc)}") from None

    def _close_amqp(self) -> None:
        amqp, self._amqp = self._amqp, None
        if amqp is not None:
            amqp.close()  # python-logstash's: closes the connection, whatever its state

    def close(self) -> None:
        """Drop the connection; the next batch opens a new one."""
        self._close_amqp()
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def _amqp_error(exc: BaseException) -> str:
    """pika's errors in one line: what the broker said, or what happened to the connection."""
    name = type(exc).__name__
    if name == "UnroutableError":
        return "no queue is bound to the exchange: nothing would receive the events"
    if name == "NackError":
        return "the broker refused the events (nack)"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    reply = getattr(exc, "reply_text", None)  # what the broker said closing the connection
    if reply:
        return f"{name}: {reply}"
    # pika wraps the socket's error, sometimes twice (in args, or as .exception).
    for arg in (*exc.args, getattr(exc, "exception", None)):
        if isinstance(arg, BaseException):
            return _amqp_error(arg)
    text = str(exc).strip() or repr(exc)
    return f"{name}: {text}" if name not in text else text


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
