"""``osops check suite``: concurrent checks from YAML, table/JSON, JUnit, before/after."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import run_osops

from osops.testing import free_port, silent_listener


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


def test_states_table_json_and_worst_exit(tmp_path: Path) -> None:
    refused = free_port()
    suite = _write(
        tmp_path,
        f"""
checks:
  - {{check: dummy, name: fine, options: {{text: all good}}}}
  - {{check: dummy, name: meh, options: {{state: 1, text: so so}}}}
  - {{check: http, name: web, options: {{url: "http://127.0.0.1:{refused}/"}}}}
""",
    )
    proc = run_osops(
        "check", "suite", str(suite), "-f", "json", "--save", str(tmp_path / "a.json")
    )
    assert proc.returncode == 2, proc.stderr
    rows = {row["Name"]: (row["State"], row["Summary"]) for row in json.loads(proc.stdout)}
    assert rows == {
        "fine": ("OK", "all good"),
        "meh": ("WARNING", "so so"),
        "web": ("CRITICAL", f"127.0.0.1:{refused} refused the connection"),
    }
    saved = json.loads((tmp_path / "a.json").read_text())
    assert [item["state"] for item in saved] == ["OK", "WARNING", "CRITICAL"]


def test_one_bad_entry_is_its_own_unknown(tmp_path: Path) -> None:
    suite = _write(
        tmp_path,
        """
checks:
  - {check: dummy, name: fine}
  - {check: no_such_check}
  - {check: dummy, name: bad-option, options: {colour: red}}
""",
    )
    proc = run_osops("check", "suite", str(suite), "-f", "value", "-c", "Name", "-c", "State")
    assert proc.returncode == 3
    assert proc.stdout.split("\n")[:3] == [
        "fine OK",
        "no_such_check UNKNOWN",
        "bad-option UNKNOWN",
    ]
    detail = run_osops("check", "suite", str(suite), "-f", "json")
    summaries = [row["Summary"] for row in json.loads(detail.stdout)]
    assert summaries[2] == f"{suite}: check 'bad-option': unknown option 'colour'"


def test_runs_concurrently_and_bounds_each_timeout(tmp_path: Path) -> None:
    with silent_listener() as port:
        entries = "\n".join(
            f'  - {{check: http, name: hung{i}, options: {{url: "http://127.0.0.1:{port}/"}}}}'
            for i in range(6)
        )
        suite = _write(tmp_path, f"timeout: 1\nconcurrency: 6\nchecks:\n{entries}\n")
        started = time.monotonic()
        proc = run_osops("check", "suite", str(suite), "-f", "json")
        elapsed = time.monotonic() - started
    assert proc.returncode == 3
    assert {row["State"] for row in json.loads(proc.stdout)} == {"UNKNOWN"}
    assert elapsed < 4.0  # six 1 s timeouts side by side, not one after the other


def test_junit_for_ci(tmp_path: Path) -> None:
    suite = _write(
        tmp_path,
        """
checks:
  - {check: dummy, name: a}
  - {check: dummy, name: b, options: {state: 2, text: broken}}
  - {check: dummy, name: c, options: {state: 3, text: unsure}}
""",
    )
    junit = tmp_path / "junit.xml"
    assert run_osops("check", "suite", str(suite), "--junit", str(junit)).returncode == 3
    root = ET.parse(junit).getroot()
    assert (root.tag, root.get("tests"), root.get("failures"), root.get("errors")) == (
        "testsuite",
        "3",
        "1",
        "1",
    )
    cases = {case.get("name"): case for case in root}
    assert cases["b"].find("failure").get("message") == "broken"  # type: ignore[union-attr]
    assert cases["c"].find("error").get("type") == "UNKNOWN"  # type: ignore[union-attr]


def test_compare_before_and_after_an_upgrade(tmp_path: Path) -> None:
    before = _write(
        tmp_path, "checks:\n  - {check: dummy, name: api}\n  - {check: dummy, name: db}\n"
    )
    assert (
        run_osops(
            "check", "suite", str(before), "--save", str(tmp_path / "before.json")
        ).returncode
        == 0
    )
    after = _write(
        tmp_path,
        "checks:\n  - {check: dummy, name: api, options: {state: 2}}\n"
        "  - {check: dummy, name: db}\n  - {check: dummy, name: new}\n",
    )
    proc = run_osops(
        "check",
        "suite",
        str(after),
        "--compare",
        str(tmp_path / "before.json"),
        "-f",
        "value",
        "-c",
        "Name",
        "-c",
        "State",
        "-c",
        "Before",
        "-c",
        "Changed",
    )
    assert proc.stdout.splitlines() == ["api CRITICAL OK yes", "db OK OK ", "new OK - yes"]
    assert "2 of 3 checks changed state" in proc.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("checks: [\n", " line 2: not valid YAML"),
        ("- 1\n", ": expected a mapping with a list under 'checks'"),
        ("checks:\n  - {name: x}\n", ": checks[1] needs 'check: PLUGIN'"),
        (
            "checks:\n  - {check: dummy}\n  - {check: dummy}\n",
            ": checks[2]: name 'dummy' is used twice",
        ),
        ("checks: []\ncolour: red\n", ": unknown key 'colour'"),
    ],
)
def test_broken_suite_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    suite = _write(tmp_path, text)
    proc = run_osops("check", "suite", str(suite))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{suite}{message}"


def test_secrets_never_shown_in_suite_results(tmp_path: Path) -> None:
    from check.test_runner import Sample

    from osops.check import suite

    path = _write(
        tmp_path, "checks:\n  - {check: sample, options: {fail: check, password: Su1te-Pw}}\n"
    )
    (result,) = suite.run(suite.load(str(path)), load=lambda name: Sample)
    assert result.state.name == "UNKNOWN"
    assert "Su1te-Pw" not in result.summary + "".join(result.details)
    assert "<hidden>" in result.summary


def test_prometheus_textfile_for_node_exporter(tmp_path: Path) -> None:
    suite = _write(
        tmp_path,
        """
checks:
  - {check: dummy, name: api, options: {state: 2}}
  - {check: dummy, name: db}
""",
    )
    collector = tmp_path / "textfile"
    collector.mkdir()
    assert (
        run_osops("check", "suite", str(suite), "--prometheus-textfile", str(collector)).returncode
        == 2
    )
    text = (collector / "osops_suite.prom").read_text()
    assert 'osops_check_state{check="dummy",name="api"} 2' in text
    assert 'osops_check_state{check="dummy",name="db"} 0' in text
    assert [p.name for p in collector.iterdir()] == ["osops_suite.prom"]  # no temporary left
    proc = run_osops("check", "suite", str(suite), "--prometheus-textfile", str(tmp_path / "nope"))
    assert (proc.returncode, proc.stderr.strip()) == (
        1,
        f"--prometheus-textfile {tmp_path / 'nope'}: not a directory",
    )
