"""A third-party distribution extends osops through entry points alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import SAMPLES, run_osops


def _plugins(env: dict[str, str]) -> dict[tuple[str, str], dict[str, str]]:
    proc = run_osops("plugin", "list", "-f", "json", env=env)
    assert proc.returncode == 0, proc.stderr
    return {(row["Kind"], row["Name"]): row for row in json.loads(proc.stdout)}


def test_every_kind_is_listed_and_credited(example_site: dict[str, str]) -> None:
    listed = _plugins(example_site)
    # The summary is the first line of each plugin's docstring (osops_example/plugins.py).
    for kind, name, summary in [
        (
            "check",
            "example_file_age",
            "Check how long ago a file was modified, e.g. a backup or a heartbeat file.",
        ),
        ("filter", "example_tag", "Add a tag to every record."),
        ("sink", "example_count", "Count records by level into a JSON file."),
        (
            "exporter",
            "example_markdown",
            "Export a dashboard as a Markdown outline of its panels.",
        ),
        ("command", "example_show", "Show what the example package provides."),
    ]:
        row = listed[kind, name]
        assert (row["Distribution"], row["Version"], row["Status"], row["Summary"]) == (
            "osops-example",
            "1.2.3",
            "ok",
            summary,
        )
    assert listed["check", "dummy"]["Distribution"] == "osops"


def test_verify_passes_with_the_example_installed(example_site: dict[str, str]) -> None:
    proc = run_osops("plugin", "verify", env=example_site)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_its_check_runs(example_site: dict[str, str], tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    beat.write_text("")
    os.utime(beat, (1, 1))  # 1970: very old
    proc = run_osops("check", "run", "example_file_age", "--path", str(beat), env=example_site)
    assert proc.returncode == 2
    assert proc.stdout.startswith("EXAMPLE_FILE_AGE CRITICAL - age is ")
    proc = run_osops(
        "check", "run", "example_file_age", "--path", str(tmp_path / "gone"), env=example_site
    )
    assert (proc.returncode, proc.stdout) == (
        2,
        f"EXAMPLE_FILE_AGE CRITICAL - {tmp_path / 'gone'} does not exist\n",
    )


def test_its_command_runs(example_site: dict[str, str]) -> None:
    proc = run_osops("example", "show", "-f", "json", env=example_site)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"package": "osops-example", "plugins": 5}
    assert "example show" in run_osops("--help", env=example_site).stdout
    # The epilog naming the distribution is worked out only when help is asked for.
    help_text = run_osops("example", "show", "--help", env=example_site).stdout
    assert "This command is provided by the osops-example plugin." in help_text
    assert "provided by" not in run_osops("log", "parse", "--help").stdout


def test_its_filter_runs_in_the_pipeline(example_site: dict[str, str]) -> None:
    proc = run_osops(
        "log",
        "parse",
        str(SAMPLES / "functional_01-simple_in_l3-agent.log"),
        "--filter",
        "parse",
        "--filter",
        "example_tag",
        "--filter-option",
        "example_tag.tag=seen",
        env=example_site,
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert records and all("seen" in r["tags"] for r in records)


def test_its_sink_and_exporter_load_and_work(example_site: dict[str, str], tmp_path: Path) -> None:
    script = """
import json, sys
from osops import plugins
from osops.dashboard.model import Dashboard
from osops.log.record import LogRecord
sink = plugins.load("sink", "example_count")({"path": sys.argv[1]})
sink.write([LogRecord(raw="x", parsed=True, level="INFO"), LogRecord(raw="y")])
exporter = plugins.load("exporter", "example_markdown")({})
board = Dashboard.from_dict("demo", {"title": "Demo", "rows": [{"title": "APIs", "panels": [
    {"title": "Up", "type": "stat", "source": "metrics", "query": "osops_check_state"}]}]})
print(exporter.export(board), end="")
"""
    out = tmp_path / "counts.json"
    proc = subprocess.run(
        [sys.executable, "-c", script, str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, **example_site},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) == {"INFO": 1, "UNPARSED": 1}
    assert proc.stdout == "# Demo\n\n## APIs\n- Up (stat): `osops_check_state`\n"
