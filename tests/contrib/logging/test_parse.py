"""The parse filter over data-driven samples (samples/*.yaml): every line, every field.

A case marked ``whole`` holds each record to exactly the fields listed.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from osops.log import pipeline
from osops.log.record import LogRecord
from osops_logging.contexts import Contexts
from osops_logging.lines import LineParser

CASES = [
    case
    for path in sorted((Path(__file__).parent / "samples").glob("*.yaml"))
    for case in yaml.safe_load(path.read_text())
]


def run_chain(
    file: str, lines: list[str], year: int | None = None, fmt: str | None = None
) -> list[dict[str, Any]]:
    options = [f"parse.year={year}"] if year else []
    options += [f"parse.format={fmt}"] if fmt else []
    chain = pipeline.build_chain(None, options)
    raw = [LogRecord(raw=line, file=file, line=n) for n, line in enumerate(lines, 1)]
    return [record.to_dict() for record in chain.run(raw)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_sample(case: dict[str, Any]) -> None:
    records = run_chain(case["file"], case["lines"], case.get("year"), case.get("format"))
    if case.get("whole"):  # every field, and no other
        assert records == case["records"]
        return
    assert len(records) == len(case["records"])
    for got, want in zip(records, case["records"], strict=True):
        assert {key: got.get(key) for key in want} == want


def test_parse_is_forced_to_one_format() -> None:
    line = "Oct 11 07:49:20 host systemd: Starting"
    assert run_chain("x.log", [line])[0].get("log.logger") == "systemd"
    chain = pipeline.build_chain(["parse"], ["parse.format=oslo"])
    (record,) = chain.run([LogRecord(raw=line)])
    assert not record.parsed


def test_interleaved_records_keep_their_own_lines_and_resume_safely(tmp_path: Path) -> None:
    # Shipping resumes at a record's end: never past the first line of one not yet given back.
    lines = next(c for c in CASES if c["name"].startswith("two workers of one"))["lines"]
    path = tmp_path / "neutron-server.log"
    path.write_text("".join(f"{line}\n" for line in lines))
    ends = list(itertools.accumulate(len(line) + 1 for line in lines))
    records = list(pipeline.build_chain(None).records(str(path)))
    assert [record.raw.split("\n") for record in records] == [
        [line for line in lines if " 3301 ERROR " in line],
        [line for line in lines if " 3302 ERROR " in line],
        lines[-1:],
    ]
    assert [(record.offset, record.end) for record in records] == [
        (0, ends[1]),  # its lines go on to line 10, the next record starts at line 3
        (ends[1], ends[11]),
        (ends[11], ends[12]),
    ]


def test_the_state_machine_alone_with_its_defaults() -> None:
    # As the fused chain runs it: no filter between, the path given once.
    line = "2024-05-02 09:14:03.512 812 INFO nova.api [-] Hello"
    for keep_raw in (True, False):
        parser = LineParser("/var/log/nova/nova-api.log", keep_raw=keep_raw)
        assert parser.feed(line, 7, 2, 7 + len(line) + 1) is None
        assert parser.flush() == [
            {
                "log.file.path": "/var/log/nova/nova-api.log",
                "log.offset": 7,
                "log.file.line": 2,
                "openstack.log_format": "oslo",
                "@timestamp": "2024-05-02T09:14:03.512",
                "process.pid": 812,
                "log.level": "INFO",
                "log.logger": "nova.api",
                "message": "Hello",
            }
        ]
        assert parser.flush() == []


@pytest.mark.parametrize(
    ("fmt", "line", "starts"),
    [
        ("auto", "2024-05-02 09:14:03.512 812 INFO nova.api [-] Hello", True),
        ("auto", "2024-05-02 09:14:03.512 812 ERROR nova.api [-] Failed", False),
        ("auto", "2015-10-29 10:51:12.480 3405 TRACE neutron.service x", False),
        ("auto", "Mar 28 12:20:43 ctl1 nova-api[812]: INFO nova.api [-] Hi", True),
        ("auto", "Mar 28 12:20:43 ctl1 nova-api[812]: ERROR nova.api [-] Oops", False),
        ("auto", "Oct 11 07:49:20 host systemd: Starting", True),
        ("auto", "  File x", False),
        ("syslog", "2024-05-02 09:14:03.512 812 INFO nova.api [-] Hello", False),
        ("oslo", "Mar 28 12:20:43 ctl1 nova-api[812]: INFO nova.api [-] Hi", False),
    ],
)
def test_where_a_file_may_be_cut(fmt: str, line: str, starts: bool) -> None:
    assert LineParser("x.log", fmt).starts_record(line) is starts


def test_syslog_year_from_the_files_time(tmp_path: Path) -> None:
    path = tmp_path / "messages"
    path.write_text("Mar 28 12:20:43 ctl1 nova-api[812]: INFO nova.api [-] Hi\n")
    then = time.mktime((2019, 6, 1, 12, 0, 0, 0, 0, -1))
    os.utime(path, (then, then))
    (record,) = pipeline.build_chain(None).records(str(path))
    assert record.timestamp == "2019-03-28T12:20:43"


def test_a_headless_line_joins_the_raw_text_and_end(tmp_path: Path) -> None:
    lines = [
        "2015-10-29 10:51:11.600 4470 DEBUG keystoneclient.session [-] RESP: [200]",
        'RESP BODY: {"token": {}}',
        "2015-10-29 10:51:12.000 4470 INFO nova.api [-] Next",
    ]
    path = tmp_path / "nova-api.log"
    path.write_text("".join(f"{line}\n" for line in lines))
    first, second = pipeline.build_chain(None).records(str(path))
    assert (first.raw, first.offset, first.end) == ("\n".join(lines[:2]), 0, len(lines[0]) + 26)
    assert (second.raw, second.offset) == (lines[2], len(lines[0]) + 26)


_TOKENS = st.sampled_from(
    ["-", "None", "req-1", "req-2", "req-", "admin", "demo", "default", "u", "req-3x", "x req-4"]
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(_TOKENS, max_size=9), st.sampled_from([" ", " ", "  ", "\t"])),
        min_size=1,
        max_size=6,
    )
)
def test_contexts_read_through_the_identity_cache_as_read_whole(
    contexts: list[tuple[list[str], str]],
) -> None:
    # The cache keys on all but the request ids: whatever the shape, spacing or
    # order of lines, the fields (and their order) are those of the whole text.
    memo = Contexts()
    for tokens, space in contexts:
        text = space.join(tokens)
        if not text or text == "-" or text.startswith("instance: "):
            continue
        fields: dict[str, Any] = {}
        memo.apply(fields, text)
        expected = Contexts.fields(text)
        assert list(fields.items()) == list(expected.items()), text
