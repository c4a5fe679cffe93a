"""haproxy and rabbitmq against misbehaving servers: every read bounded, one deadline."""

from __future__ import annotations

import json
from pathlib import Path

import hostile
import pytest
from helpers import OSOPS, run_osops
from measure import run_measured

MEMORY = 1 << 30


@pytest.mark.parametrize("chunked", [False, True], ids=["plain", "chunked"])
def test_rabbitmq_endless_answer_is_cut(chunked: bool) -> None:
    with hostile.serve(hostile.endless(chunked, "application/json")) as port:
        done = run_measured(
            [str(OSOPS), "check", "run", "rabbitmq", "--url", f"http://127.0.0.1:{port}"],
            30,
            MEMORY,
        )
    assert (done.returncode, done.stdout) == (
        3,
        "RABBITMQ UNKNOWN - management API answered /api/nodes with more than "
        "--max-size 16777216 bytes\n",
    ), done
    assert done.rss_mib < 150 and done.cpu < 3, done


@pytest.mark.parametrize("chunked", [False, True], ids=["plain", "chunked"])
def test_haproxy_endless_stats_page_is_cut(chunked: bool) -> None:
    with hostile.serve(hostile.endless(chunked, "text/csv")) as port:
        url = f"http://127.0.0.1:{port}/stats"
        done = run_measured(
            [str(OSOPS), "check", "run", "haproxy", "--url", url, "--max-size", "1000000"],
            30,
            MEMORY,
        )
    assert (done.returncode, done.stdout) == (
        3,
        f"HAPROXY UNKNOWN - stats page {url} sent more than --max-size 1000000 bytes\n",
    ), done
    assert done.rss_mib < 150 and done.cpu < 3, done


def test_checks_keep_their_own_deadline_in_a_suite(tmp_path: Path) -> None:
    """In a suite's thread no alarm helps: each check must end a trickle itself."""
    with hostile.serve(hostile.trickle(0.1)) as port:
        base = f"http://127.0.0.1:{port}"
        suite = tmp_path / "suite.yaml"
        suite.write_text(
            "timeout: 1\nchecks:\n"
            f"  - {{check: http, options: {{url: '{base}/'}}}}\n"
            f"  - {{check: rabbitmq, options: {{url: '{base}'}}}}\n"
            f"  - {{check: haproxy, options: {{url: '{base}/stats'}}}}\n"
        )
        proc = run_osops("check", "suite", str(suite), "-f", "json")
    rows = {row["Name"]: (row["State"], row["Summary"]) for row in json.loads(proc.stdout)}
    assert rows == {
        "http": ("UNKNOWN", f"127.0.0.1:{port} did not answer within 1s"),
        "rabbitmq": ("UNKNOWN", "management API did not answer in 1s"),
        "haproxy": ("UNKNOWN", f"stats page {base}/stats did not answer within 1s"),
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["haproxy", "--url", "http://127.0.0.1:1/", "--backend", "("],
            "HAPROXY UNKNOWN - --backend: not a regular expression: "
            "missing ), unterminated subpattern at position 0",
        ),
        (
            ["rabbitmq", "--url", "https://127.0.0.1:1", "--cacert", "/nonexistent.pem"],
            "RABBITMQ UNKNOWN - --cacert /nonexistent.pem: cannot be read",
        ),
    ],
)
def test_bad_options_name_the_option(argv: list[str], message: str) -> None:
    proc = run_osops("check", "run", *argv)
    assert (proc.returncode, proc.stdout) == (3, message + "\n")


def _gzipped(body: bytes) -> hostile.Behaviour:
    import gzip

    data = gzip.compress(body, 9)
    return hostile.raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(data), data)
    )


def test_rabbitmq_reads_gzip_and_cuts_a_gzip_bomb() -> None:
    with hostile.serve(_gzipped(b"[]")) as port:
        proc = run_osops("check", "run", "rabbitmq", "--url", f"http://127.0.0.1:{port}")
    assert proc.stdout == "RABBITMQ UNKNOWN - management API listed no nodes\n"  # decoded
    with hostile.serve(_gzipped(b"[" + b" " * (64 << 20) + b"]")) as port:  # 64 KB on the wire
        done = run_measured(
            [str(OSOPS), "check", "run", "rabbitmq", "--url", f"http://127.0.0.1:{port}"],
            30,
            MEMORY,
        )
    assert done.stdout.endswith("with more than --max-size 16777216 bytes\n"), done
    assert done.rss_mib < 150, done
