"""The logstash sink against rsyslog as a real json_lines receiver, outages included."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import OSOPS, SAMPLES, run_osops
from servers import wait_until

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

    def write(numbers: range) -> None:
        with open(log, "a") as fh:
            for n in numbers:
                fh.write(f"2024-05-02 09:14:03.000 812 INFO nova.api [-] event {n}\n")

    write(range(100))
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
        write(range(100, 300))  # written while the receiver is down
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

    def write(numbers: range) -> None:
        with open(log, "a") as fh:
            for n in numbers:
                fh.write(f"2024-05-02 09:14:03.000 812 INFO nova.api [-] event {n}\n")

    write(range(100))
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
        write(range(100, 300))  # written with one receiver down
        events = wait_for(spare, 200, deadline=30)
    finally:
        shipper.send_signal(signal.SIGTERM)
        _, err = shipper.communicate(timeout=20)
        other.stop()
    assert shipper.returncode == 0, err
    numbers = [int(e["message"].split()[-1]) for e in used.received() + events]
    assert sorted(numbers) == list(range(300))  # nothing lost, nothing twice
    assert "retrying" not in err  # failed over within the batch, not refused
