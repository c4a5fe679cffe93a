"""``osops log ship``: checkpoints, resume, follow across rotation, kill -9 loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from helpers import OSOPS, run_osops


def line(n: int) -> str:
    return f"2024-05-02 09:14:{n % 60:02d}.000 812 INFO nova.compute.manager [-] event {n}\n"


def shipped(out: Path) -> list[int]:
    if not out.exists():
        return []
    return [int(json.loads(row)["message"].split()[-1]) for row in out.read_text().splitlines()]


def write(path: Path, numbers: range) -> None:
    with open(path, "a") as fh:
        for n in numbers:
            fh.write(line(n))
            fh.flush()


def follow(log: Path, out: Path, state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            str(OSOPS),
            "log",
            "ship",
            str(log),
            "--follow",
            "--state",
            str(state),
            "--option",
            f"path={out}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_count(out: Path, count: int, deadline: float = 15.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if len(set(shipped(out))) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{len(set(shipped(out)))} of {count} records arrived")


def test_resume_ships_only_what_is_new(tmp_path: Path) -> None:
    log, out, state = tmp_path / "a.log", tmp_path / "out.jsonl", tmp_path / "state.json"
    write(log, range(100))
    args = [
        "log",
        "ship",
        str(log),
        "--state",
        str(state),
        "--option",
        f"path={out}",
        "--format",
        "json",
    ]
    assert json.loads(run_osops(*args).stdout)["shipped"] == 100
    assert json.loads(run_osops(*args).stdout)["shipped"] == 0
    write(log, range(100, 150))
    assert json.loads(run_osops(*args).stdout)["shipped"] == 50
    assert shipped(out) == list(range(150))
    saved = json.loads(state.read_text())["files"][str(log)]
    assert saved == {"inode": log.stat().st_ino, "offset": log.stat().st_size, "line": 150}
    assert oct(state.stat().st_mode & 0o777) == "0o600"


def test_follow_survives_rename_and_copytruncate(tmp_path: Path) -> None:
    log, out, state = tmp_path / "a.log", tmp_path / "out.jsonl", tmp_path / "state.json"
    write(log, range(50))
    proc = follow(log, out, state)
    try:
        wait_for_count(out, 50)
        write(log, range(50, 80))
        log.rename(tmp_path / "a.log.1")  # logrotate's default: rename, then a new file
        write(log, range(80, 120))
        wait_for_count(out, 120)
        # copytruncate: the file is copied away and truncated in place
        (tmp_path / "a.log.2").write_bytes(log.read_bytes())
        with open(log, "r+") as fh:
            fh.truncate(0)
        time.sleep(0.5)
        write(log, range(120, 130))
        wait_for_count(out, 130)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert proc.returncode == 0, proc.stderr
    assert sorted(shipped(out)) == list(range(130))


def test_kill_9_and_restart_lose_nothing(tmp_path: Path) -> None:
    log, out, state = tmp_path / "a.log", tmp_path / "out.jsonl", tmp_path / "state.json"
    proc = follow(log, out, state)
    write(log, range(0, 2000))
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: some batches shipped, some not
    proc.wait(10)
    write(log, range(2000, 2500))
    proc = follow(log, out, state)
    try:
        wait_for_count(out, 2500, deadline=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    got = shipped(out)
    assert set(got) == set(range(2500))  # nothing lost
    # jsonl is at-least-once: at most the batch in flight at the kill comes twice.
    assert len(got) - 2500 <= 500


def test_bad_state_file_is_named(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("not json")
    proc = run_osops("log", "ship", str(tmp_path / "x.log"), "--state", str(state))
    assert (proc.returncode, proc.stderr.strip()) == (
        1,
        f"--state {state}: not a state file written by osops",
    )
