"""Sinks' failures that need no server: one line, and nothing checkpointed."""

from __future__ import annotations

from pathlib import Path

from helpers import SAMPLES, run_osops

from osops.testing import free_port


def test_unreachable_cluster_is_one_line(tmp_path: Path) -> None:
    proc = run_osops(
        "log",
        "ship",
        str(SAMPLES / "functional_01-simple_in_l3-agent.log"),
        "--sink",
        "opensearch",
        "--option",
        f"hosts=http://127.0.0.1:{free_port()}",
        "--option",
        "retries=0",
        "--retry-for",
        "0",
        "--state",
        str(tmp_path / "state.json"),
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("opensearch at http://127.0.0.1:")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "state.json").exists()  # nothing accepted, nothing checkpointed
