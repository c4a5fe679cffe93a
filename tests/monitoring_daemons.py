"""Icinga 2 and Nagios 4, configured from ``osops check export`` and run for real.

Both daemons run checks as the ``nagios`` user, which cannot read /root or
pytest's private temporary directories: everything they read lives under a
world-readable directory in /var/tmp, osops included (a venv made with
/usr/bin/python3 from freshly built wheels).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from helpers import ROOT

RUN_AS = "nagios"


def readable_dir(prefix: str) -> Path:
    """A fresh directory under /var/tmp that the nagios user can read and write."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
    path.chmod(0o755)
    shutil.chown(path, RUN_AS, RUN_AS)
    return path


def build_venv(where: Path) -> Path:
    """A venv of the system Python holding osops, osops-monitoring and osops-logging."""
    wheels = where / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [
            *pip,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(ROOT),
            str(ROOT / "contrib/monitoring"),
            str(ROOT / "contrib/logging"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    venv = where / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [
            str(venv / "bin/python"),
            "-m",
            "pip",
            "--disable-pip-version-check",
            "-q",
            "install",
            "--find-links",
            str(wheels),
            "-c",
            str(ROOT / "constraints.txt"),
            "osops",
            "osops-monitoring",
            "osops-logging",
            "-r",
            str(ROOT / "requirements.txt"),
        ],
        check=True,
        capture_output=True,
        timeout=900,
    )
    subprocess.run(["chmod", "-R", "a+rX", str(where)], check=True)
    return venv / "bin" / "osops"


def export(osops: Path, fmt: str, *extra: str) -> str:
    proc = subprocess.run(
        [str(osops), "check", "export", "--format", fmt, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return proc.stdout


def mask_numbers(text: str) -> str:
    """Output with measured numbers masked, for comparing two runs of one check."""
    return re.sub(r"\d+(\.\d+)?", "N", text)


def perf_labels(items: list[str] | str) -> list[str]:
    text = " ".join(items) if isinstance(items, list) else items
    return sorted(re.findall(r"('[^']+'|[^\s=]+)=", text))


def by_hand(osops: Path, check: str, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run a check as the operator would: (exit code, output without perfdata, perfdata)."""
    proc = subprocess.run(
        [str(osops), "check", "run", check, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )
    first, *rest = proc.stdout.rstrip("\n").split("\n")
    text, _, perfdata = first.partition(" | ")
    return proc.returncode, "\n".join([text, *rest]), perfdata


def wait_for(predicate: Any, deadline: float, what: str) -> Any:
    end = time.monotonic() + deadline
    last: Any = None
    while time.monotonic() < end:
        try:
            last = predicate()
        except Exception as exc:  # not ready yet
            last = exc
        else:
            if last:
                return last
        time.sleep(0.3)
    raise AssertionError(f"{what}: not after {deadline}s (last: {last!r})")


def json_dumps(value: Any) -> str:
    return json.dumps(value)
