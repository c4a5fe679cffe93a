"""Checks against misbehaving servers and hostile input: bounded in time and memory, UNKNOWN
for osops's own failures, one line naming what and where."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import hostile
import pytest
from helpers import OSOPS, run_osops
from measure import run_measured

from osops.testing import silent_listener

#: Address space a check may have: enough for Python and its libraries, and far
#: less than an endless body read whole (old code reached 1-3 GB in 2-3 s).
MEMORY = 1 << 30


@pytest.mark.parametrize("chunked", [False, True], ids=["plain", "chunked"])
def test_endless_body_is_cut_at_max_size(chunked: bool) -> None:
    with hostile.serve(hostile.endless(chunked=chunked)) as port:
        done = run_measured(
            [str(OSOPS), "check", "run", "http", "--url", f"http://127.0.0.1:{port}/", "-t", "5"],
            30,
            MEMORY,
        )
    assert done.returncode == 2, done
    assert done.stdout.startswith(
        f"HTTP CRITICAL - body from 127.0.0.1:{port} is larger than --max-size 4194304 bytes | "
    ), done
    assert "size=4194304B" in done.stdout
    assert done.rss_mib < 120 and done.cpu < 3, done


def test_max_size_is_the_users_to_raise() -> None:
    with hostile.serve(hostile.endless()) as port:
        done = run_measured(
            [
                str(OSOPS),
                "check",
                "run",
                "http",
                "--url",
                f"http://127.0.0.1:{port}/",
                "--max-size",
                "20000000",
            ],
            30,
            MEMORY,
        )
    assert done.returncode == 2 and "size=20000000B" in done.stdout, done
    assert done.rss_mib < 150, done


def test_redirect_loop_is_critical_and_named() -> None:
    with hostile.serve(hostile.redirect_loop("/a", "/b", "/c")) as port:
        proc = run_osops("check", "run", "http", "--url", f"http://127.0.0.1:{port}/b")
    base = f"http://127.0.0.1:{port}"
    assert (proc.returncode, proc.stdout) == (
        2,
        f"HTTP CRITICAL - redirect loop: {base}/b -> {base}/c -> {base}/a -> {base}/b\n",
    )


def test_redirects_are_followed_to_the_end() -> None:
    with (
        hostile.serve(hostile.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthere")) as end,
        hostile.serve(
            hostile.raw(
                f"HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:{end}/x\r\n"
                "Content-Length: 0\r\n\r\n".encode()
            )
        ) as start,
    ):
        proc = run_osops(
            "check", "run", "http", "--url", f"http://127.0.0.1:{start}/", "--regex", "there"
        )
        assert proc.returncode == 0, proc.stdout
        assert proc.stdout.startswith("HTTP OK - HTTP 200 OK in ")
        kept = run_osops(
            "check", "run", "http", "--url", f"http://127.0.0.1:{start}/", "--max-redirects", "0"
        )
        assert kept.stdout.startswith("HTTP OK - HTTP 301 Moved in "), kept.stdout


def test_too_many_redirects_is_critical() -> None:
    hops = [f"/{n}" for n in range(5)]
    with hostile.serve(hostile.redirect_loop(*hops)) as port:
        proc = run_osops(
            "check", "run", "http", "--url", f"http://127.0.0.1:{port}/0", "--max-redirects", "2"
        )
    assert (proc.returncode, proc.stdout) == (
        2,
        f"HTTP CRITICAL - more than 2 redirects (--max-redirects) from http://127.0.0.1:{port}/0\n",
    )


@pytest.mark.parametrize(
    ("response", "shown"),
    [
        (
            b"HTTP/1.1 200 O\x00K\xff\r\nContent-Length: 2\r\n\r\nok",
            "HTTP OK - HTTP 200 O\\x00K\\xff in ",
        ),
        (b"HTTP/1.1 2\x000 OK\xff\r\n\r\n", "HTTP CRITICAL - 127.0.0.1:{port}: BadStatusLine: "),
    ],
    ids=["reason", "status"],
)
def test_raw_bytes_never_reach_the_status_line(response: bytes, shown: str) -> None:
    with hostile.serve(hostile.raw(response)) as port:
        proc = subprocess.run(
            [str(OSOPS), "check", "run", "http", "--url", f"http://127.0.0.1:{port}/"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    assert proc.stdout.decode("ascii").startswith(shown.format(port=port)), proc.stdout
    assert b"\x00" not in proc.stdout and b"\xff" not in proc.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--cacert", "/nonexistent.pem"],
            "HTTP UNKNOWN - --cacert /nonexistent.pem: No such file or directory",
        ),
        (
            ["--regex", "("],
            "HTTP UNKNOWN - --regex: '(' is not a regular expression: "
            "missing ), unterminated subpattern at position 0",
        ),
        (["--max-size", "0"], "HTTP UNKNOWN - --max-size: expected int of at least 1, got '0'"),
    ],
)
def test_bad_options_name_the_option(options: list[str], message: str) -> None:
    with silent_listener() as port:
        proc = run_osops("check", "run", "http", "--url", f"https://127.0.0.1:{port}/", *options)
    assert (proc.returncode, proc.stdout) == (3, message + "\n")


def test_write_failure_is_unknown_with_one_line() -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [str(OSOPS), "check", "run", "dummy"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
            check=False,
        )
    assert (proc.returncode, proc.stderr) == (
        3,
        "osops: cannot write the check result to standard output: No space left on device\n",
    )


# Suites: every check under its own timeout, the suite's end whatever its checks do.


def _suite(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


def _rows(stdout: str) -> dict[str, tuple[str, str]]:
    return {row["Name"]: (row["State"], row["Summary"]) for row in json.loads(stdout)}


def test_suite_exits_whatever_its_checks_do(tmp_path: Path) -> None:
    with (
        hostile.serve(hostile.trickle(0.5)) as trickling,
        hostile.serve(hostile.endless()) as endless,
    ):
        suite = _suite(
            tmp_path,
            "timeout: 1\nchecks:\n"
            f"  - {{check: http, name: trickle, options: {{url: 'http://127.0.0.1:{trickling}/'}}}}\n"
            f"  - {{check: http, name: endless, options: {{url: 'http://127.0.0.1:{endless}/'}}}}\n",
        )
        done = run_measured([str(OSOPS), "check", "suite", str(suite), "-f", "json"], 30, MEMORY)
    assert not done.killed, done  # old code printed its table and never exited
    assert done.wall < 1 + 1 + 1.5, done  # its timeout + 1 s, + start-up on a loaded machine
    rows = _rows(done.stdout)
    assert rows["trickle"][0] == "UNKNOWN"
    assert rows["endless"][0] == "CRITICAL"
    assert done.rss_mib < 150, done


def test_queued_checks_get_their_own_timeout(tmp_path: Path) -> None:
    with silent_listener() as port:
        hung = f"{{check: http, options: {{url: 'http://127.0.0.1:{port}/'}}"
        suite = _suite(
            tmp_path,
            "timeout: 1\nconcurrency: 1\nchecks:\n"
            f"  - {hung}, name: hung1}}\n  - {hung}, name: hung2}}\n"
            "  - {check: dummy, name: fine, options: {text: ran}}\n",
        )
        proc = run_osops("check", "suite", str(suite), "-f", "json")
    # Each hung check had its own second, and the dummy ran after them (old code
    # gave all three 1.5 s from the suite's start: the last two "timed out").
    assert _rows(proc.stdout) == {
        "hung1": ("UNKNOWN", f"127.0.0.1:{port} did not answer within 1s"),
        "hung2": ("UNKNOWN", f"127.0.0.1:{port} did not answer within 1s"),
        "fine": ("OK", "ran"),
    }


def test_suite_deadline_says_which_checks_never_ran(tmp_path: Path) -> None:
    with silent_listener() as port:
        hung = f"{{check: http, options: {{url: 'http://127.0.0.1:{port}/'}}"
        suite = _suite(
            tmp_path,
            "timeout: 1\nconcurrency: 1\ndeadline: 1.8\nchecks:\n"
            f"  - {hung}, name: first}}\n  - {hung}, name: second}}\n"
            "  - {check: dummy, name: third}\n",
        )
        proc = run_osops("check", "suite", str(suite), "-f", "json")
    rows = _rows(proc.stdout)
    assert proc.returncode == 3
    assert rows["first"] == ("UNKNOWN", f"127.0.0.1:{port} did not answer within 1s")
    assert rows["second"][0] == "UNKNOWN"
    assert rows["second"][1].startswith("stopped by the suite's deadline of 1.8s after ")
    assert rows["third"] == ("UNKNOWN", "never ran: the suite's deadline of 1.8s came first")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("timeout: .nan", "timeout: must be more than 0 seconds and at most 3600, got nan"),
        ("timeout: .inf", "timeout: must be more than 0 seconds and at most 3600, got inf"),
        ("timeout: true", "timeout: expected seconds, got True"),
        ("timeout: -5", "timeout: must be more than 0 seconds and at most 3600, got -5"),
        ("concurrency: true", "concurrency: expected a whole number from 1 to 256, got True"),
        ("concurrency: 2.5", "concurrency: expected a whole number from 1 to 256, got 2.5"),
        ("deadline: .inf", "deadline: must be more than 0 seconds and at most 3600, got inf"),
    ],
)
def test_suite_numbers_are_checked(tmp_path: Path, line: str, message: str) -> None:
    suite = _suite(tmp_path, f"{line}\nchecks:\n  - {{check: dummy}}\n")
    proc = run_osops("check", "suite", str(suite))
    assert (proc.returncode, proc.stderr) == (1, f"{suite}: {message}\n")


def test_duplicate_checks_key_is_refused(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path, "checks:\n  - {check: dummy, name: a}\nchecks:\n  - {check: dummy, name: b}\n"
    )
    proc = run_osops("check", "suite", str(suite))
    assert (proc.returncode, proc.stderr) == (1, f"{suite} line 3: duplicate key 'checks'\n")


def test_verbose_from_a_config_file_is_a_count(tmp_path: Path) -> None:
    config = tmp_path / "dummy.yaml"
    config.write_text("verbose: abc\n")
    proc = run_osops("check", "run", "dummy", "--config", str(config))
    assert (proc.returncode, proc.stdout) == (
        3,
        "DUMMY UNKNOWN - --verbose: expected a count (0 to 3), got 'abc'\n",
    )
