"""bench/log_parse.py's per-stage profile still runs against the fused chain as it is."""

from __future__ import annotations

import sys

from helpers import ROOT, SAMPLES

sys.path.insert(0, str(ROOT / "bench"))
import log_parse  # bench/ is no package: on the path above


def test_the_stage_profile_runs_on_both_builds() -> None:
    times = log_parse.stages([SAMPLES / "hp-ms-01-c29.nova-conductor.log"])
    stages = ["read", "redact", "decode", "parse", "json", "serialize", "cut"]
    assert list(times) == ["installed", "source"]
    for build in times.values():
        assert list(build) == stages
        assert all(seconds > 0 for seconds in build.values())
        assert build["parse"] > build["decode"]  # the state machine costs something
