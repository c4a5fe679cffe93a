"""Log commands on hostile input: streams, huge lines, broken gzip, partial lines, UDP limits."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from helpers import OSOPS, run_osops
from hostile import ship_udp
from hypothesis import given, settings
from hypothesis import strategies as st
from measure import run_measured

from osops.exceptions import LogError
from osops.log import parallel, pipeline

LINE = "2024-05-02 09:14:03.{n:03d} 812 INFO nova.compute.manager [-] event {n}\n"


def lines(count: int, start: int = 0) -> str:
    return "".join(LINE.format(n=n) for n in range(start, start + count))


def messages(jsonl: str) -> list[str]:
    return [json.loads(row)["message"] for row in jsonl.splitlines()]


# Streams: '-' is standard input; pipes, FIFOs and /proc files are read as they come.


@pytest.mark.parametrize("path", ["-", "/dev/stdin"])
def test_parse_reads_standard_input(path: str) -> None:
    proc = subprocess.run(
        [str(OSOPS), "log", "parse", path],
        input=lines(3) + LINE.format(n=3).rstrip("\n"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert messages(proc.stdout) == ["event 0", "event 1", "event 2", "event 3"]


def test_parse_reads_a_fifo_and_a_proc_file(tmp_path: Path) -> None:
    fifo = tmp_path / "nova.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w") as fh:
            fh.write(lines(5))

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    proc = run_osops("log", "parse", str(fifo), "-j", "2")
    writer.join(10)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 5
    proc = run_osops("log", "parse", "/proc/self/mountinfo")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) > 1


def test_stats_trace_and_ship_read_standard_input(tmp_path: Path) -> None:
    text = (
        "2024-05-02 09:14:03.000 812 INFO nova.api [req-1 - - - - -] asked\n"
        "2024-05-02 09:14:03.100 812 ERROR nova.api [req-1 - - - - -] failed\n"
        "2024-05-02 09:14:03.200 812 INFO nova.api [req-2 - - - - -] other\n"
    )

    def osops(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(OSOPS), *args], input=text, capture_output=True, text=True, timeout=60
        )

    stats = osops("log", "stats", "-", "--format", "json")
    assert json.loads(stats.stdout)["records"] == 3, stats.stderr
    trace = osops("log", "trace", "req-1", "-", "-f", "value", "-c", "Message")
    assert trace.stdout.splitlines() == ["asked", "failed"], trace.stderr
    out = tmp_path / "out.jsonl"
    ship = osops("log", "ship", "-", "--option", f"path={out}", "--state", str(tmp_path / "s"))
    assert ship.returncode == 0, ship.stderr
    assert messages(out.read_text()) == ["asked", "failed", "other"]
    assert not (tmp_path / "s").exists()  # a stream cannot be resumed: no entry for it


# Lines too long: linear, bounded, cut and marked, the same whichever path reads them.


def test_a_huge_line_is_linear_bounded_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "huge.log"
    with open(path, "wb") as fh:
        fh.write(b"before\n" + b"x" * (50 << 20))  # 50 MB, no newline
    for argv in (["log", "parse", str(path)], ["log", "parse", str(path), "--format", "text"]):
        done = run_measured([str(OSOPS), *argv], 60, 2 << 30)
        assert done.returncode == 0, done
        assert done.cpu < 5 and done.rss_mib < 150, done  # was 23 s at 100 MB, 5.5x its size
        assert "[truncated by osops: line of 52428800 bytes]" in done.stdout
    out = tmp_path / "out.jsonl"
    done = run_measured(
        [str(OSOPS), "log", "ship", str(path), "--option", f"path={out}"], 60, 2 << 30
    )
    assert done.returncode == 0 and done.rss_mib < 150, done
    shipped = messages(out.read_text())
    assert shipped[0] == "before"
    assert shipped[1] == "x" * (1 << 20) + " [truncated by osops: line of 52428800 bytes]"


def test_max_line_size_is_an_option(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("short\n" + "y" * 30 + "\nlast\n")
    proc = run_osops("log", "parse", str(path), "--max-line-size", "10", "--format", "text")
    assert proc.stdout.splitlines() == [
        f"{path}:1: (unparsed) short",
        f"{path}:2: (unparsed) yyyyyyyyyy [truncated by osops: line of 30 bytes]",
        f"{path}:3: (unparsed) last",
    ]
    bad = run_osops("log", "parse", str(path), "--max-line-size", "0")
    assert bad.returncode == 2 and "--max-line-size: 0: must be from 1 to" in bad.stderr


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 300), min_size=1, max_size=12),
    limit=st.integers(1, 120),
    piece=st.integers(1, 500),
    last=st.booleans(),
)
def test_long_lines_cut_alike_fused_and_record_by_record(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int], limit: int, piece: int, last: bool
) -> None:
    # Records with long messages, and long lines no grammar knows (continuations).
    parts = [
        LINE.format(n=n).rstrip("\n") + " " + "z" * size if n % 2 == 0 else "  z" + "z" * size
        for n, size in enumerate(sizes)
    ]
    data = "\n".join(parts).encode() + (b"" if last else b"\n")
    path = tmp_path_factory.mktemp("long") / "long.nova-api.log"
    path.write_bytes(data)
    chain = pipeline.build_chain(None, max_line=limit)
    expected = b"".join(parallel.record_by_record(chain, str(path)))
    fused = chain.fused()
    assert fused is not None and fused.max_line == limit
    for size in (1 << 30, piece):
        ranges = list(parallel.pieces(fused, str(path), size))
        out = b"".join(b"".join(fused.serialize(str(path), *r)) for r in ranges)
        assert out == expected


def test_fused_blocks_skip_a_long_line_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "x.nova-api.log"
    path.write_bytes(b"a\n" + b"q" * (3 << 20) + b"\nb\n")  # 12 blocks of one line
    chain = pipeline.build_chain(None, max_line=1000)
    fused = chain.fused()
    assert fused is not None
    out = b"".join(fused.serialize(str(path), 0, path.stat().st_size, 0))
    rows = [json.loads(row) for row in out.splitlines()]
    assert [r["message"] for r in rows] == [
        "a",
        "q" * 1000 + " [truncated by osops: line of 3145728 bytes]",
        "b",
    ]
    assert [r["log.offset"] for r in rows] == [0, 2, 2 + (3 << 20) + 1]


# Compressed files: read through gzip everywhere, errors name the file.


def test_ship_reads_gzip_and_checkpoints_uncompressed_offsets(tmp_path: Path) -> None:
    path, out, state = tmp_path / "a.log.gz", tmp_path / "out.jsonl", tmp_path / "state.json"
    with gzip.open(path, "wt") as fh:
        fh.write(lines(20))
    args = ["log", "ship", str(path), "--option", f"path={out}", "--state", str(state)]
    proc = run_osops(*args, "--format", "json")
    assert json.loads(proc.stdout)["shipped"] == 20, proc.stderr
    assert messages(out.read_text()) == [f"event {n}" for n in range(20)]
    saved = json.loads(state.read_text())["files"][str(path)]
    assert saved == {"inode": path.stat().st_ino, "offset": len(lines(20)), "line": 20}
    assert saved["offset"] > path.stat().st_size  # uncompressed bytes
    assert json.loads(run_osops(*args, "--format", "json").stdout)["shipped"] == 0
    # Following a compressed file reads it to its end and stops: it never grows.
    proc = run_osops(*args, "--follow", "--format", "json", timeout=30)
    assert (proc.returncode, json.loads(proc.stdout)["shipped"]) == (0, 0)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("cut", "Compressed file ended before the end-of-stream marker was reached"),
        ("plain", "Not a gzipped file (b'20')"),
    ],
)
@pytest.mark.parametrize("command", ["parse", "ship"])
def test_broken_gzip_is_named(tmp_path: Path, content: str, problem: str, command: str) -> None:
    path = tmp_path / "a.log.gz"
    whole = gzip.compress(lines(2000).encode())
    path.write_bytes(whole[: len(whole) // 2] if content == "cut" else lines(3).encode())
    args = ["log", command, str(path)]
    if command == "ship":
        args += ["--option", f"path={tmp_path / 'out.jsonl'}"]
    proc = run_osops(*args)
    assert (proc.returncode, proc.stderr.splitlines()[-1]) == (1, f"{path}: {problem}")
    with pytest.raises(LogError, match=f"^{path}: "):
        list(pipeline.read(str(path)))


# Partial last lines: a record at the end of input, once.


def test_ship_sends_a_last_line_without_newline(tmp_path: Path) -> None:
    path, out, state = tmp_path / "a.log", tmp_path / "out.jsonl", tmp_path / "state.json"
    path.write_text(lines(3) + "2024-05-02 09:14:04.000 812 INFO nova.api [-] tail")
    args = ["log", "ship", str(path), "--option", f"path={out}", "--state", str(state)]
    assert run_osops(*args).returncode == 0
    assert messages(out.read_text())[-1] == "tail"
    assert json.loads(state.read_text())["files"][str(path)]["offset"] == path.stat().st_size
    with open(path, "a") as fh:
        fh.write(" and more\n" + lines(1, 7))
    assert run_osops(*args).returncode == 0  # the rest is a line of its own, never the whole again
    assert messages(out.read_text())[3:] == ["tail", " and more", "event 7"]


# The state file: checked before anything is shipped.


@pytest.mark.parametrize("where", ["/proc/nope/state.json", "fifo"])
def test_unwritable_state_ships_nothing(tmp_path: Path, where: str) -> None:
    path, out = tmp_path / "a.log", tmp_path / "out.jsonl"
    path.write_text(lines(600))
    if where == "fifo":
        where = str(tmp_path / "state.fifo")
        os.mkfifo(where)
        problem = "a FIFO, not a regular file"
    else:
        problem = "No such file or directory (/proc/nope)"
    proc = run_osops("log", "ship", str(path), "--option", f"path={out}", "--state", where)
    assert (proc.returncode, proc.stderr) == (1, f"--state {where}: {problem}\n")
    assert not out.exists()  # old code shipped 500 records, then failed: a rerun duplicated them


# UDP: an event too big for a datagram is cut, marked, and the rest flows; errors are counted.


def test_udp_cuts_an_oversized_event_and_the_rest_flows(tmp_path: Path) -> None:
    path, state = tmp_path / "a.log", tmp_path / "state.json"
    huge = LINE.format(n=9).replace("event", "huge " + "h" * 100_000)
    path.write_text(lines(2) + huge + lines(2, 2))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        port = receiver.getsockname()[1]
        proc = run_osops(*ship_udp(path, port, "--state", str(state)), timeout=60)
        events = [json.loads(receiver.recv(70000)) for _ in range(5)]
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["shipped"] == 5
    assert [e["message"][:8] for e in events] == [
        "event 0",
        "event 1",
        "huge hhh",
        "event 2",
        "event 3",
    ]
    huge = events[2]
    assert "truncated" in huge["tags"] and huge["message"].endswith("...")
    assert len(json.dumps(huge, ensure_ascii=False).encode()) <= 65507
    assert json.loads(state.read_text())["files"][str(path)]["line"] == 5


def test_udp_to_a_closed_port_counts_send_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text(lines(50))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    proc = run_osops(*ship_udp(path, port))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    # Loopback answers with ICMP at once: every other send is refused, and said so.
    assert summary["shipped"] == 50 and summary["send_errors"] >= 20, summary
