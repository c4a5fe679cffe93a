"""Start-up cost of ``osops check run dummy`` against a bare nagiosplugin script.

Icinga starts one process per check, thousands a minute, so what matters is
the whole process: interpreter start, imports, argument parsing, output.
Runs are paired and interleaved (baseline, osops, check_dummy, repeat) with
the same interpreter, so machine load hits all of them alike; medians are
compared.

    .venv/bin/python bench/check_startup.py [--runs 30] [--max-ratio 1.2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECK_DUMMY = "/usr/lib/nagios/plugins/check_dummy"


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--max-ratio", type=float, default=None, help="exit 1 when osops/baseline exceeds this"
    )
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    osops = bindir / "osops"
    commands = {
        "nagiosplugin script": [
            sys.executable,
            str(HERE / "nagiosplugin_dummy.py"),
            "--state",
            "0",
            "--text",
            "ok",
        ],
        "osops check run": [str(osops), "check", "run", "dummy", "--state", "0", "--text", "ok"],
    }
    if os.access(CHECK_DUMMY, os.X_OK):
        commands["check_dummy (C)"] = [CHECK_DUMMY, "0", "ok"]
    for cmd in commands.values():  # warm caches and byte-code once
        timed(cmd)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["nagiosplugin script"]
    print(f"interpreter: {sys.executable} ({sys.version.split()[0]}), {args.runs} paired runs")
    for name, median in medians.items():
        print(f"  {name:22s} median {median * 1000:7.1f} ms")
    ratio = medians["osops check run"] / base
    print(f"ratio osops / nagiosplugin script: {ratio:.2f}")
    if "check_dummy (C)" in medians:
        native = medians["osops check run"] / medians["check_dummy (C)"]
        print(f"ratio osops / check_dummy:        {native:.2f}")
    if args.max_ratio is not None and ratio > args.max_ratio:
        print(f"FAIL: ratio {ratio:.2f} exceeds {args.max_ratio}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
