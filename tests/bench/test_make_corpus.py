"""bench/make_corpus.py writes what bench/log_parse.py says it measures on, the same each time."""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

from helpers import ROOT

from osops.log import pipeline

sys.path.insert(0, str(ROOT / "bench"))
import make_corpus  # bench/ is no package: on the path above

CONTEXT = re.compile(r"^\S+ \S+ \d+ [A-Z]+ \S+ \[([^\]]*)\]")


def _records(paths: list[Path]) -> dict[str, list[dict[str, object]]]:
    chain = pipeline.build_chain(None)
    return {path.name: [r.to_dict() for r in chain.records(str(path))] for path in paths}


def test_the_corpus_is_realistic_and_the_same_for_a_seed(tmp_path: Path) -> None:
    paths = make_corpus.write(tmp_path / "a", 8000, seed=3)
    again = make_corpus.write(tmp_path / "b", 8000, seed=3)
    other = make_corpus.write(tmp_path / "c", 8000, seed=4)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    assert [p.read_bytes() for p in paths] != [p.read_bytes() for p in other]
    lines = sum(p.read_bytes().count(b"\n") for p in paths)
    assert 8000 <= lines < 8100

    # Every release's context shape, each written by oslo.log as that release was configured.
    tokens = {
        path.name: {
            len(m.group(1).split())
            for line in path.read_text().splitlines()
            if (m := CONTEXT.match(line))
            and m.group(1) != "-"
            and not m.group(1).startswith("instance: ")  # a traceback line
        }
        for path in paths
    }
    assert tokens["nova-api.log"] == {8}  # Rocky on
    assert tokens["neutron-server.log"] == {7}  # Pike to Queens
    assert tokens["cinder-api.log"] == {6}  # Kilo to Ocata

    records = _records(paths)
    every = [r for file in records.values() for r in file]
    assert not [r for r in every if "unparsed" in r.get("tags", [])]
    # A new request id per API call: at least one per three records.
    ids = {r.get("openstack.request_id") for r in every} - {None}
    assert len(ids) > len(every) / 3
    # About half the lines of the API services are access lines (glance's own
    # format is not parsed for its fields, so it is not counted here).
    for api in ("nova-api.log", "neutron-server.log", "cinder-api.log", "nova-api-kilo.log"):
        share = sum("http.request.method" in r for r in records[api]) / len(records[api])
        assert 0.35 < share < 0.65, (api, share)
    assert all("http.request.method" not in r for r in records["nova-compute.log"])
    levels = collections.Counter(r.get("log.level") for r in every)
    assert {"DEBUG", "INFO", "WARNING", "ERROR"} <= set(levels)
    assert levels["INFO"] > levels["WARNING"] > levels["ERROR"] > 0
    traces = [r for r in every if "error.stack_trace" in r]
    assert traces and all(r.get("error.type") for r in traces)
    kilo = "\n".join(p.read_text() for p in paths if p.name == "neutron-openvswitch-agent.log")
    assert " TRACE neutron" in kilo  # Kilo's traceback lines
