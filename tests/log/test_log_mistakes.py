"""A filter or sink author's mistakes, each reported naming the plugin."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import fake_distribution, run_osops

from osops.exceptions import LogError
from osops.log.base import Filter, Sink
from osops.log.record import LogRecord
from osops.testing import run_chain, run_sink

PLUGINS = '''
import sys
from osops.log.base import Filter, Sink

class Noisy(Filter):
    """Prints every record it sees."""
    def process(self, record):
        print("saw", record.line)
        return record

class Forgetful(Filter):
    """Tags records and forgets to return them."""
    def process(self, record):
        record.add_tag("seen")

class Quits(Filter):
    """Exits on the first record."""
    def process(self, record):
        sys.exit(0)

class Crashes(Sink):
    """Fails with a plain exception."""
    def write(self, records):
        return 1 / 0
'''
LOUD_IMPORT = '''
from osops.log.base import Filter
print("loading loud_import")

class Passes(Filter):
    """Passes every record on."""
    def process(self, record):
        return record
'''
ENTRY_POINTS = """[osops.log.filter]
noisy = mistakes:Noisy
forgetful = mistakes:Forgetful
quits = mistakes:Quits

[osops.log.sink]
crashes = mistakes:Crashes
"""


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("mistakes-site")
    return fake_distribution(site, "osops-mistakes", {"mistakes.py": PLUGINS}, ENTRY_POINTS)


@pytest.fixture
def logs(tmp_path: Path) -> list[str]:
    paths = []
    for name in ("a.log", "b.log"):
        (tmp_path / name).write_text("one\ntwo\nthree\n")
        paths.append(str(tmp_path / name))
    return paths


def _parse(env: dict[str, str], paths: Sequence[str], *filters: str) -> tuple[int, str, str]:
    chain = [arg for name in filters for arg in ("--filter", name)]
    proc = run_osops("log", "parse", *paths, *chain, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def test_a_filter_that_prints_leaves_the_json_lines_whole(
    mistakes: dict[str, str], logs: list[str]
) -> None:
    code, out, err = _parse(mistakes, logs, "noisy")
    assert code == 0, err
    assert [json.loads(line)["message"] for line in out.splitlines()] == [
        "one",
        "two",
        "three",
    ] * 2
    assert err == (
        "filter 'noisy' printed 'saw 1' to standard output; osops kept it off "
        "(plugins log, never print)\n"
    )


def test_a_filter_that_prints_when_imported(tmp_path: Path, logs: list[str]) -> None:
    loud = fake_distribution(
        tmp_path / "site",
        "osops-loud",
        {"loud_import.py": LOUD_IMPORT},
        "[osops.log.filter]\nloud = loud_import:Passes\n",
    )
    listed = run_osops("plugin", "list", "--kind", "filter", "-f", "json", env=loud)
    assert {row["Name"]: row["Status"] for row in json.loads(listed.stdout)}["loud"] == "ok"
    assert listed.stderr == (
        "a plugin of osops.log.filter printed 'loading loud_import' to standard output during "
        "import; osops kept it off (plugins log, never print)\n"
    )
    code, out, err = _parse(loud, logs[:1], "loud")
    assert (code, len(out.splitlines()), err) == (
        0,
        3,
        "filter 'loud' printed 'loading loud_import' to standard output during import; "
        "osops kept it off "
        "(plugins log, never print)\n",
    )


def test_a_filter_that_drops_everything_warns_once(
    mistakes: dict[str, str], logs: list[str]
) -> None:
    assert _parse(mistakes, logs, "forgetful") == (
        0,
        "",
        "filter 'forgetful' dropped all 3 records it was given; if that is not its job, "
        "its process() must return the record\n",
    )


def test_a_filter_that_exits_is_an_error_naming_it(
    mistakes: dict[str, str], logs: list[str]
) -> None:
    assert _parse(mistakes, logs, "quits") == (1, "", "filter 'quits' failed: SystemExit: 0\n")


def test_a_sink_that_crashes_is_an_error_naming_it(
    mistakes: dict[str, str], logs: list[str], tmp_path: Path
) -> None:
    proc = run_osops(
        "log",
        "ship",
        logs[0],
        "--sink",
        "crashes",
        "--state",
        str(tmp_path / "state"),
        env=mistakes,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        1,
        "",
        "sink 'crashes' failed: ZeroDivisionError: division by zero "
        "(a sink raises SinkError when a batch is not accepted)\n",
    )


class Shouts(Filter):
    """Prints."""

    def process(self, record: LogRecord) -> LogRecord:
        print("hello")
        return record


class Boom(Sink):
    """Raises."""

    def write(self, records: Sequence[LogRecord]) -> None:
        raise ValueError("bad batch")


def test_the_kit_fails_a_test_whose_filter_prints() -> None:
    with pytest.raises(
        AssertionError, match=r"^filter 'shouts' printed 'hello' to standard output$"
    ):
        run_chain([Shouts], ["a line"])


def test_the_kit_names_a_sink_that_raises() -> None:
    with pytest.raises(LogError) as info:
        run_sink(Boom, run_chain([], ["a line"]))
    assert str(info.value) == (
        "sink 'Boom' failed: ValueError: bad batch "
        "(a sink raises SinkError when a batch is not accepted)"
    )
