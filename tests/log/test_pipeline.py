"""Reading files, building chains and sinks: nothing lost, bad input named."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from helpers import SAMPLES, run_osops

from osops.exceptions import LogError, UsageError
from osops.log import pipeline
from osops.log.jsonl import JsonLines
from osops.log.record import LogRecord


def test_read_streams_offsets_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"one\r\ntwo\n\xff bad utf8\nlast")
    records = list(pipeline.read(str(path)))
    assert [(r.raw, r.offset, r.line) for r in records] == [
        ("one", 0, 1),
        ("two", 5, 2),
        ("\ufffd bad utf8", 9, 3),
        ("last", 20, 4),
    ]


def test_read_gzip(tmp_path: Path) -> None:
    path = tmp_path / "a.log.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("x\ny\n")
    assert [r.raw for r in pipeline.read(str(path))] == ["x", "y"]


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LogError, match=f"{tmp_path}/nope.log: No such file"):
        list(pipeline.read(str(tmp_path / "nope.log")))


def test_chain_always_ends_in_redaction() -> None:
    assert pipeline.build_chain(["parse"]).names == ["parse", "redact"]
    assert pipeline.build_chain(None).names == ["redact", "parse", "enrich"]


@pytest.mark.parametrize(
    ("names", "options", "message"),
    [
        (["nope"], [], "no filter named 'nope'"),
        (["parse"], ["parse.colour=red"], "filter 'parse': unknown option 'colour'"),
        (
            ["parse"],
            ["enrich.host=x"],
            "--filter-option 'enrich.host=x': expected FILTER.KEY=VALUE",
        ),
        (["parse"], ["parse.format=xml"], "--format: 'xml' is not one of auto, oslo, syslog"),
    ],
)
def test_bad_chain_is_named(names: list[str], options: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        pipeline.build_chain(names, options)


def test_every_line_is_accounted_for() -> None:
    chain = pipeline.build_chain(None)
    for path in [
        *sorted(SAMPLES.glob("*.log")),
        SAMPLES / "functional_02-var-log-messages_in_var_log_messages",
    ]:
        lines = path.read_text(errors="replace").count("\n") + (
            0 if path.read_text(errors="replace").endswith("\n") else 1
        )
        records = list(chain.records(str(path)))
        assert sum(r.raw.count("\n") + 1 for r in records) == lines, path.name


def test_jsonl_sink_appends_to_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    sink = JsonLines({"path": str(path)})
    sink.write([LogRecord(raw="a", parsed=True, message="a", level="INFO")])
    sink.write([LogRecord(raw="b")])
    sink.close()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == [
        {"log.level": "INFO", "message": "a", "log.offset": 0, "log.file.line": 0},
        {"message": "b", "log.offset": 0, "log.file.line": 0, "tags": ["unparsed"]},
    ]


def test_parse_command_reports_unreadable_file(tmp_path: Path) -> None:
    proc = run_osops("log", "parse", str(tmp_path / "missing.log"))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{tmp_path}/missing.log: No such file or directory"
