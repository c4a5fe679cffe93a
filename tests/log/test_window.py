"""--since, --until and --level: the window filter, its times, and the commands that add it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import SAMPLES, run_osops
from test_stats import A2, API, C1, COMPUTE, App, stats, trace

from osops.commands.log import ParseLog
from osops.exceptions import UsageError
from osops.log import parallel, pipeline
from osops.log.window import Window, parse_time, settle


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02:10", (None, "02:10:00")),
        ("02:10:05", (None, "02:10:05")),
        ("02:10:05.25", (None, "02:10:05.25")),
        ("2026-11-25", ("2026-11-25", "00:00:00")),
        ("2026-11-25T02:10", ("2026-11-25", "02:10:00")),
        ("2026-11-25 02:10:05", ("2026-11-25", "02:10:05")),
        (" 2026-11-25T02:10:05.123456 ", ("2026-11-25", "02:10:05.123456")),
    ],
)
def test_times_as_operators_write_them(text: str, expected: tuple[str | None, str]) -> None:
    assert parse_time(text, "--since") == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2:10", "expected YYYY-MM-DD[THH:MM[:SS]] or HH:MM[:SS]"),
        ("25/11/2026", "expected YYYY-MM-DD"),
        ("yesterday", "expected YYYY-MM-DD"),
        ("2026-11-25T02:10Z", "logs carry no time zone"),
        ("2026-11-25T02:10:00+01:00", "logs carry no time zone"),
        ("25:10", "--since '25:10': hour must be in 0..23"),
        ("2026-02-30T02:10", "day is out of range for month"),
    ],
)
def test_what_is_no_time_is_refused_naming_the_option(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=r"^--since ") as caught:
        parse_time(text, "--since")
    assert why in str(caught.value)


def test_a_time_alone_takes_the_first_records_date() -> None:
    first = "2015-10-29T10:51:13.354"
    assert settle("10:51", "10:52", first) == ("2015-10-29T10:51:00", "2015-10-29T10:52:00")
    assert settle("2024-01-01T00:00", None, first) == ("2024-01-01T00:00:00", "")
    assert settle(None, "11:00", first) == ("", "2015-10-29T11:00:00")
    # An --until alone that is not after --since is on the next day.
    assert settle("23:50", "00:10", first) == ("2015-10-29T23:50:00", "2015-10-30T00:10:00")
    assert settle("2015-12-31T23:50", "00:10", None) == (
        "2015-12-31T23:50:00",
        "2016-01-01T00:10:00",
    )
    with pytest.raises(UsageError, match="--until 2015-10-29T10:00 is not after --since 10:51"):
        settle("10:51", "2015-10-29T10:00", first)


def test_the_window_is_half_open_and_judges_time_and_level() -> None:
    window = Window({"since": "2026-11-25T02:10", "until": "2026-11-25T02:20", "level": "WARNING"})
    assert window.admits("2026-11-25T02:10:00", "WARNING")  # since: inclusive
    assert window.admits("2026-11-25T02:10:00.000", "ERROR")
    assert window.admits("2026-11-25T02:19:59.999999", "CRITICAL")
    assert not window.admits("2026-11-25T02:20:00", "ERROR")  # until: exclusive
    assert not window.admits("2026-11-25T02:20:00.001", "ERROR")
    assert not window.admits("2026-11-25T02:09:59.999", "ERROR")
    assert not window.admits("2026-11-25T02:15:00", "INFO")
    assert window.admits("2026-11-25T02:15:00", "TRACE")  # Kilo's traceback lines: ERROR
    assert not window.admits("2026-11-25T02:15:00", None)  # no level: below any
    assert not window.admits(None, "ERROR")  # no time: outside any time bound
    assert Window({"level": "ERROR"}).admits(None, "ERROR")  # no time bound: time is no matter
    assert Window({}).admits(None, None)
    with pytest.raises(UsageError, match="since needs a date"):
        Window({"since": "02:10"})


@pytest.fixture
def logs(tmp_path: Path) -> list[str]:
    (tmp_path / "ctl1.nova-api.log").write_text(API)
    (tmp_path / "ctl1.nova-compute.log").write_text(COMPUTE)
    return [str(tmp_path / "ctl1.nova-api.log"), str(tmp_path / "ctl1.nova-compute.log")]


def test_stats_of_ten_seconds_the_first_records_day(logs: list[str]) -> None:
    # The first line of the first file has no time: the date is that of the first that has.
    data = json.loads(
        stats(*logs, "--format", "json", "--since", "09:00:05", "--until", "09:00:07")
    )
    assert data["records"] == 4  # four ERRORs of nova-api; 09:00:07.000 is the next window's
    assert data["unparsed"] == 0
    assert data["by_service"] == {"nova-api": {"ERROR": 4}}
    whole_day = json.loads(stats(*logs, "--format", "json", "--since", "2024-05-02"))
    assert whole_day["records"] == 18  # every record with a time; not the unparsed line
    other_day = json.loads(stats(*logs, "--format", "json", "--since", "2024-05-03"))
    assert other_day["records"] == 0


def test_stats_of_errors_and_worse(logs: list[str]) -> None:
    data = json.loads(stats(*logs, "--format", "json", "--level", "error"))
    assert data["by_service"] == {"nova-api": {"ERROR": 6}, "nova-compute": {"ERROR": 2}}
    assert data["api_requests"] == 0


def test_trace_links_ids_through_every_record_and_shows_the_window(logs: list[str]) -> None:
    # A2 and the global id are linked by an INFO record that --level ERROR does not show.
    _, rows = trace(A2, *logs, "--level", "ERROR")
    assert [(row[3], row[5]) for row in rows] == [("ERROR", C1)]
    _, everything = trace(A2, *logs)
    assert len(everything) > len(rows)


def _parse(*argv: str, out: Path) -> list[dict[str, Any]]:
    command = ParseLog(App(), None)
    parsed = command.get_parser("osops log parse").parse_args([*argv, "-o", str(out)])
    assert command.take_action(parsed) == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_parse_in_pieces_keeps_what_the_window_keeps(tmp_path: Path, jobs: str) -> None:
    # Big enough to be cut into pieces for worker processes (-j 2): the fused chain
    # applies the window to its records as the window filter does to the chain's.
    files = [str(SAMPLES / name) for name in ("hp-ms-01-c29.neutron-server.log",)]
    big = tmp_path / "big.neutron-server.log"
    big.write_bytes(Path(files[0]).read_bytes() * 4)
    assert big.stat().st_size > 2 * parallel.PIECE
    chain = pipeline.build_chain(None)
    every = [r.to_dict() for r in chain.records(str(big))]
    since, until = "2015-10-29T10:51:13", "2015-10-29T11:02:00"
    expected = [
        r
        for r in every
        if since <= r.get("@timestamp", "") < until
        and r.get("log.level") in ("WARNING", "ERROR", "CRITICAL", "TRACE")
    ]
    assert 10 < len(expected) < len(every) / 10
    got = _parse(
        str(big), "--since", "10:51:13", "--until", since[:11] + "11:02", "--level", "WARNING",
        "-j", jobs, out=tmp_path / "out.jsonl",
    )  # fmt: skip
    assert got == expected


def test_a_time_alone_on_standard_input(logs: list[str]) -> None:
    # The first record is read, then the rest: standard input is kept in a file first.
    done = run_osops(
        "log", "stats", "-", "--format", "json", "--since", "09:00:05", "--until", "09:00:07",
        input_text=Path(logs[0]).read_text(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["records"] == 4


def test_bad_bounds_are_one_line_naming_the_option(logs: list[str]) -> None:
    done = run_osops("log", "stats", logs[0], "--since", "2024-05-02T09:00+02:00")
    assert done.returncode != 0
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("logs carry no time zone: give the time as they write it")
    )
    done = run_osops("log", "parse", logs[0], "--level", "LOUD")
    assert done.returncode == 2
    assert "argument --level: invalid choice: 'LOUD'" in done.stderr
