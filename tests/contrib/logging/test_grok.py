"""The Logstash pipeline's grok patterns, run with pygrok, give the parser's records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, SAMPLES
from pygrok import Grok

from osops.log.record import LogRecord
from osops_logging.parse import Parse

LOGSTASH = ROOT / "contrib" / "logging" / "logstash"
CONF = (LOGSTASH / "pipeline" / "osops.conf").read_text()
PATTERNS = str(LOGSTASH / "patterns")
LINE_PATTERNS = re.search(r'"message" => \[(.*?)\]', CONF).group(1)  # type: ignore[union-attr]
ORDER = [
    Grok(p.strip().strip('"'), custom_patterns_dir=PATTERNS)
    for p in LINE_PATTERNS.split(",")
    if "SYSLOG" not in p
]
DEBUG = Grok("%{OSLO_DEBUG_SUFFIX}", custom_patterns_dir=PATTERNS)
ACCESS = Grok("%{OSLO_ACCESS}", custom_patterns_dir=PATTERNS)
RENAMES = {
    src: ".".join(re.findall(r"\[(\w+)\]", dst))
    for src, dst in re.findall(r'"(\w+)" => "(\[[\w\]\[]+\])"', CONF)
}
INTEGERS = set(re.search(r"convert => \{(.*?)\}", CONF, re.S).group(1).split('"')[1::4])  # type: ignore[union-attr]


def grok_event(line: str) -> dict[str, Any] | None:
    """What the pipeline makes of one line, as the conf's filters describe it."""
    fields = None
    for grok in ORDER:  # grok's break_on_match: the first pattern that matches
        fields = grok.match(line)
        if fields is not None:
            break
    if fields is None:
        return None
    event = {k: v for k, v in fields.items() if v is not None}
    if event.get("log_level") == "DEBUG" and (suffix := DEBUG.match(event["message"])):
        event.update({k: v for k, v in suffix.items() if v is not None})
    if '" status: ' in event["message"] and (access := ACCESS.match(event["message"])):
        event.update({k: v for k, v in access.items() if v is not None})
    event = {
        k: v for k, v in event.items() if not (k.startswith("openstack_") and v in ("-", "None"))
    }
    if "event_duration_seconds" in event:
        event["event_duration_ns"] = round(float(event.pop("event_duration_seconds")) * 1e9)
    for key in INTEGERS & set(event):
        event[key] = int(event[key])
    out = {RENAMES.get(k, k): v for k, v in event.items()}
    out["@timestamp"] = out.pop("oslo_timestamp").replace(" ", "T")
    out["message"] = out["message"].rstrip()
    return out


def single_line_records(path: Path) -> list[LogRecord]:
    raw = [
        LogRecord(raw=line.rstrip("\n"), file=str(path), line=n)
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
    ]
    return [r for r in Parse({"format": "oslo"}).run(raw) if r.parsed and "\n" not in r.raw]


FILES = [
    *sorted(SAMPLES.glob("hp-ms-01-c29.*.log")),
    SAMPLES / "oslo" / "nova-compute.log",
    SAMPLES / "functional_01-simple_in_l3-agent.log",
]


_HEAD = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \d+) ([A-Z]+) (\S+) ")


def one_line_records(lines: list[str]) -> list[int]:
    """Line numbers of the records that are one line, worked out apart from the parser.

    A line with an oslo.log head starts a record, unless it is TRACE or
    repeats the ERROR prefix (time, pid, logger) of the ERROR or CRITICAL line
    before it (today's tracebacks); the record is one line when the next line
    starts one too.
    """

    def head(n: int) -> tuple[str, str, str] | None:
        match = _HEAD.match(lines[n]) if 0 <= n < len(lines) else None
        return (match.group(1), match.group(2), match.group(3)) if match else None

    def starts(n: int) -> bool:
        this, before = head(n), head(n - 1)
        if this is None or this[1] == "TRACE":
            return False
        return not (
            this[1] == "ERROR"
            and before is not None
            and before[1] in ("ERROR", "CRITICAL")
            and (before[0], before[2]) == (this[0], this[2])
        )

    return [
        n + 1 for n in range(len(lines)) if starts(n) and (n + 1 == len(lines) or starts(n + 1))
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_grok_gives_the_parsers_fields(path: Path) -> None:
    records = single_line_records(path)
    lines = path.read_text(errors="replace").splitlines()
    assert [record.line for record in records] == one_line_records(lines)
    compared = {"@timestamp", "message", *RENAMES.values()} - {"host.name"}
    for record in records:
        event = grok_event(record.raw)
        assert event is not None, record.raw
        python = {k: v for k, v in record.to_dict().items() if k in compared}
        assert {k: v for k, v in event.items() if k in compared} == python, record.raw


def test_every_field_grok_names_is_one_the_parser_emits() -> None:
    from osops.log.record import FIELDS

    assert set(RENAMES.values()) <= set(FIELDS.values())


def test_syslog_header() -> None:
    event = Grok("%{OSLO_SYSLOG}", custom_patterns_dir=PATTERNS).match(
        "Mar 28 12:20:43.570064 devstack cinder-api[8526]: INFO cinder.api [-] GET /v3"
    )
    assert event is not None
    assert (event["host_name"], event["syslog_program"], event["process_pid"]) == (
        "devstack",
        "cinder-api",
        "8526",
    )
