"""The option data: generated from the real code, reproducible byte for byte, sound."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

DATA = ROOT / "contrib" / "upgrade" / "osops_upgrade" / "data"
GENERATE = ROOT / "contrib" / "upgrade" / "tools" / "generate.py"
KEYSTONE_VENV = ROOT / ".work" / "keystone-venv"


@pytest.mark.integration
def test_generator_reproduces_the_committed_keystone_file(tmp_path: Path) -> None:
    # The test Keystone's venv holds keystone 30.0.0 (2026.2) with the pins of
    # tests/fixtures/keystone/constraints.txt, which are that release's lock:
    # the generator runs oslo-config-generator and the extractor in it again.
    proc = subprocess.run(
        [sys.executable, str(GENERATE), "--service", "keystone", "--series", "2026.2",
         "--venv", str(KEYSTONE_VENV), "--output", str(tmp_path / "out"),
         "--work", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    made = (tmp_path / "out" / "keystone" / "2026.2.json.gz").read_bytes()
    assert made == (DATA / "keystone" / "2026.2.json.gz").read_bytes()


def _document(service: str, series: str) -> dict:  # type: ignore[type-arg]
    with gzip.open(DATA / service / f"{series}.json.gz") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "path", sorted(DATA.glob("*/*.json.gz")), ids=lambda p: p.parent.name + "-" + p.name
)
def test_every_file_is_deterministic_and_without_help(path: Path) -> None:
    raw = path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0", "gzip mtime must be 0"
    text = gzip.decompress(raw).decode()
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert document["service"] == path.parent.name and document["series"] == path.name[:6]
    options = [o for group in document["options"].values() for o in group.values()]
    assert options and not any("help" in o for o in options)
    assert document["policies"], "policy names derived from the installed code"
    assert str(ROOT) not in text  # no path of the machine that made it


def test_nova_values_come_from_the_code() -> None:
    newest = sorted(p.name for p in (DATA / "nova").glob("*.json.gz"))[-1][:6]
    values = _document("nova", newest)["values"]["filter_scheduler"]
    assert {"ComputeFilter", "AggregateInstanceExtraSpecsFilter", "PciPassthroughFilter"} <= set(
        values["enabled_filters"]
    )
    assert "nova.scheduler.weights.ram.RAMWeigher" in values["weight_classes"]
