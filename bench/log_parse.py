"""``osops log parse`` (files to JSON lines) against pygrok, os-log-merger and lognormalizer.

Two corpora of about ``--lines`` lines, each as several files:

- bundled: the real Kilo controller logs (contrib/logging/samples, 4 files)
  each repeated to size: tracebacks and long DEBUG lines, but only 248
  request contexts and 0.2% access lines;
- generated: ``bench/make_corpus.py`` (oslo.log's own formatter): every
  release's context shape, a new request id per API call, about half access
  lines on API services, tracebacks, a DEBUG/INFO/WARNING/ERROR mix.

Every contender runs as a whole process over the same files, output to
/dev/null, the contenders in turn each round (starting one further each
round), ``--rounds`` times; the machine is shared, so each ratio is taken per
round (the two runs next to each other) and the median and range of those
are printed:

- ``osops log parse FILES`` as installed (compiled by mypyc where the build
  could), and with the parser's pure-Python source (``PYTHONPATH``), each with
  its default jobs (the CPUs available) and with ``--jobs 1``;
- pygrok with the old osops-tools-logging grok pattern, parse only;
- ``os-log-merger FILES``, merging them by time;
- liblognorm's ``lognormalizer`` (Debian liblognorm-utils) with
  ``bench/lognormalizer/oslo.rulebase`` (the oslo.log head and access
  fields), JSON out: a compiled C parser, one core.

Then peak RSS of ``osops log parse`` at 1x and 4x each corpus, and
``--stages``: where one process's time goes per line (read and split,
redaction, the state machine, finishing and JSON), in this process for
the installed build and in a child for the Python source.

    .venv/bin/python bench/log_parse.py [--lines 300000] [--rounds 5] [--corpus both]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "contrib" / "logging" / "samples").glob("hp-ms-01-c29.*.log"))
RULES = ROOT / "bench" / "lognormalizer" / "oslo.rulebase"
BIN = Path(sys.executable).parent
# osops-tools-logging/logstash/logstash.conf, the "oslofmt" grok of the old osops.
OLD_OSOPS_PATTERN = (
    r"(?m)^%{TIMESTAMP_ISO8601:logdate}%{SPACE}%{NUMBER:pid}?%{SPACE}?"
    r"(?<loglevel>AUDIT|CRITICAL|DEBUG|INFO|TRACE|WARNING|ERROR) "
    r"\[?\b%{NOTSPACE:module}\b\]?%{SPACE}?%{GREEDYDATA:logmessage}?"
)
# pygrok as a process of its own over the files: import, compile, match every line.
PYGROK = f"""
import sys
from pygrok import Grok
# pygrok compiles with Python's re, which spells named groups (?P<...>).
grok = Grok({OLD_OSOPS_PATTERN.replace("(?<loglevel>", "(?P<loglevel>")!r})
for path in sys.argv[1:]:
    with open(path, errors="replace") as fh:
        for line in fh:
            grok.match(line)
"""
# The stages of one process's fused chain (osops_logging.fused), cumulative.
STAGES = """
import sys, time
import orjson
from osops.log import pipeline
from osops_logging import fused
from osops_logging.lines import LineParser
from osops.log.redaction import Scanner

chain = pipeline.build_chain(None)
whole = chain.fused()
files = sys.argv[1:]


def run(stage):
    started = time.perf_counter()
    for path in files:
        size = __import__("os").path.getsize(path)
        parser = LineParser(path, "auto", None, False)
        scanner = Scanner()
        with open(path, "rb") as fh:
            for data, _ in fused._blocks(fh, size, 1 << 20):
                if stage == "read":
                    lines = data.decode("utf-8", "replace").split("\\n")
                    continue
                if stage == "redact":
                    scanner.spans(data)
                    continue
                lines, sizes = fused._lines(data, scanner)
                if stage == "decode":
                    continue
                feed, offset = parser.feed, 0
                out = []
                for number, text in enumerate(lines):
                    done = feed(text, offset, number, offset + 1)
                    if done is not None and stage == "json":
                        out.append(orjson.dumps(fused._finish(done, "nova", "ctl-1")))
                    offset += 1
    return time.perf_counter() - started


def whole_chain():
    started = time.perf_counter()
    for path in files:
        size = __import__("os").path.getsize(path)
        for _ in whole.serialize(path, 0, size, 0):
            pass
    return time.perf_counter() - started


def cutting():
    from osops.log import parallel
    started = time.perf_counter()
    for path in files:
        for _ in parallel.pieces(whole, path):
            pass
    return time.perf_counter() - started


times = {}
for _ in range(3):
    for stage in ("read", "redact", "decode", "parse", "json"):
        times.setdefault(stage, []).append(run(stage))
    times.setdefault("serialize", []).append(whole_chain())
    times.setdefault("cut", []).append(cutting())
print(" ".join(f"{stage}={min(values)!r}" for stage, values in times.items()))
"""


def bundled(where: Path, lines: int) -> list[Path]:
    """The real samples, each file repeated as often as it takes to reach ``lines`` in all."""
    where.mkdir(parents=True, exist_ok=True)
    texts = [path.read_bytes() for path in SAMPLES]
    per_copy = sum(text.count(b"\n") for text in texts)
    copies = -(-lines // per_copy)
    paths = []
    for source, text in zip(SAMPLES, texts, strict=True):
        path = where / source.name
        with open(path, "wb") as fh:
            for _ in range(copies):
                fh.write(text)
        paths.append(path)
    return paths


def generated(where: Path, lines: int) -> list[Path]:
    sys.path.insert(0, str(ROOT / "bench"))
    import make_corpus

    return make_corpus.write(where, lines)


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                total += block.count(b"\n")
    return total


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB, its largest process) of one command, output discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    errors = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed ({status}): {errors[-2000:]}")
    return elapsed, usage.ru_maxrss


def contenders(paths: list[Path], jobs: int | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    files = [str(path) for path in paths]
    here = dict(os.environ)
    source = {**here, "PYTHONPATH": str(ROOT / "contrib" / "logging")}
    osops = [str(BIN / "osops"), "log", "parse", *files, "-o", "/dev/null"]
    default = ["--jobs", str(jobs)] if jobs else []
    found: dict[str, tuple[list[str], dict[str, str]]] = {
        "osops": ([*osops, *default], here),
        "osops-pure": ([*osops, *default], source),
        "osops-j1": ([*osops, "--jobs", "1"], here),
        "osops-pure-j1": ([*osops, "--jobs", "1"], source),
        "pygrok": ([sys.executable, "-c", PYGROK, *files], here),
        "os-log-merger": ([str(BIN / "os-log-merger"), *files], here),
    }
    lognormalizer = shutil.which("lognormalizer")
    if lognormalizer:
        # It reads standard input only: cat costs next to nothing beside it.
        script = f'cat "$@" | {lognormalizer} -r {RULES} -e json -T'
        found["lognormalizer"] = (["sh", "-c", script, "sh", *files], here)
    return found


def measure(
    paths: list[Path], rounds: int, jobs: int | None
) -> dict[str, list[tuple[float, int]]]:
    runs = contenders(paths, jobs)
    names = list(runs)
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in names}
    for number in range(rounds):
        # Each round starts one further along: no contender always follows the same one.
        for name in names[number % len(names) :] + names[: number % len(names)]:
            cmd, env = runs[name]
            results[name].append(run(cmd, env))
    return results


def ratio(results: dict[str, list[tuple[float, int]]], slow: str, fast: str) -> str:
    """Per-round ratios slow/fast (paired): median, and the range."""
    pairs = [a[0] / b[0] for a, b in zip(results[slow], results[fast], strict=True)]
    return f"{statistics.median(pairs):5.2f}x ({min(pairs):.2f} to {max(pairs):.2f})"


def stages(paths: list[Path]) -> dict[str, dict[str, float]]:
    """Seconds per stage, cumulative, for the installed build and the Python source."""
    out = {}
    for build, env in (
        ("installed", dict(os.environ)),
        ("source", {**os.environ, "PYTHONPATH": str(ROOT / "contrib" / "logging")}),
    ):
        done = subprocess.run(
            [sys.executable, "-c", STAGES, *map(str, paths)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd="/",
        )
        out[build] = {
            key: float(value) for key, value in (item.split("=") for item in done.stdout.split())
        }
    return out


def compiled() -> str:
    """Which build of the parser is installed (what ``osops`` runs)."""
    code = "import osops_logging.parse as m; print(m.Parse.build)"
    where = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    return where.stdout.strip()


def report(name: str, lines: int, results: dict[str, list[tuple[float, int]]]) -> None:
    print(f"\n== {name} corpus: {lines:,} lines")
    print(f"  {'contender':<15} {'median s':>9} {'range':>15} {'lines/s':>10} {'peak RSS':>9}")
    for contender, values in results.items():
        seconds = [value[0] for value in values]
        median = statistics.median(seconds)
        rss = statistics.median(value[1] for value in values) / 1024
        print(
            f"  {contender:<15} {median:9.2f} {min(seconds):6.2f} to {max(seconds):5.2f} "
            f"{lines / median:10,.0f} {rss:7.0f} MiB"
        )
    print("  ratios, per round (median, range):")
    for build in ("osops", "osops-pure", "osops-j1", "osops-pure-j1"):
        baselines = [b for b in ("pygrok", "os-log-merger", "lognormalizer") if b in results]
        cells = "  ".join(f"{b} {ratio(results, b, build)}" for b in baselines)
        print(f"    {build:<14} {cells}")
    print(f"    compiled/pure  {ratio(results, 'osops-pure', 'osops')} (default jobs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, help="osops log parse --jobs (default: its own)")
    parser.add_argument("--corpus", choices=("bundled", "generated", "both"), default="both")
    parser.add_argument("--stages", action="store_true", help="also time each stage")
    parser.add_argument("--rss", action="store_true", help="also peak RSS at 1x and 4x")
    args = parser.parse_args()
    print(f"osops-logging's parser: {compiled()}; goal 2x pygrok and 3x os-log-merger")
    if not shutil.which("lognormalizer"):
        print("lognormalizer: not installed (apt-get install liblognorm-utils)")
    kinds = ("bundled", "generated") if args.corpus == "both" else (args.corpus,)
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        for kind in kinds:
            make = bundled if kind == "bundled" else generated
            paths = make(Path(tmp) / kind, args.lines)
            lines = count_lines(paths)
            report(kind, lines, measure(paths, args.rounds, args.jobs))
            if args.rss:
                four = make(Path(tmp) / f"{kind}-4x", lines * 4)
                osops = [str(BIN / "osops"), "log", "parse", "-o", "/dev/null"]
                source = {**os.environ, "PYTHONPATH": str(ROOT / "contrib" / "logging")}
                for build, env in (("installed", None), ("source", source)):
                    _, one_x = run([*osops, *map(str, paths)], env)
                    _, four_x = run([*osops, *map(str, four)], env)
                    print(
                        f"  peak RSS, {build}: {one_x / 1024:.0f} MiB at 1x, "
                        f"{four_x / 1024:.0f} MiB at 4x ({count_lines(four):,} lines)"
                    )
                shutil.rmtree(Path(tmp) / f"{kind}-4x")
            if args.stages:
                per = 1e9 / lines
                print("  one process, ns per line (cumulative; best of 3):")
                for build, times in stages(paths).items():
                    cells = " ".join(f"{k} {v * per:5.0f}" for k, v in times.items())
                    print(f"    {build:<9} {cells}")
            shutil.rmtree(Path(tmp) / kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
