"""osops.testing, the kit plugin authors and osops's own tests use."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from osops.check.base import Check, Perf, metric
from osops.log.base import Sink
from osops.log.record import LogRecord
from osops.testing import (
    PerfItem,
    assert_perfdata_declared,
    fault_server,
    free_port,
    parse_output,
    parse_perfdata,
    receiver,
    records_of,
    run_chain,
    run_check,
    run_sink,
)


def test_perfdata_is_parsed_with_units_exponents_and_quoted_labels() -> None:
    parsed = parse_perfdata(
        "offset=8e-06s;0.5;1;0 'free space'=1.5E+3MB;;;0;2e3 'it''s'=-.5 'rtt[a b]'=U c=7c"
    )
    assert list(parsed.values()) == [
        PerfItem("offset", 8e-06, "s", "0.5", "1", 0.0, None),
        PerfItem("free space", 1500.0, "MB", "", "", 0.0, 2000.0),
        PerfItem("it's", -0.5, ""),
        PerfItem("rtt[a b]", None, ""),
        PerfItem("c", 7.0, "c"),
    ]
    assert parsed["c"] != PerfItem("c", 7.5, "c")  # compared field by field
    with pytest.raises(ValueError, match=r"^not perfdata at '=3'$"):
        parse_perfdata("a=1 =3")


def test_output_is_split_into_state_summary_perfdata_and_long_output() -> None:
    parsed = parse_output("NTP CRITICAL - off by 2s | offset=2s;0.5;1\nserver a\nserver b\n")
    assert parsed == {
        "name": "NTP",
        "state": 2,
        "summary": "off by 2s",
        "perfdata": {"offset": PerfItem("offset", 2.0, "s", "0.5", "1")},
        "long": ("server a", "server b"),
    }
    assert parse_output("Traceback (most recent call last):\n")["state"] is None


class Pair(Check):
    """Two metrics, one per item."""

    perfdata = (
        Perf("offset", "Seconds off.", uom="s", warning="0.5"),
        Perf("stratum", "Stratum per server.", per="server"),
    )
    emit: tuple[str, ...] = ("offset", "stratum")

    def probe(self) -> Iterator[Any]:
        if "offset" in self.emit:
            yield metric("offset", 8e-06)
        if "stratum" in self.emit:
            yield metric("stratum", 2, instance="ntp1")


def test_run_check_in_process_and_as_icinga_does(monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_check("pair", cls=Pair)
    assert (run.exit_code, run.state, run.status_line) == (
        0,
        0,
        "PAIR OK - offset is 8e-06s | offset=0.000008s;0.5 stratum[ntp1]=2",
    )
    assert run.values == {"offset": 8e-06, "stratum[ntp1]": 2.0}
    assert_perfdata_declared(run, Pair)
    dummy = run_check("dummy", "--state", "1", "--text", "hi", process=True)
    assert (dummy.exit_code, dummy.output, dummy.stderr) == (1, "DUMMY WARNING - hi\n", "")


def test_perfdata_declared_equals_emitted_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Pair, "emit", ("offset",))
    run = run_check("pair", cls=Pair)
    with pytest.raises(AssertionError, match=r"^declared but not emitted: stratum$"):
        assert_perfdata_declared(run, Pair)
    assert_perfdata_declared(run, Pair, absent=["stratum"])
    monkeypatch.undo()

    class Fewer(Check):
        """Declares only offset."""

        perfdata = (Perf("offset", "Seconds off.", uom="ms"),)

    with pytest.raises(
        AssertionError, match=r"^emitted but not declared: stratum \(declared: offset\)$"
    ):
        assert_perfdata_declared(run_check("pair", cls=Pair), Fewer)
    monkeypatch.setattr(Fewer, "perfdata", (*Fewer.perfdata, Pair.perfdata[1]))
    with pytest.raises(AssertionError, match=r"^offset printed in 's', declared 'ms'$"):
        assert_perfdata_declared(run_check("pair", cls=Pair), Fewer)


def test_run_chain_takes_names_classes_and_options() -> None:
    records = run_chain(
        ["parse", "redact"],
        [
            "2024-01-02 03:04:05.678 12 INFO nova.api [-] password=hunter2 ok",
            "2024-01-02 03:04:06.000 12 ERROR nova.api [-] failed",
        ],
    )
    assert [(r.level, r.message, r.line) for r in records] == [
        ("INFO", "password=*** ok", 1),
        ("ERROR", "failed", 2),
    ]
    assert [(r.file, r.line, r.offset) for r in records_of("a\nbb\n")] == [
        ("test.log", 1, 0),
        ("test.log", 2, 2),
    ]


class Lines(Sink):
    """Sends each record as a line to a TCP port."""

    batch_size = 2

    def write(self, records: Any) -> None:
        with socket.create_connection(("127.0.0.1", self.options["port"]), 5) as conn:
            conn.sendall(b"".join(b'{"raw": "%s"}\n' % r.raw.encode() for r in records))


def test_the_receiver_counts_what_a_sink_sent() -> None:
    with receiver() as got:
        sink = Lines({"port": got.port})
        for batch in ([LogRecord("a"), LogRecord("b")], [LogRecord("c")]):
            sink.write(batch)
        # One connection per batch, each served by a thread of its own: the batches may
        # arrive in either order, the lines of one batch in theirs.
        lines = got.wait(3)
        assert sorted(lines) == [b'{"raw": "a"}', b'{"raw": "b"}', b'{"raw": "c"}']
        assert lines.index(b'{"raw": "a"}') + 1 == lines.index(b'{"raw": "b"}')
        assert sorted(got.records, key=str) == [{"raw": "a"}, {"raw": "b"}, {"raw": "c"}]
        with pytest.raises(AssertionError, match=r"^3 of 4 lines arrived in 0.2s$"):
            got.wait(4, timeout=0.2)
    with receiver("udp") as got:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"x\ny", ("127.0.0.1", got.port))
        assert got.wait(2) == [b"x", b"y"]


def test_run_sink_delivers_in_batches_and_closes() -> None:
    closed = []

    class Counting(Sink):
        """Counts."""

        batch_size = 2

        def __init__(self, options: Any) -> None:
            super().__init__(options)
            self.batches: list[int] = []

        def write(self, records: Any) -> None:
            self.batches.append(len(records))

        def close(self) -> None:
            closed.append(True)

    sink = run_sink(Counting, records_of("a\nb\nc\n"))
    assert (sink.batches, closed) == ([2, 1], [True])  # type: ignore[attr-defined]


def test_free_ports_are_outside_the_ephemeral_range_and_never_given_twice() -> None:
    """Outgoing connections take ephemeral ports: a daemon's port is never one of them."""
    from osops.testing import servers

    low = servers._ephemeral_low()
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == 200
    assert all(servers.LOWEST <= port < low for port in ports), (low, min(ports), max(ports))
    # Taken for TCP or UDP, on 127.0.0.1 or ::1, a port is not given.
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", ports[0] + 1))
        udp.bind(("127.0.0.1", ports[0] + 2))
        assert not servers._unused(ports[0] + 1)
        assert not servers._unused(ports[0] + 2)
    if socket.has_ipv6:
        with socket.socket(socket.AF_INET6) as tcp6:
            try:
                tcp6.bind(("::1", ports[1]))
            except OSError:
                pass  # no ::1 on this machine
            else:
                assert not servers._unused(ports[1])
    # Two processes seeding random alike (hypothesis does) still pick other ports.
    seeded = (
        "import random; random.seed(7); from osops.testing import free_port; print(free_port())"
    )
    picked = {
        subprocess.run(
            [sys.executable, "-c", seeded], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        for _ in range(3)
    }
    assert len(picked) == 3, picked


def test_fault_servers() -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", free_port()), 1)
    with fault_server("silent") as port, socket.create_connection(("127.0.0.1", port), 1) as conn:
        conn.settimeout(0.3)
        with pytest.raises(TimeoutError):
            conn.recv(1)
    with fault_server("hang") as port, socket.create_connection(("127.0.0.1", port), 1) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\n\r\n")
        conn.settimeout(0.5)
        head = conn.recv(100)
        assert head == b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
        with pytest.raises(TimeoutError):
            conn.recv(1)
    with fault_server("trickle", 0.1) as port, socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(b"GET / HTTP/1.1\r\n\r\n")
        started, body = time.monotonic(), b""
        c.settimeout(1)
        while body.count(b"x") < 3:
            body += c.recv(100)
        assert 0.15 < time.monotonic() - started < 1.0
    refused = r"^fault_server: 'loud' is not silent, hang or trickle$"
    with pytest.raises(ValueError, match=refused), fault_server("loud"):
        pass


def test_the_pytest_plugin_is_loaded_from_its_entry_point(tmp_path: Path) -> None:
    (tmp_path / "test_author.py").write_text(
        "import socket\n"
        "def test_fixtures(free_port, sink_receiver, silent_server, fault_server):\n"
        "    assert isinstance(free_port, int) and sink_receiver.port and silent_server\n"
        "    with fault_server('hang') as port:\n"
        "        assert port\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout
    assert "1 passed" in proc.stdout
