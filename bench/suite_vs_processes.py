"""A suite of 50 checks in one process against 50 ``osops check run`` processes.

Starts memcached and an HTTP server on 127.0.0.1, writes a suite of 50 checks
against them (memcached, http, dummy), then times, interleaved over a few
rounds, ``osops check suite`` once against the same 50 checks run one process
each. Prints medians, the ratio, and the cost per check.

    .venv/bin/python bench/suite_vs_processes.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from servers import daemon, free_port

OSOPS = str(Path(sys.executable).parent / "osops")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def entries(memcached: int, web: int) -> list[tuple[str, list[str]]]:
    checks = []
    for n in range(50):
        kind = ("memcached", "http", "dummy")[n % 3]
        if kind == "memcached":
            checks.append((kind, ["--port", str(memcached)]))
        elif kind == "http":
            checks.append((kind, ["--url", f"http://127.0.0.1:{web}/"]))
        else:
            checks.append((kind, ["--text", f"dummy {n}"]))
    return checks


def suite_yaml(checks: list[tuple[str, list[str]]]) -> str:
    lines = ["concurrency: 8", "checks:"]
    for n, (kind, args) in enumerate(checks):
        pairs = zip(args[::2], args[1::2], strict=True)
        options = ", ".join(f"{flag.lstrip('-')}: '{value}'" for flag, value in pairs)
        lines.append(f"  - {{check: {kind}, name: c{n}, options: {{{options}}}}}")
    return "\n".join(lines) + "\n"


def timed(commands: list[list[str]]) -> float:
    started = time.perf_counter()
    for cmd in commands:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        argv = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-u", "nobody"]
        with daemon(argv, port, Path(tmp) / "memcached.log"):
            web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
            threading.Thread(target=web.serve_forever, daemon=True).start()
            checks = entries(port, web.server_address[1])
            suite = Path(tmp) / "suite.yaml"
            suite.write_text(suite_yaml(checks))
            separate = [[OSOPS, "check", "run", kind, *extra] for kind, extra in checks]
            together = [[OSOPS, "check", "suite", str(suite), "-f", "value"]]
            timed(together)  # warm caches once
            one, many = [], []
            for _ in range(args.rounds):
                one.append(timed(together))
                many.append(timed(separate))
            web.shutdown()
    suite_s, procs_s = statistics.median(one), statistics.median(many)
    print(f"{len(checks)} checks, {args.rounds} rounds (medians)")
    print(
        f"  osops check suite (1 process, concurrency 8): {suite_s:6.2f} s "
        f"= {1000 * suite_s / len(checks):5.1f} ms per check"
    )
    print(
        f"  osops check run x{len(checks)} (one process each):  {procs_s:6.2f} s "
        f"= {1000 * procs_s / len(checks):5.1f} ms per check"
    )
    print(f"ratio processes / suite: {procs_s / suite_s:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
