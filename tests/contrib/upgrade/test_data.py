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
TOOLS = ROOT / "contrib" / "upgrade" / "tools"
GENERATE = TOOLS / "generate.py"
HISTORY = TOOLS / "history.py"
SDISTS = ROOT / ".work" / "nova-sdists"  # kept between runs: 11 sdists, 120 MB
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
    "path", sorted(DATA.glob("*/20*.json.gz")), ids=lambda p: p.parent.name + "-" + p.name
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
    newest = sorted(p.name for p in (DATA / "nova").glob("20*.json.gz"))[-1][:6]
    values = _document("nova", newest)["values"]["filter_scheduler"]
    assert {"ComputeFilter", "AggregateInstanceExtraSpecsFilter", "PciPassthroughFilter"} <= set(
        values["enabled_filters"]
    )
    assert "nova.scheduler.weights.ram.RAMWeigher" in values["weight_classes"]


@pytest.mark.integration
def test_history_reproduces_the_committed_file(tmp_path: Path) -> None:
    """Nova's filters of Train to 2024.2, read from their sdists on PyPI, give the same bytes."""
    proc = subprocess.run(
        [sys.executable, str(HISTORY), "--cache", str(SDISTS), "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    made = (tmp_path / "history.json.gz").read_bytes()
    assert made == (DATA / "nova" / "history.json.gz").read_bytes()
    assert made[4:8] == b"\0\0\0\0"


@pytest.mark.integration
def test_history_reads_the_source_as_the_installed_code_does() -> None:
    """Where the two meet (the oldest release of the option data), reading the sdist's
    source gives exactly the filters and weighers nova's loader gave in the venv."""
    sys.path.insert(0, str(TOOLS))
    try:
        import history
    finally:
        sys.path.remove(str(TOOLS))
    SDISTS.mkdir(parents=True, exist_ok=True)
    oldest = sorted(p.name for p in (DATA / "nova").glob("20*.json.gz"))[0][:6]
    document = _document("nova", oldest)
    archive = history.sdist(document["version"], SDISTS)
    for (group, option), (package, base, dotted) in history.KINDS.items():
        from_code = set(document["values"][group][option]) - {
            "nova.scheduler.weights.all_weighers"
        }
        assert set(history.values_of(archive, package, base, dotted)) == from_code


def test_history_names_what_left_nova_before_the_data() -> None:
    with gzip.open(DATA / "nova" / "history.json.gz") as fh:
        document = json.load(fh)
    filters = document["values"]["filter_scheduler"]["enabled_filters"]
    assert filters["RetryFilter"] == "2020.1"  # removed in Victoria
    newest = sorted(p.name for p in (DATA / "nova").glob("20*.json.gz"))[-1][:6]
    known = _document("nova", newest)["values"]["filter_scheduler"]["enabled_filters"]
    assert not set(filters) & set(known)
