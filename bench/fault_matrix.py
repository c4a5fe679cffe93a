"""Every fault of issue 14 against the installed osops: state, exit code, wall time, peak RSS.

    .venv/bin/python bench/fault_matrix.py

Misbehaving servers run on 127.0.0.1 (tests/hostile.py); each case runs the
``osops`` beside this interpreter in a child bounded to 1 GiB of address
space and 60 s (tests/measure.py), whose own rusage is reported. Nothing
outside a temporary directory is written: devices are reached through links.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import hostile
from measure import Measured, run_measured

OSOPS = str(Path(sys.executable).parent / "osops")
#: Seconds a case may run before it is killed (a hang, in the table as KILLED).
DEADLINE = 20.0
LINE = "2024-05-02 09:14:03.{n:03d} 812 INFO nova.compute.manager [-] event {n}\n"
BOMB = (
    "[&a [x, x, x, x, x, x, x, x, x], "
    + ", ".join(
        f"&{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "]"
)

#: One case: its name, and a function of the work directory that runs it.
Case = tuple[str, Callable[[Path], Measured]]


def osops(*args: str, stdin: Any = subprocess.DEVNULL, stdout: Any = None) -> Measured:
    return run_measured([OSOPS, *args], DEADLINE, 1 << 30, stdin=stdin, stdout=stdout)


@contextlib.contextmanager
def server(behaviour: hostile.Behaviour) -> Iterator[str]:
    with hostile.serve(behaviour) as port:
        yield f"http://127.0.0.1:{port}"


def served(behaviour: hostile.Behaviour, *args: str) -> Callable[[Path], Measured]:
    def run(work: Path) -> Measured:
        with server(behaviour) as url:
            host = url.removeprefix("http://")
            return osops(*(a.format(url=url, host=host) for a in args))

    return run


def suite(text: str, behaviour: hostile.Behaviour) -> Callable[[Path], Measured]:
    def run(work: Path) -> Measured:
        with server(behaviour) as url:
            path = work / "suite.yaml"
            path.write_text(text.format(url=url))
            return osops("check", "suite", str(path), "-f", "value", "-c", "Name", "-c", "State")

    return run


def hung_suite(work: Path) -> Measured:
    with socket.socket() as listener:  # accepts, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        path = work / "suite.yaml"
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        path.write_text(
            "timeout: 1\nconcurrency: 1\nchecks:\n"
            f"  - {{check: http, name: hung1, options: {{url: '{url}'}}}}\n"
            f"  - {{check: http, name: hung2, options: {{url: '{url}'}}}}\n"
            "  - {check: dummy, name: queued}\n"
        )
        return osops("check", "suite", str(path), "-f", "value", "-c", "Name", "-c", "State")


def dev_full(work: Path) -> Measured:
    with open("/dev/full", "w") as full:
        return osops("check", "run", "dummy", stdout=full)


def stdin_parse(work: Path) -> Measured:
    path = work / "in.log"
    path.write_text("".join(LINE.format(n=n) for n in range(100)))
    with open(path) as fh:
        return osops("log", "parse", "-", stdin=fh)


def fifo_parse(work: Path) -> Measured:
    fifo = work / "in.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), open(fifo, "w") as fh:  # a reader gone
            fh.write("".join(LINE.format(n=n) for n in range(100)))

    threading.Thread(target=feed, daemon=True).start()
    return osops("log", "parse", str(fifo))


def huge_line(work: Path) -> Measured:
    path = work / "huge.log"
    with open(path, "wb") as fh:
        fh.write(b"x" * (50 << 20))
    return osops("log", "parse", str(path), "-o", str(work / "out.jsonl"))


def ship_gz(work: Path) -> Measured:
    path = work / "a.log.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("".join(LINE.format(n=n) for n in range(1000)))
    out = work / "out.jsonl"
    return osops("log", "ship", str(path), "--option", f"path={out}", "--format", "json")


def ship_partial(work: Path) -> Measured:
    path = work / "a.log"
    path.write_text(LINE.format(n=1) + LINE.format(n=2).rstrip("\n"))
    out = work / "out.jsonl"
    return osops("log", "ship", str(path), "--option", f"path={out}", "--format", "json")


def broken_gz(work: Path) -> Measured:
    path = work / "cut.log.gz"
    whole = gzip.compress("".join(LINE.format(n=n) for n in range(5000)).encode())
    path.write_bytes(whole[: len(whole) // 2])
    return osops("log", "parse", str(path), "-o", str(work / "out.jsonl"))


def udp_oversized(work: Path) -> Measured:
    path = work / "a.log"
    path.write_text(LINE.format(n=1).replace("event", "h" * 100_000) + LINE.format(n=2))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        port = receiver.getsockname()[1]
        return osops(*hostile.ship_udp(path, port))


def state_unwritable(work: Path) -> Measured:
    path = work / "a.log"
    path.write_text("".join(LINE.format(n=n) for n in range(600)))
    out = work / "out.jsonl"
    return osops("log", "ship", str(path), "--option", f"path={out}", "--state", "/proc/nope/x")


def output_device(work: Path) -> Measured:
    link = work / "full"
    link.symlink_to("/dev/full")
    return osops("check", "export", "-o", str(link), "dummy")


def bomb_config(work: Path) -> Measured:
    path = work / "bomb.yaml"
    path.write_text(f"text: {BOMB}\n")
    return osops("check", "run", "dummy", "--config", str(path))


def bomb_dashboard(work: Path) -> Measured:
    path = work / "bomb.yaml"
    path.write_text(f"title: boom\nrows: {BOMB}\n")
    return osops("dashboard", "validate", str(path), "-f", "value")


def validate_every_file(work: Path) -> Measured:
    (work / "dir.yaml").mkdir()
    (work / "bin.yaml").write_bytes(b"\xff\xfe")
    return osops(
        "dashboard", "validate", str(work / "missing.yaml"), str(work / "dir.yaml"),
        str(work / "bin.yaml"), "-f", "value",
    )  # fmt: skip


def suite_nan(work: Path) -> Measured:
    path = work / "suite.yaml"
    path.write_text("timeout: .nan\nchecks:\n  - {check: dummy}\n")
    return osops("check", "suite", str(path))


TRICKLE_SUITE = (
    "timeout: 1\nchecks:\n  - {{check: http, name: trickle, options: {{url: '{url}/'}}}}\n"
)

CASES: list[Case] = [
    ("http endless body", served(hostile.endless(), "check", "run", "http", "--url", "{url}/")),
    (
        "http endless chunked",
        served(hostile.endless(chunked=True), "check", "run", "http", "--url", "{url}/"),
    ),
    (
        "http trickle -t 2",
        served(hostile.trickle(), "check", "run", "http", "--url", "{url}/", "-t", "2"),
    ),
    (
        "haproxy endless page",
        served(hostile.endless(), "check", "run", "haproxy", "--url", "{url}/stats"),
    ),
    (
        "rabbitmq endless API",
        served(hostile.endless(chunked=True), "check", "run", "rabbitmq", "--url", "{url}"),
    ),
    ("suite, trickle, timeout 1", suite(TRICKLE_SUITE, hostile.trickle())),
    ("suite, queued behind hung", hung_suite),
    ("check run dummy >/dev/full", dev_full),
    (
        "http redirect loop",
        served(hostile.redirect_loop("/a", "/b"), "check", "run", "http", "--url", "{url}/a"),
    ),
    (
        "http NUL/0xFF reason",
        served(
            hostile.raw(b"HTTP/1.1 200 O\x00K\xff\r\nContent-Length: 0\r\n\r\n"),
            *("check", "run", "http", "--url", "{url}/"),
        ),
    ),
    (
        "http --cacert /nonexistent",
        served(
            hostile.raw(b""),
            *("check", "run", "http", "--url", "https://{host}/", "--cacert", "/nonexistent.pem"),
        ),
    ),
    (
        "http --regex '('",
        served(hostile.raw(b""), "check", "run", "http", "--url", "{url}/", "--regex", "("),
    ),
    ("log parse - (stdin)", stdin_parse),
    ("log parse FIFO", fifo_parse),
    ("log parse 50 MB line", huge_line),
    ("log parse cut .gz", broken_gz),
    ("log ship .gz", ship_gz),
    ("log ship partial last line", ship_partial),
    ("log ship udp 100 kB event", udp_oversized),
    ("log ship --state /proc/nope/x", state_unwritable),
    ("check export -o ->/dev/full", output_device),
    ("check run --config alias bomb", bomb_config),
    ("dashboard validate bomb", bomb_dashboard),
    ("dashboard validate A B C", validate_every_file),
    ("timeout: .nan in a suite file", suite_nan),
]


STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")


def outcome(name: str, done: Measured) -> tuple[str, str]:
    """The state (a check's exit code; else ok or error) and what it printed, in one line."""
    text = " / ".join((done.stdout.strip() or done.stderr.strip()).splitlines())
    if done.killed:
        return "KILLED", text
    checks = name.startswith(("http", "haproxy", "rabbitmq", "suite", "check run"))
    if checks and 0 <= done.returncode < len(STATES):
        return STATES[done.returncode], text
    return ("ok" if done.returncode == 0 else "error"), text


def main() -> None:
    global OSOPS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--width", type=int, default=70, help="of the output column")
    parser.add_argument("--osops", default=OSOPS, help="the osops to run (default: this venv's)")
    args = parser.parse_args()
    OSOPS = args.osops
    rows = []
    for name, run in CASES:
        if args.only and args.only not in name:
            continue
        with tempfile.TemporaryDirectory(prefix="osops-faults-") as work:
            done = run(Path(work))
        state, first = outcome(name, done)
        rows.append((name, state, done.returncode, done.wall, done.rss_mib, first))
    print(f"osops: {OSOPS}; {len(rows)} cases ({shlex.join(sys.argv)})")
    print("| case | state | exit | wall s | peak RSS MiB | output |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, state, code, wall, rss, first in rows:
        shown = first if len(first) <= args.width else first[: args.width - 3] + "..."
        shown = shown.replace("|", "\\|")
        print(f"| {name} | {state} | {code} | {wall:.2f} | {rss:.0f} | {shown} |")


if __name__ == "__main__":
    main()
