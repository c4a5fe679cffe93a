"""``osops log parse`` (file to JSON lines) against pygrok and os-log-merger, side by side.

The corpus is the bundled real Kilo controller logs (tracebacks, long DEBUG
lines, request contexts) repeated to at least 300k lines. One run measures:

- ``osops log parse CORPUS -o /dev/null`` (redact, parse, enrich, JSON lines);
- pygrok with the old osops-tools-logging Logstash pattern, parse only, in process;
- ``os-log-merger CORPUS`` to /dev/null;
- ``osops log parse`` again with the parser's pure-Python source
  (contrib/logging) instead of the installed build that tools/setup compiles
  with mypyc, to show what compiling gives;

then peak RSS of ``osops log parse`` at 1x and 4x the corpus (it must not grow).
The three run in turn, ``--rounds`` times (the machine is shared: other
tenants steal cycles in bursts), and each is judged by its best round.
``osops log parse`` uses the CPUs it may run on; ``--jobs 1`` shows one
process alone.

    .venv/bin/python bench/log_parse.py [--lines 300000] [--rounds 5] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "contrib" / "logging" / "samples").glob("hp-ms-01-c29.*.log"))
BIN = Path(sys.executable).parent
# osops-tools-logging/logstash/logstash.conf, the "oslofmt" grok of the old osops.
OLD_OSOPS_PATTERN = (
    r"(?m)^%{TIMESTAMP_ISO8601:logdate}%{SPACE}%{NUMBER:pid}?%{SPACE}?"
    r"(?<loglevel>AUDIT|CRITICAL|DEBUG|INFO|TRACE|WARNING|ERROR) "
    r"\[?\b%{NOTSPACE:module}\b\]?%{SPACE}?%{GREEDYDATA:logmessage}?"
)


def corpus(path: Path, lines: int) -> int:
    text = "".join(p.read_text(errors="replace") for p in SAMPLES)
    per_copy = text.count("\n")
    copies = -(-lines // per_copy)
    with open(path, "w") as fh:
        for _ in range(copies):
            fh.write(text)
    return per_copy * copies


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and minor page faults of one command, output discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({status})")
    return elapsed, usage.ru_maxrss, usage.ru_minflt


def pygrok_seconds(path: Path) -> float:
    from pygrok import Grok

    # pygrok compiles with Python's re, which spells named groups (?P<...>).
    grok = Grok(OLD_OSOPS_PATTERN.replace("(?<loglevel>", "(?P<loglevel>"))
    started = time.perf_counter()
    with open(path, errors="replace") as fh:
        for line in fh:
            grok.match(line)
    return time.perf_counter() - started


def compiled() -> bool:
    """Whether the installed parser is the mypyc build (what ``osops`` runs)."""
    code = "import osops_logging.lines as m; print(m.__file__)"
    where = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    return not where.stdout.strip().endswith(".py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, help="osops log parse --jobs (default: its own)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        one, four = Path(tmp) / "corpus-1x.log", Path(tmp) / "corpus-4x.log"
        lines = corpus(one, args.lines)
        corpus(four, lines * 4)
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        osops = [str(BIN / "osops"), "log", "parse", str(one), "-o", "/dev/null", *jobs]
        merger = [str(BIN / "os-log-merger"), str(one)]
        source = {**os.environ, "PYTHONPATH": str(ROOT / "contrib" / "logging")}
        rounds = [
            (run(osops)[0], pygrok_seconds(one), run(merger)[0], run(osops, source)[0])
            for _ in range(args.rounds)
        ]
        osops_s, grok_s, merger_s, pure_s = (min(times) for times in zip(*rounds, strict=True))
        _, rss_1x, faults = run(osops)
        _, rss_4x, _ = run([*osops[:3], str(four), *osops[4:]])
    rate = lines / osops_s
    build = "compiled by mypyc" if compiled() else "pure Python, not compiled"
    print(f"corpus: {lines} lines of real OpenStack logs ({len(SAMPLES)} files repeated)")
    print(f"best of {args.rounds} rounds; osops log parse with {args.jobs or 'default'} jobs")
    print(f"  osops log parse (to JSON lines): {osops_s:6.2f} s  {rate:9,.0f} lines/s  ({build})")
    print(f"  the same, parser's Python source: {pure_s:5.2f} s  {lines / pure_s:9,.0f} lines/s")
    print(f"  pygrok, old osops pattern:       {grok_s:6.2f} s  {lines / grok_s:9,.0f} lines/s")
    print(
        f"  os-log-merger:                   {merger_s:6.2f} s  {lines / merger_s:9,.0f} lines/s"
    )
    print(f"ratio osops / pygrok:        {grok_s / osops_s:.2f}x (goal 2x)")
    print(f"ratio osops / os-log-merger: {merger_s / osops_s:.2f}x (goal 3x)")
    print(f"ratio installed / source:    {pure_s / osops_s:.2f}x")
    print(
        f"peak RSS of osops log parse: {rss_1x / 1024:.0f} MiB at 1x, "
        f"{rss_4x / 1024:.0f} MiB at 4x; {faults:,} page faults at 1x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
