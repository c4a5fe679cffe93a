"""The logstash sink against rsyslog as a real json_lines receiver, outages included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import OSOPS, SAMPLES, run_osops
from servers import wait_until

from osops.testing import free_port

pytestmark = pytest.mark.integration
NOVA_API = SAMPLES / "hp-ms-01-c29.nova-api.log"


def wait_for(receiver, count: int, deadline: float = 20.0) -> list[dict]:  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        got = receiver.received()
        if len(got) >= count:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{len(receiver.received())} of {count} events arrived")


def _numbered(path: Path, numbers: range) -> None:
    with open(path, "a") as fh:
        for n in numbers:
            fh.write(f"2024-05-02 09:14:03.000 812 INFO nova.api [-] event {n}\n")


def test_tcp_json_lines(rsyslog) -> None:  # type: ignore[no-untyped-def]
    proc = run_osops(
        "log",
        "ship",
        str(NOVA_API),
        "--sink",
        "logstash",
        "--option",
        f"port={rsyslog.tcp}",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    events = wait_for(rsyslog, 2188)
    assert len(events) == 2188
    first = events[0]
    assert first["@version"] == "1" and first["type"] == "osops"
    assert first["log.level"] == "DEBUG" and first["service.name"] == "nova-api"
    assert first["logger_name"] == "keystoneclient.session"
    assert "3dcf524a3d44496b8b3cd6b594c23f47" not in rsyslog.events.read_text()


def test_udp(rsyslog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "a.log"
    log.write_text(
        "".join(
            f"2024-05-02 09:14:03.{n:03d} 812 INFO nova.compute.manager [-] event {n}\n"
            for n in range(50)
        )
    )
    proc = run_osops(
        "log",
        "ship",
        str(log),
        "--sink",
        "logstash",
        "--option",
        "protocol=udp",
        "--option",
        f"port={rsyslog.udp}",
    )
    assert proc.returncode == 0, proc.stderr
    events = wait_for(rsyslog, 50)
    assert sorted(int(e["message"].split()[-1]) for e in events) == list(range(50))


def test_receiver_outage_loses_nothing(rsyslog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log, state = tmp_path / "a.log", tmp_path / "state.json"

    _numbered(log, range(100))
    errors = tmp_path / "shipper.err"
    with errors.open("w") as stderr:  # the shipper keeps its own copy of the descriptor
        shipper = subprocess.Popen(
            [
                str(OSOPS),
                "log",
                "ship",
                str(log),
                "--follow",
                "--state",
                str(state),
                "--sink",
                "logstash",
                "--option",
                f"port={rsyslog.tcp}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    try:
        wait_for(rsyslog, 100)
        rsyslog.stop()
        _numbered(log, range(100, 300))  # written while the receiver is down
        # The shipper has met the outage (it says so) before the receiver comes back.
        wait_until(lambda: "retrying" in errors.read_text(), 20, "the shipper to retry")
        rsyslog.start()
        events = wait_for(rsyslog, 300, deadline=40)
    finally:
        shipper.send_signal(signal.SIGTERM)
        shipper.wait(20)
    numbers = sorted({int(e["message"].split()[-1]) for e in events})
    assert numbers == list(range(300))


def test_receivers_parse() -> None:
    from osops.exceptions import UsageError
    from osops_logging.logstash import receivers

    assert receivers("a, b:5960,[::1]:7,::1", 5959) == [
        ("a", 5959),
        ("b", 5960),
        ("::1", 7),
        ("::1", 5959),
    ]
    for bad in ("a:", "a:x", "a:0", "", "b,", "[::1]:70000", "[::1]x"):
        with pytest.raises(UsageError, match="is not ADDRESS"):
            receivers(bad, 5959)


def test_two_receivers_one_stopped_while_following(rsyslog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The shipper stays with the receiver it picked; stopped, the rest goes to the other."""
    (tmp_path / "other").mkdir()
    other = type(rsyslog)(tmp_path / "other")
    other.start()
    log, state = tmp_path / "a.log", tmp_path / "state.json"

    _numbered(log, range(100))
    hosts = f"127.0.0.1:{rsyslog.tcp},127.0.0.1:{other.tcp}"
    argv = [str(OSOPS), "log", "ship", str(log), "--follow", "--state", str(state)]
    argv += ["--sink", "logstash", "--option", f"host={hosts}", "--format", "json"]
    shipper = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: len(rsyslog.received()) + len(other.received()) == 100, 20, "100")
        used, spare = (rsyslog, other) if rsyslog.received() else (other, rsyslog)
        assert not spare.received()
        used.stop()
        _numbered(log, range(100, 300))  # written with one receiver down
        events = wait_for(spare, 200, deadline=30)
    finally:
        shipper.send_signal(signal.SIGTERM)
        _, err = shipper.communicate(timeout=20)
        other.stop()
    assert shipper.returncode == 0, err
    numbers = [int(e["message"].split()[-1]) for e in used.received() + events]
    assert sorted(numbers) == list(range(300))  # nothing lost, nothing twice
    assert "retrying" not in err  # failed over within the batch, not refused


# AMQP: Logstash's rabbitmq input reads a durable queue bound to the exchange the sink
# publishes to. The suite's RabbitMQ; its queue and exchange are removed afterwards.


def _api(node: Any, method: str, path: str, body: Any = None) -> Any:
    return node.request(method, path, body)


@pytest.fixture
def amqp_queue(rabbitmq_node: Any, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A durable exchange and queue, bound (``bound=False`` leaves the queue unbound)."""
    name = f"osops-{request.node.name[:40]}"
    exchange, queue = f"/api/exchanges/%2F/{name}", f"/api/queues/%2F/{name}"
    _api(rabbitmq_node, "PUT", exchange, {"type": "fanout", "durable": True})
    _api(rabbitmq_node, "PUT", queue, {"durable": True})
    binding = f"/api/bindings/%2F/e/{name}/q/{name}"

    def bind() -> None:
        _api(rabbitmq_node, "POST", binding, {"routing_key": ""})

    def drain() -> list[dict[str, Any]]:
        """Every message in the queue, taken off it."""
        taken: list[dict[str, Any]] = []
        while batch := _api(
            rabbitmq_node,
            "POST",
            f"{queue}/get",
            {"count": 5000, "ackmode": "ack_requeue_false", "encoding": "auto"},
        ):
            taken += [json.loads(message["payload"]) for message in batch]
        return taken

    def ready() -> int:
        return int(_api(rabbitmq_node, "GET", queue).get("messages", 0))

    try:
        yield {
            "name": name,
            "bind": bind,
            "drain": drain,
            "ready": ready,
            "port": rabbitmq_node.amqp,
        }
    finally:
        _api(rabbitmq_node, "DELETE", queue)
        _api(rabbitmq_node, "DELETE", exchange)


def _amqp(port: int, name: str) -> list[str]:
    return [
        "--sink", "logstash", "--option", "protocol=amqp", "--option", f"port={port}",
        "--option", f"exchange={name}", "--option", "user=guest",
    ]  # fmt: skip


def test_amqp_loses_nothing_across_a_broker_restart(
    rabbitmq_node: Any, amqp_queue: dict[str, Any], tmp_path: Path
) -> None:
    amqp_queue["bind"]()
    log, state, errors = tmp_path / "a.log", tmp_path / "state.json", tmp_path / "shipper.err"
    _numbered(log, range(100))
    argv = [str(OSOPS), "log", "ship", str(log), "--follow", "--state", str(state)]
    with errors.open("w") as stderr:
        shipper = subprocess.Popen(
            [*argv, *_amqp(amqp_queue["port"], amqp_queue["name"])],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "OSOPS_PASSWORD": "guest"},
        )
    try:
        # Confirmed events are persistent in a durable queue: they outlive the restart.
        wait_until(lambda: amqp_queue["ready"]() >= 100, 30, "the first 100 events queued")
        _numbered(log, range(100, 3000))  # being shipped while the broker restarts
        wait_until(lambda: amqp_queue["ready"]() > 100, 30, "more events queued")
        rabbitmq_node.restart()
        # Its connection is gone: the next batch fails, is not checkpointed, and is sent
        # again on a new connection.
        _numbered(log, range(3000, 3200))
        wait_until(lambda: "retrying" in errors.read_text(), 30, "the shipper to meet the restart")
        wait_until(lambda: amqp_queue["ready"]() >= 3200, 60, "every event queued")
        # Only what the broker confirmed is checkpointed: all of it, by now.
        wait_until(
            lambda: (
                state.exists()
                and json.loads(state.read_text())["files"][str(log)]["offset"]
                == log.stat().st_size
            ),
            30,
            "the state to reach the end",
        )
    finally:
        shipper.send_signal(signal.SIGTERM)
        shipper.wait(30)
    events = amqp_queue["drain"]()
    numbers = sorted({int(e["message"].split()[-1]) for e in events})
    assert numbers == list(range(3200))  # at least once: a batch in flight may come twice
    assert len(events) >= 3200
    first = next(e for e in events if e["message"] == "event 0")
    assert first["@version"] == "1" and first["type"] == "osops"
    assert first["logger_name"] == "nova.api" and first["path"] == str(log)


def test_amqp_to_an_exchange_without_a_queue_checkpoints_nothing(
    amqp_queue: dict[str, Any], tmp_path: Path
) -> None:
    # The broker would drop what no queue takes: published mandatory, it is refused.
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    _numbered(log, range(20))
    argv = ["log", "ship", str(log), "--state", str(state), "--retry-for", "0"]
    proc = run_osops(*argv, *_amqp(amqp_queue["port"], amqp_queue["name"]))
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .endswith("(amqp): no queue is bound to the exchange: nothing would receive the events")
    )
    assert not state.exists()
    amqp_queue["bind"]()
    proc = run_osops(*argv, *_amqp(amqp_queue["port"], amqp_queue["name"]))
    assert proc.returncode == 0, proc.stderr
    events = amqp_queue["drain"]()
    assert [e["message"] for e in events] == [f"event {n}" for n in range(20)]


def test_amqp_broker_down_is_one_line(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    _numbered(log, range(3))
    port = free_port()
    proc = run_osops("log", "ship", str(log), "--retry-for", "0", *_amqp(port, "x"))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"logstash at 127.0.0.1:{port} (amqp): Connection refused"
    assert len(proc.stderr.strip().splitlines()) == 1
