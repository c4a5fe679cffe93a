"""``osops log ship``: checkpoints only after the sink accepted, resume, rotation, kill -9.

The shipping logic is tested in this process with sinks that record what
they saw and when (no server); a few tests run the command as an operator
does. Nothing waits by sleeping: tests wait, bounded, on a condition (a
record count, a state file's content, a log line).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from helpers import OSOPS, run_osops

from osops.exceptions import LogError, SinkError, UsageError
from osops.log import pipeline, ship
from osops.log.base import Sink
from osops.log.record import LogRecord


def line(n: int) -> str:
    return f"2024-05-02 09:14:{n % 60:02d}.000 812 INFO nova.compute.manager [-] event {n}\n"


def messages(out: Path) -> list[str]:
    """The records a jsonl sink wrote so far: whole lines only, one may be half written."""
    if not out.exists():
        return []
    text = out.read_text()
    return [json.loads(row)["message"] for row in text[: text.rfind("\n") + 1].splitlines()]


def numbers(out: Path) -> list[int]:
    return [int(message.split()[-1]) for message in messages(out)]


def write(path: Path, span: range) -> None:
    with open(path, "a") as fh:
        fh.write("".join(line(n) for n in span))


def wait_until(ready: Callable[[], bool], what: str, deadline: float = 20.0) -> None:
    """Poll a condition, bounded: the only way these tests wait."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if ready():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {deadline}s")


# In-process: ship() with recording sinks.


def saved(state: Path, log: Path) -> dict[str, int] | None:
    if not state.exists():
        return None
    files: dict[str, dict[str, int]] = json.loads(state.read_text())["files"]
    return files.get(str(log))


class Recording(Sink):
    """Accepts every batch; notes, at each write, what the state file then said."""

    batch_size = 10

    def __init__(self, state: Path, log: Path, refuse: Callable[[int], bool] = lambda n: False):
        super().__init__({})
        self.state, self.log, self.refuse = state, log, refuse
        self.calls = 0
        self.accepted: list[list[LogRecord]] = []
        self.seen_state: list[dict[str, int] | None] = []
        self.closed = False

    def write(self, records: Sequence[LogRecord]) -> None:
        self.calls += 1
        assert self.calls < 100, "retried without end"  # fails, not hangs, a test gone wrong
        self.seen_state.append(saved(self.state, self.log))
        if self.refuse(self.calls):
            raise SinkError(f"refused call {self.calls}")
        self.accepted.append(list(records))

    def close(self) -> None:
        self.closed = True


def chain() -> pipeline.Chain:
    return pipeline.build_chain(None)


def test_state_is_saved_only_after_the_sink_accepted(tmp_path: Path) -> None:
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    write(log, range(35))
    sink = Recording(state, log)
    assert ship.ship([str(log)], chain(), sink, ship.State(str(state))) == 35
    ends = [batch[-1].end for batch in sink.accepted]
    assert [len(b) for b in sink.accepted] == [10, 10, 10, 5]
    # While each batch was being written, the state held the batch before it, never this one.
    assert [s and s["offset"] for s in sink.seen_state] == [None, *ends[:-1]]
    assert saved(state, log) == {
        "inode": log.stat().st_ino,
        "offset": log.stat().st_size,
        "line": 35,
    }
    assert sink.closed


def test_a_refused_batch_is_never_checkpointed(tmp_path: Path) -> None:
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    write(log, range(35))
    sink = Recording(state, log, refuse=lambda call: call >= 3)
    with pytest.raises(SinkError, match="refused call 3"):
        ship.ship([str(log)], chain(), sink, ship.State(str(state)), retry_limit=0)
    first_two = sink.accepted[1][-1]
    assert saved(state, log) == {"inode": log.stat().st_ino, "offset": first_two.end, "line": 20}
    # Resuming starts at the first record not accepted.
    sink = Recording(state, log)
    assert ship.ship([str(log)], chain(), sink, ship.State(str(state))) == 15
    assert sink.accepted[0][0].raw == line(20).rstrip("\n")


def test_nothing_accepted_nothing_checkpointed(tmp_path: Path) -> None:
    # Was only caught by an integration test against a search server.
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    write(log, range(5))
    sink = Recording(state, log, refuse=lambda call: True)
    with pytest.raises(SinkError):
        ship.ship([str(log)], chain(), sink, ship.State(str(state)), retry_limit=0)
    assert not state.exists()


def test_the_state_line_counts_every_line_of_the_last_record(tmp_path: Path) -> None:
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    write(log, range(3))
    with open(log, "a") as fh:  # a record of three lines ends the file
        fh.write(
            "2024-05-02 09:15:00.000 812 ERROR nova.compute.manager [-] boom\n"
            "Traceback (most recent call last):\n"
            "ValueError: x\n"
        )
    sink = Recording(state, log)
    assert ship.ship([str(log)], chain(), sink, ship.State(str(state))) == 4
    assert saved(state, log) == {
        "inode": log.stat().st_ino,
        "offset": log.stat().st_size,
        "line": 6,
    }


def test_the_state_keys_files_by_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.log", range(3))
    sink = Recording(tmp_path / "s.json", tmp_path / "a.log")
    assert ship.ship(["a.log"], chain(), sink, ship.State("s.json")) == 3
    assert saved(tmp_path / "s.json", tmp_path / "a.log") is not None
    assert ship.State("s.json").start("a.log") == (3 * len(line(0)), 3)


def test_standard_input_is_read_and_never_checkpointed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read, written = os.pipe()
    os.write(written, (line(0) + line(1)).encode())
    os.close(written)
    with os.fdopen(read) as stdin:
        monkeypatch.setattr("sys.stdin", stdin)
        follower = ship.Tail("-", 0, 0, True, threading.Event(), idle=0, poll=0)
        records = list(follower.segment())
    assert [(r.raw[-7:], r.file, r.offset) for r in records] == [
        ("event 0", "", 0),
        ("event 1", "", len(line(0))),
    ]
    assert not follower.resumable and not follower.follow


def test_progress_and_count(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    write(log, range(25))
    seen: list[tuple[int, int]] = []
    sink = Recording(tmp_path / "none", log)

    def progress(size: int, records: int) -> None:
        seen.append((size, records))

    assert ship.ship([str(log)], chain(), sink, ship.State(None), progress=progress) == 25
    # Each accepted batch: the bytes of the file it covered, its records.
    assert seen == [
        (sum(len(line(n)) for n in range(0, 10)), 10),
        (sum(len(line(n)) for n in range(10, 20)), 10),
        (sum(len(line(n)) for n in range(20, 25)), 5),
    ]
    assert sum(size for size, _ in seen) == log.stat().st_size


def test_progress_counts_the_first_batch_from_where_shipping_began(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The readers start reading at once: a reader a few lines in before the shipping
    # thread notes where each file starts made the first batch's bytes too few (CI).
    log = tmp_path / "a.log"
    write(log, range(25))
    slow = chain()
    run = slow.run

    def slowly(lines: Iterator[Any]) -> Iterator[LogRecord]:
        for record in run(lines):
            time.sleep(0.03)
            yield record

    start = threading.Thread.start

    def start_then_wait(self: threading.Thread) -> None:
        start(self)
        time.sleep(0.15)  # the reader is some lines into the first batch by now

    monkeypatch.setattr(slow, "run", slowly)
    monkeypatch.setattr(threading.Thread, "start", start_then_wait)
    seen: list[tuple[int, int]] = []
    sink = Recording(tmp_path / "none", log)
    ship.ship([str(log)], slow, sink, ship.State(None), progress=lambda *size: seen.append(size))
    assert seen[0] == (sum(len(line(n)) for n in range(0, 10)), 10), seen
    assert sum(size for size, _ in seen) == log.stat().st_size


class Stop(threading.Event):
    """A stop event that notes every wait on it (the retry delays) and waits none."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.append(timeout)
        return self.is_set()


@pytest.mark.parametrize(
    ("limit", "delays"),
    [(0, []), (0.5, [0.5]), (1.0, [0.5, 1.0]), (1.5, [0.5, 1.0]), (1.6, [0.5, 1.0, 2.0])],
)
def test_retry_backs_off_and_gives_up_after_the_limit(
    tmp_path: Path, limit: float, delays: list[float]
) -> None:
    log, state, stop = tmp_path / "a.log", tmp_path / "state.json", Stop()
    write(log, range(3))
    sink = Recording(state, log, refuse=lambda call: True)
    with pytest.raises(SinkError):
        ship.ship([str(log)], chain(), sink, ship.State(str(state)), stop=stop, retry_limit=limit)
    assert stop.asked == delays  # given up once the delays waited reach the limit
    assert sink.calls == len(delays) + 1
    assert not state.exists()


def test_a_refusing_sink_succeeds_on_retry_and_is_checkpointed_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log, state, stop = tmp_path / "a.log", tmp_path / "state.json", Stop()
    write(log, range(3))
    sink = Recording(state, log, refuse=lambda call: call <= 2)
    with caplog.at_level("WARNING", logger="osops.log.ship"):
        assert ship.ship([str(log)], chain(), sink, ship.State(str(state)), stop=stop) == 3
    assert caplog.messages == [
        "sink refused a batch (refused call 1); retrying in 0.5s",
        "sink refused a batch (refused call 2); retrying in 1.0s",
    ]
    assert (stop.asked, sink.calls, len(sink.accepted)) == ([0.5, 1.0], 3, 1)
    assert saved(state, log) == {
        "inode": log.stat().st_ino,
        "offset": log.stat().st_size,
        "line": 3,
    }


def test_following_retries_until_stopped_capped_at_30s(tmp_path: Path) -> None:
    log, state, stop = tmp_path / "a.log", tmp_path / "state.json", Stop()
    write(log, range(3))

    def refuse(call: int) -> bool:
        if call == 9:
            stop.set()
        return True

    sink = Recording(state, log, refuse=refuse)
    with pytest.raises(SinkError, match="refused call 9"):
        ship.ship([str(log)], chain(), sink, ship.State(str(state)), follow=True, stop=stop)
    assert stop.asked == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert not state.exists()


def test_an_unwritable_state_ships_nothing(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    write(log, range(3))
    sink = Recording(tmp_path / "x", log)
    with pytest.raises(
        UsageError, match=r"^--state /proc/nope/s\.json: No such file or directory"
    ):
        ship.ship([str(log)], chain(), sink, ship.State("/proc/nope/s.json"))
    assert sink.calls == 0


def test_a_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    sink = Recording(tmp_path / "x", tmp_path / "nope.log")
    with pytest.raises(LogError, match=f"^{tmp_path}/nope.log: No such file"):
        ship.ship([str(tmp_path / "nope.log")], chain(), sink, ship.State(None))


class Stopping(Sink):
    """Accepts one record per batch, then asks shipping to stop (as SIGTERM does)."""

    batch_size = 1

    def __init__(self, stop: threading.Event) -> None:
        super().__init__({})
        self.stop = stop

    def write(self, records: Sequence[LogRecord]) -> None:
        self.stop.set()


def test_stopping_ends_a_reader_blocked_on_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR)  # holds the FIFO open: its reader never sees an end
    try:
        # The second line releases the first record, held until it knows it is whole.
        os.write(writer, (line(0) + line(1)).encode())
        stop = threading.Event()
        state = ship.State(str(tmp_path / "s"))
        got = ship.ship([str(fifo)], chain(), Stopping(stop), state, stop=stop)
    finally:
        os.close(writer)
    assert got == 1
    assert not (tmp_path / "s").exists()  # a stream has nothing to resume


# State: where each file resumes.


def test_state_resumes_only_the_same_file_not_shrunk(tmp_path: Path) -> None:
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    write(log, range(10))
    saved_state = ship.State(str(state))
    saved_state.advance(str(log), log.stat().st_ino, 100, 2)
    assert ship.State(str(state)).start(str(log)) == (100, 2)
    saved_state.advance(str(log), log.stat().st_ino + 1, 100, 2)
    assert ship.State(str(state)).start(str(log)) == (0, 0)  # rotated: another inode
    saved_state.advance(str(log), log.stat().st_ino, log.stat().st_size + 1, 2)
    assert ship.State(str(state)).start(str(log)) == (0, 0)  # truncated since
    assert ship.State(str(state)).start(str(tmp_path / "other.log")) == (0, 0)
    assert oct(state.stat().st_mode & 0o777) == "0o600"


def test_the_state_file_holds_each_file_as_written(tmp_path: Path) -> None:
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    write(log, range(3))
    ship.State(str(state)).advance(str(log), 42, 100, 2)
    entry = '   "inode": 42,\n   "offset": 100,\n   "line": 2\n'
    assert state.read_text() == f'{{\n "files": {{\n  "{log}": {{\n{entry}  }}\n }}\n}}\n'


def test_a_file_gone_since_starts_again_at_zero(tmp_path: Path) -> None:
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    write(log, range(3))
    ship.State(str(state)).advance(str(log), log.stat().st_ino, 10, 1)
    log.unlink()
    assert ship.State(str(state)).start(str(log)) == (0, 0)


@pytest.mark.parametrize(
    "entry",
    [{"offset": 1, "line": 1}, {"inode": 1, "line": 1}, {"inode": 1, "offset": 1}, []],
)
def test_a_state_entry_missing_a_field_is_refused(tmp_path: Path, entry: object) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"files": {"/var/log/a.log": entry}}))
    with pytest.raises(LogError) as caught:
        ship.State(str(state))
    assert str(caught.value) == f"--state {state}: not a state file written by osops"


def test_a_state_path_that_is_a_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        ship.State(str(tmp_path))
    assert str(caught.value) == f"--state {tmp_path}: a directory, not a regular file"


def test_a_state_path_turned_device_is_refused_not_written_into(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    saving = ship.State(str(state))
    state.symlink_to("/dev/null")  # after it was checked: the save itself refuses
    with pytest.raises(UsageError) as caught:
        saving.advance(str(tmp_path / "a.log"), 1, 2, 3)
    assert str(caught.value) == f"--state {state}: a character device, not a regular file"


def test_a_compressed_file_resumes_past_its_compressed_size(tmp_path: Path) -> None:
    log, state = tmp_path / "a.log.gz", tmp_path / "state.json"
    with gzip.open(log, "wt") as fh:
        fh.write("".join(line(n) for n in range(100)))
    big = log.stat().st_size * 3
    ship.State(str(state)).advance(str(log), log.stat().st_ino, big, 50)
    assert ship.State(str(state)).start(str(log)) == (big, 50)


# Tail: lines, partial lines, rotation.


def tail(path: Path, follow: bool = False, **kw: Any) -> ship.Tail:
    return ship.Tail(str(path), 0, 0, follow, threading.Event(), idle=0, poll=0, **kw)


def test_a_last_line_without_newline_is_a_record_at_the_end(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"one\ntwo")
    records = list(tail(log).segment())
    assert [(r.raw, r.offset, r.end, r.line) for r in records] == [
        ("one", 0, 4, 1),
        ("two", 4, 7, 2),
    ]


def test_following_ships_a_partial_line_only_once_the_writer_is_quiet(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"one\ntw")
    waiting = tail(log, follow=True, partial_after=3600)
    assert [r.raw for r in waiting.segment()] == ["one"]
    assert [r.raw for r in waiting.segment()] == []  # still "tw": the writer may add to it
    assert (waiting.offset, waiting.line) == (4, 1)
    with open(log, "ab") as fh:
        fh.write(b"o\n")
    assert [r.raw for r in waiting.segment()] == ["two"]
    quiet = tail(log, follow=True, partial_after=0)
    with open(log, "ab") as fh:
        fh.write(b"thr")
    assert [r.raw for r in quiet.segment()] == ["one", "two", "thr"]
    with open(log, "ab") as fh:
        fh.write(b"ee\n")
    assert [(r.raw, r.offset) for r in quiet.segment()] == [("ee", 11)]  # never "three"


def test_rotation_ends_a_segment_with_the_old_files_last_line(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"old\nlast words")
    follower = tail(log, follow=True, partial_after=3600)
    assert [r.raw for r in follower.segment()] == ["old"]
    old_inode = follower.inode
    log.rename(tmp_path / "a.log.1")
    log.write_bytes(b"new\n")
    assert [r.raw for r in follower.segment()] == ["last words"]
    assert follower.inode == old_inode  # the records above came from the old file
    assert [(r.raw, r.offset) for r in follower.segment()] == [("new", 0)]
    assert follower.inode == log.stat().st_ino


def test_truncation_below_a_partial_line_is_seen(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"abc\nhalf")  # 8 bytes read, the line at 4 not ended
    follower = tail(log, follow=True, partial_after=3600)
    assert [r.raw for r in follower.segment()] == ["abc"]
    with open(log, "r+b") as fh:
        fh.truncate(0)
        fh.write(b"01234\n")  # 6 bytes: past the line's start, short of what was read
    assert [(r.raw, r.offset) for r in follower.segment()] == [("half", 4)]  # as it was left
    assert [(r.raw, r.offset) for r in follower.segment()] == [("01234", 0)]


def test_copytruncate_reads_again_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"first\nsecond\n")
    follower = tail(log, follow=True)
    assert [r.raw for r in follower.segment()] == ["first", "second"]
    with open(log, "r+b") as fh:
        fh.truncate(0)
        fh.write(b"again\n")
    assert [r.raw for r in follower.segment()] == []  # the segment ends at the truncation
    assert [(r.raw, r.offset) for r in follower.segment()] == [("again", 0)]


def test_a_long_line_is_cut_and_the_rest_read_past(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"a\n" + b"x" * 100 + b"\r\n0123456789\n" + b"y" * 50)
    records = list(tail(log, max_line=10).segment())
    assert [(r.raw, r.offset, r.end) for r in records] == [
        ("a", 0, 2),
        ("xxxxxxxxxx [truncated by osops: line of 101 bytes]", 2, 104),
        ("0123456789", 104, 115),  # as long as allowed: whole
        ("yyyyyyyyyy [truncated by osops: line of 50 bytes]", 115, 165),
    ]


# The command, as an operator runs it.


def follow(
    log: Path, out: Path, state: Path, *options: str, verbose: bool = False
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            str(OSOPS),
            *(["-v"] if verbose else []),
            *("log", "ship", str(log), "--follow", "--state", str(state)),
            *("--option", f"path={out}", *options),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_resume_ships_only_what_is_new(tmp_path: Path) -> None:
    log, out, state = tmp_path / "a.log", tmp_path / "out.jsonl", tmp_path / "state.json"
    write(log, range(100))
    args = ["log", "ship", str(log), "--state", str(state), "--option", f"path={out}"]
    assert json.loads(run_osops(*args, "--format", "json").stdout)["shipped"] == 100
    assert json.loads(run_osops(*args, "--format", "json").stdout)["shipped"] == 0
    write(log, range(100, 150))
    assert json.loads(run_osops(*args, "--format", "json").stdout)["shipped"] == 50
    assert numbers(out) == list(range(150))
    assert saved(state, log) == {
        "inode": log.stat().st_ino,
        "offset": log.stat().st_size,
        "line": 150,
    }


class Lines:
    """A child's stderr, read line by line on a thread, to wait on a log line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stderr is not None
        stream = proc.stderr
        threading.Thread(target=lambda: self.lines.extend(stream), daemon=True).start()

    def saw(self, text: str) -> bool:
        return any(text in item for item in self.lines)


def test_follow_survives_rename_and_copytruncate(tmp_path: Path) -> None:
    log, out, state = tmp_path / "a.log", tmp_path / "out.jsonl", tmp_path / "state.json"
    write(log, range(50))
    proc = follow(log, out, state, verbose=True)  # INFO lines say when rotation is seen
    said = Lines(proc)
    try:
        wait_until(lambda: len(set(numbers(out))) >= 50, "first 50 records")
        write(log, range(50, 80))
        log.rename(tmp_path / "a.log.1")  # logrotate's default: rename, then a new file
        write(log, range(80, 120))
        wait_until(lambda: len(set(numbers(out))) >= 120, "records across the rename")
        # copytruncate: the file is copied away and truncated in place
        (tmp_path / "a.log.2").write_bytes(log.read_bytes())
        with open(log, "r+") as fh:
            fh.truncate(0)
        wait_until(lambda: said.saw("was truncated"), "the truncation noticed")
        write(log, range(120, 130))
        wait_until(lambda: len(set(numbers(out))) >= 130, "records after the truncation")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert proc.returncode == 0, said.lines
    assert sorted(numbers(out)) == list(range(130))


def test_following_ships_a_last_partial_line_once(tmp_path: Path) -> None:
    log, out, state = tmp_path / "a.log", tmp_path / "out.jsonl", tmp_path / "state.json"
    write(log, range(3))
    with open(log, "a") as fh:
        fh.write(line(3).rstrip("\n"))  # a writer that stopped mid-line
    proc = follow(log, out, state, "--partial-after", "0.3")
    try:
        wait_until(lambda: messages(out)[-1:] == ["event 3"], "the partial line shipped")
        with open(log, "a") as fh:
            fh.write(" and more\n" + line(4))
        wait_until(lambda: messages(out)[-1:] == ["event 4"], "the lines after it")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert messages(out) == ["event 0", "event 1", "event 2", "event 3", " and more", "event 4"]


@contextlib.contextmanager
def fifo_reader(path: Path) -> Iterator[int]:
    """The read end of a FIFO, opened first so a writer never waits to open it; its
    buffer at the kernel's smallest, so a writer blocks after a few KiB unread."""
    os.mkfifo(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 4096)
        yield fd
    finally:
        os.close(fd)


def read_records(fd: int, count: int, buffer: bytearray, deadline: float = 20.0) -> list[int]:
    """Read from a FIFO until ``count`` whole records have come, bounded in time."""
    end = time.monotonic() + deadline
    while buffer.count(b"\n") < count:
        left = end - time.monotonic()
        if left <= 0:
            came = buffer.count(b"\n")
            raise AssertionError(f"{came} of {count} records came")
        if select.select([fd], [], [], left)[0]:
            with contextlib.suppress(BlockingIOError):
                buffer += os.read(fd, 65536)
    rows = bytes(buffer).split(b"\n")[:count]
    return [int(json.loads(row)["message"].split()[-1]) for row in rows]


def test_kill_9_mid_batch_loses_nothing(tmp_path: Path) -> None:
    log, state = tmp_path / "a.log", tmp_path / "state.json"
    out, after = tmp_path / "out.fifo", tmp_path / "after.jsonl"
    write(log, range(2000))
    with fifo_reader(out) as fd:
        proc = follow(log, out, state)
        try:
            # Batch 1 (records 0-499) and 100 records of batch 2: the sink is now
            # blocked in the middle of batch 2, whose other 400 do not fit the pipe.
            got = read_records(fd, 600, bytearray())
            wait_until(lambda: saved(state, log) is not None, "batch 1 checkpointed")
            checkpoint = saved(state, log)
            assert checkpoint is not None and checkpoint["line"] == 500
            os.kill(proc.pid, signal.SIGKILL)  # mid-batch, every time
        finally:
            proc.kill()
            proc.wait(10)
    assert got == list(range(600))
    assert saved(state, log) == checkpoint  # the batch in flight was never checkpointed
    write(log, range(2000, 2500))
    proc = follow(log, after, state)
    try:
        wait_until(lambda: len(numbers(after)) >= 2000, "the rest after restart", 40)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert numbers(after) == list(range(500, 2500))  # from the first record not checkpointed
    assert set(got) | set(numbers(after)) == set(range(2500))  # nothing lost
    # At least once: what came twice is the part of batch 2 delivered before the kill.
    assert sorted(set(got) & set(numbers(after))) == list(range(500, 600))


def test_bad_state_file_is_named(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("not json")
    proc = run_osops("log", "ship", str(tmp_path / "x.log"), "--state", str(state))
    assert (proc.returncode, proc.stderr.strip()) == (
        1,
        f"--state {state}: not a state file written by osops",
    )
