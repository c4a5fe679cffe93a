"""The progress line of log parse, stats and ship: on a terminal only, and nothing imported else."""

from __future__ import annotations

import errno
import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from helpers import OSOPS, SAMPLES

from osops.log import progress
from osops.log.record import LogRecord

LOG = SAMPLES / "hp-ms-01-c29.nova-api.log"


def on_a_terminal(*argv: str, cwd: Path) -> tuple[int, str, bytes]:
    """Run osops with standard error on a terminal (120 columns) and standard output a pipe.

    :returns: exit code, what the terminal showed, standard output
    """
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    # Every update drawn (tqdm reads its defaults from TQDM_*): a short run shows them too.
    env = {**os.environ, "TQDM_MININTERVAL": "0", "TERM": "xterm"}
    proc = subprocess.Popen(
        [str(OSOPS), *argv], stdout=subprocess.PIPE, stderr=follower, cwd=cwd, env=env
    )
    os.close(follower)
    assert proc.stdout is not None
    out = proc.stdout.fileno()
    # Both read at once, each read waiting at most until the deadline: a child blocked
    # writing to a full terminal would never close its standard output.
    read: dict[int, bytearray] = {leader: bytearray(), out: bytearray()}
    open_fds = {leader, out}
    deadline = time.monotonic() + 60
    try:
        while open_fds:
            left = deadline - time.monotonic()
            assert left > 0, f"osops {argv} still writing after 60 s"
            ready, _, _ = select.select(list(open_fds), [], [], left)
            for fd in ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError as exc:  # EIO: the child closed the terminal's last writer
                    assert exc.errno == errno.EIO
                    chunk = b""
                if chunk:
                    read[fd] += chunk
                else:
                    open_fds.discard(fd)
    except BaseException:
        proc.kill()
        raise
    finally:
        os.close(leader)
    shown, stdout = read[leader], bytes(read[out])
    return proc.wait(timeout=60), shown.decode(errors="replace"), stdout


def test_parse_to_a_file_shows_bytes_records_rate_and_time_left(tmp_path: Path) -> None:
    code, shown, _ = on_a_terminal("log", "parse", str(LOG), "-o", "out.jsonl", cwd=tmp_path)
    assert code == 0
    records = (tmp_path / "out.jsonl").read_bytes().count(b"\n")
    size = LOG.stat().st_size / 1024
    assert f"{records:,} records" in shown  # the last count: every record
    assert f"/{size:.0f}k" in shown or f"/{size / 1024:.2f}M" in shown  # of the total bytes
    assert "B/s" in shown and "<" in shown  # the rate, and the time left
    assert "read: 100%" in shown


def test_parse_in_worker_processes_counts_every_piece(tmp_path: Path) -> None:
    big = tmp_path / "big.nova-api.log"
    big.write_bytes(LOG.read_bytes() * 5)  # cut into pieces for two workers
    code, shown, _ = on_a_terminal("log", "parse", str(big), "-j", "2", "-o", "o", cwd=tmp_path)
    assert code == 0
    records = (tmp_path / "o").read_bytes().count(b"\n")
    assert f"{records:,} records" in shown
    assert "read: 100%" in shown


def test_stats_draws_then_leaves_the_terminal_to_the_report(tmp_path: Path) -> None:
    code, shown, stdout = on_a_terminal("log", "stats", str(LOG), cwd=tmp_path)
    assert code == 0
    assert "records" in shown and "read: 100%" in shown
    assert shown.endswith("\r\x1b[A") or shown.rstrip(" ").endswith("\r")  # the line cleared
    assert stdout.startswith(b"%d records" % int(stdout.split()[0]))


def test_ship_shows_what_the_sink_accepted(tmp_path: Path) -> None:
    out = tmp_path / "shipped.jsonl"
    code, shown, _ = on_a_terminal(
        "log", "ship", str(LOG), "--sink", "jsonl", "--option", f"path={out}", cwd=tmp_path
    )
    assert code == 0
    records = out.read_bytes().count(b"\n")
    assert "shipped: 100%" in shown and f"{records:,} records" in shown


@pytest.mark.parametrize(
    "argv",
    [
        ["log", "parse", str(LOG), "-o", "out.jsonl"],
        ["log", "stats", str(LOG)],
        ["check", "run", "dummy"],
    ],
    ids=["parse", "stats", "check"],
)
def test_into_a_pipe_nothing_is_drawn_and_tqdm_not_imported(
    argv: list[str], tmp_path: Path
) -> None:
    script = (
        "import sys\nfrom osops import shell\ncode = shell.main(sys.argv[1:])\n"
        "sys.stdout.flush()\nsys.stdout.write('tqdm imported: %s' % ('tqdm' in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.stdout.endswith("tqdm imported: False")
    assert done.stderr == ""


def test_a_dumb_terminal_or_no_terminal_is_not_watching() -> None:
    assert not progress.watching(io.StringIO())
    assert not progress.watching(None)
    closed = io.StringIO()
    closed.close()
    assert not progress.watching(closed)


def test_sizes_where_the_files_say_them(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("x" * 100)
    b.write_text("y" * 50)
    assert progress.total_size([str(a), str(b)]) == 150
    assert progress.total_size([str(a), str(b)], [40, 50]) == 60  # resumed: what is left
    assert progress.total_size([str(a), "-"]) is None
    assert progress.total_size([str(a), str(tmp_path / "c.log.gz")]) is None
    assert progress.total_size([str(a), str(tmp_path / "missing.log")]) == 100


def test_records_are_counted_with_the_bytes_they_came_from() -> None:
    seen: list[tuple[int, int]] = []

    class Counting(progress.Progress):
        def __init__(self) -> None:
            self.records = 0

        def advance(self, size: int, records: int) -> None:
            seen.append((size, records))

    def record(file: str, end: int) -> LogRecord:
        made = LogRecord(raw="x", file=file)
        made.end = end
        return made

    records = [record("a", 10 * n) for n in range(1, 300)] + [record("b", 7), record("b", 9)]
    assert list(Counting().records_of(records)) == records
    assert seen == [(2560, 256), (2990 - 2560 + 9, 45)]
