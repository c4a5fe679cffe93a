"""The parse filter over data-driven samples (samples/*.yaml): every line, every field.

A case marked ``whole`` holds each record to exactly the fields listed.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from osops.log import pipeline
from osops.log.record import LogRecord

CASES = [
    case
    for path in sorted((Path(__file__).parent / "samples").glob("*.yaml"))
    for case in yaml.safe_load(path.read_text())
]


def run_chain(file: str, lines: list[str], year: int | None = None) -> list[dict[str, Any]]:
    options = [f"parse.year={year}"] if year else []
    chain = pipeline.build_chain(None, options)
    raw = [LogRecord(raw=line, file=file, line=n) for n, line in enumerate(lines, 1)]
    return [record.to_dict() for record in chain.run(raw)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_sample(case: dict[str, Any]) -> None:
    records = run_chain(case["file"], case["lines"], case.get("year"))
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
