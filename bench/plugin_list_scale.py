"""``osops plugin list`` with hundreds of installed distributions, against a bare environment.

Creates N fake distributions (dist-info directories, a third of them with
entry points of their own) in a directory put on PYTHONPATH, then times
``osops plugin list`` with and without it, interleaved. Listing must not
grow with unrelated distributions.

    .venv/bin/python bench/plugin_list_scale.py [--dists 300] [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OSOPS = str(Path(sys.executable).parent / "osops")


def make_site(where: Path, count: int) -> None:
    for n in range(count):
        info = where / f"fakedist{n:04d}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: fakedist{n:04d}\nVersion: 1.0\n"
        )
        if n % 3 == 0:
            (info / "entry_points.txt").write_text(f"[console_scripts]\nfake{n} = fake{n}:main\n")


def timed(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [OSOPS, "plugin", "list", "-f", "value"], stdout=subprocess.DEVNULL, env=env, check=True
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dists", type=int, default=300)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    # Not under /tmp: stevedore switches its entry-point cache off for paths there.
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent.parent) as site:
        make_site(Path(site), args.dists)
        bare = dict(os.environ)
        crowded = {**os.environ, "PYTHONPATH": site}
        timed(bare), timed(crowded)  # warm the caches
        base, many = [], []
        for _ in range(args.runs):
            base.append(timed(bare))
            many.append(timed(crowded))
    b, m = statistics.median(base), statistics.median(many)
    print(f"osops plugin list, median of {args.runs}:")
    print(f"  installed distributions only:      {b * 1000:7.1f} ms")
    print(f"  plus {args.dists} more distributions:   {m * 1000:7.1f} ms")
    print(f"ratio: {m / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
