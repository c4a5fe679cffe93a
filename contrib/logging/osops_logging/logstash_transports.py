"""The logstash sink's transports: json_lines over TCP, datagrams over UDP, AMQP with confirms."""

from __future__ import annotations

import json
import logging
import random
import socket
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from osops.exceptions import SinkError, UsageError

LOG = logging.getLogger(__name__)
#: The largest UDP payload over IPv4.
UDP_MAX = 65507


class Receivers:
    """Receivers of TCP or UDP, one in use: the first chosen at random, so that
    many shippers spread over them; :meth:`next` moves on when it fails."""

    def __init__(self, receivers: list[tuple[str, int]], timeout: float) -> None:
        self.receivers = receivers
        self.timeout = timeout
        self.current = random.randrange(len(receivers))  # noqa: S311 (spreading, not secrecy)

    def next(self) -> None:
        self.current = (self.current + 1) % len(self.receivers)

    def where(self) -> str:
        address, port = self.receivers[self.current]
        return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"

    def close(self) -> None:
        """Release what is held; the next send opens anew."""


class JsonLines(Receivers):
    """json_lines over TCP: a connection kept from batch to batch, failed over."""

    def __init__(self, receivers: list[tuple[str, int]], timeout: float) -> None:
        super().__init__(receivers, timeout)
        self._conn: socket.socket | None = None

    def send(self, data: bytes) -> None:
        """The bytes to the receiver in use, else to each other once.

        :raises SinkError: every receiver failed
        """
        failed = []
        for _ in self.receivers:  # the one in use, then each other once
            try:
                self._send(data)
                return
            except OSError as exc:
                self.close()
                failed.append(f"{self.where()}: {exc.strerror or exc}")
                self.next()
        raise SinkError(f"logstash at {'; '.join(failed)}")

    def _send(self, data: bytes) -> None:
        if self._conn is not None and _closed_by_peer(self._conn):
            self.close()  # the receiver went away: what we send now would be lost
        if self._conn is None:
            self._conn = socket.create_connection(
                self.receivers[self.current], timeout=self.timeout
            )
            if len(self.receivers) > 1:
                LOG.info("logstash: sending to %s", self.where())
        self._conn.sendall(data)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class Datagrams(Receivers):
    """Datagrams over UDP: no acknowledgement, no retry."""

    def send(self, datagrams: Iterable[bytes]) -> list[str]:
        """One datagram each to the receiver in use; what the kernel refuses is
        counted, the rest goes on (to the next receiver from the next batch on).

        :returns: why each refused datagram was refused
        :raises SinkError: nothing could be sent (no such host): try again later
        """
        where = self.where()
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                *self.receivers[self.current], type=socket.SOCK_DGRAM
            )[0]
            udp = socket.socket(family, kind, proto)
        except OSError as exc:
            self.next()
            raise SinkError(f"logstash at {where}: {exc.strerror or exc}") from None
        failed: list[str] = []
        with udp:
            udp.settimeout(self.timeout)
            # Connected, so that ICMP "port unreachable" comes back as an error.
            try:
                udp.connect(address)
            except OSError as exc:
                self.next()
                raise SinkError(f"logstash at {where}: {exc.strerror or exc}") from None
            for datagram in datagrams:
                try:
                    udp.send(datagram)
                except OSError as exc:
                    failed.append(exc.strerror or str(exc))
        if failed:
            self.next()
        return failed


class Amqp:
    """python-logstash's AMQP handler's connection, channel and exchange, in confirm mode."""

    def __init__(self, options: Mapping[str, Any], port: int) -> None:
        self.options = options
        self.port = port
        self._amqp: Any = None  # python-logstash's PikaSocket, in confirm mode

    def send(self, bodies: Sequence[bytes]) -> None:
        """Every body to the exchange, each confirmed by the broker before the next.

        :raises SinkError: the broker (or the way to it) did not accept them all
        """
        where = f"{self.options['host']}:{self.port}"
        try:
            import pika.exceptions
            from logstash.handler_amqp import AMQPLogstashHandler
        except ImportError as exc:
            raise SinkError(
                f"logstash protocol=amqp needs {exc.name}, which osops-logging requires "
                "(pip install 'python-logstash>=0.4.8' 'pika>=1.3')"
            ) from None
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
            self.close()
            raise SinkError(f"logstash at {where} (amqp): {_amqp_error(exc)}") from None

    def close(self) -> None:
        amqp, self._amqp = self._amqp, None
        if amqp is not None:
            amqp.close()  # python-logstash's: closes the connection, whatever its state


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
