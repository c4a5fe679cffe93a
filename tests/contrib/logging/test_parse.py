"""The parse filter over data-driven samples (samples/*.yaml): every line, every field."""

from __future__ import annotations

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
    assert len(records) == len(case["records"])
    for got, want in zip(records, case["records"], strict=True):
        assert {key: got.get(key) for key in want} == want


def test_parse_is_forced_to_one_format() -> None:
    line = "Oct 11 07:49:20 host systemd: Starting"
    assert run_chain("x.log", [line])[0].get("log.logger") == "systemd"
    chain = pipeline.build_chain(["parse"], ["parse.format=oslo"])
    (record,) = chain.run([LogRecord(raw=line)])
    assert not record.parsed
