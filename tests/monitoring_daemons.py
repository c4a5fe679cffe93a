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
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def build_wheels(wheels: Path) -> Path:
    """Wheels of osops and its contrib distributions, built from this checkout."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--disable-pip-version-check",
            "-q",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(ROOT),
            str(ROOT / "contrib/monitoring"),
            str(ROOT / "contrib/logging"),
            str(ROOT / "contrib/upgrade"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
        # The checks need no compiled log parser: spare the tests a compile.
        env={**os.environ, "OSOPS_MYPYC": "0"},
    )
    return wheels


def build_venv(where: Path) -> Path:
    """A venv of the system Python holding osops and its contrib distributions, installed
    from their wheels with what their metadata requires (no requirements.txt)."""
    wheels = build_wheels(where / "wheels")
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
            "osops-upgrade",
        ],
        check=True,
        capture_output=True,
        timeout=900,
    )
    subprocess.run(["chmod", "-R", "a+rX", str(where)], check=True, timeout=60)
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


ICINGA_CA = "/var/lib/icinga2/certs/ca.crt"
ICINGA_PID = Path("/run/icinga2/icinga2.pid")


def validate_icinga(work: Path) -> subprocess.CompletedProcess[str]:
    """``icinga2 daemon -C`` over ``work/icinga2.conf``: Icinga's own configuration check."""
    return subprocess.run(
        ["icinga2", "daemon", "-C", "-c", str(work / "icinga2.conf")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def icinga_config(prefix: str, api_user: tuple[str, str]) -> tuple[Path, Path, int]:
    """A private Icinga 2 configuration the nagios user can read: API on 127.0.0.1, a
    checker, a log, an API user, and ``include_recursive`` of an empty conf.d to fill.

    :returns: (work directory, its conf.d, the API port)
    """
    from osops.testing import free_port

    if not Path("/var/lib/icinga2/certs/localhost.crt").exists():
        subprocess.run(
            ["icinga2", "api", "setup", "--cn", "localhost"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    work = readable_dir(prefix)
    conf_d = work / "conf.d"
    conf_d.mkdir()
    for name in ("constants.conf", "zones.conf"):
        shutil.copy(f"/etc/icinga2/{name}", work / name)
    port = free_port()
    (work / "icinga2.conf").write_text(
        'include "constants.conf"\ninclude "zones.conf"\ninclude <itl>\n'
        f'object ApiListener "api" {{\n  bind_host = "127.0.0.1"\n  bind_port = {port}\n'
        "  ticket_salt = TicketSalt\n}\n"
        'object CheckerComponent "checker" { }\n'
        f'object FileLogger "main-log" {{\n  path = "{work}/icinga2.log"\n}}\n'
        f'object ApiUser "{api_user[0]}" {{\n  password = "{api_user[1]}"\n'
        '  permissions = [ "*" ]\n}\n'
        f'include_recursive "{conf_d}"\n'
    )
    return work, conf_d, port


@contextmanager
def icinga(work: Path, port: int, api_user: tuple[str, str]) -> Iterator[str]:
    """Validate, start (daemonised, as Debian's init would) and stop by pid an Icinga 2
    running ``work/icinga2.conf``; yields the API URL once it answers."""
    import requests

    subprocess.run(["chmod", "-R", "a+rX", str(work)], check=True, timeout=60)
    subprocess.run(
        ["chown", "-R", f"{RUN_AS}:{RUN_AS}", str(work / "conf.d")], check=True, timeout=60
    )
    check = validate_icinga(work)
    assert check.returncode == 0, check.stdout[-3000:]
    subprocess.run(
        ["/usr/lib/icinga2/prepare-dirs", "/usr/lib/icinga2/icinga2"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    subprocess.run(
        [
            "icinga2",
            "daemon",
            "-d",
            "-c",
            str(work / "icinga2.conf"),
            "-e",
            str(work / "icinga2.err"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    api = f"https://localhost:{port}/v1"  # the API certificate's name; bound to 127.0.0.1
    try:
        wait_for(
            lambda: requests.get(f"{api}/status", auth=api_user, verify=ICINGA_CA, timeout=5).ok,
            60,
            "icinga2 API",
        )
        yield api
    finally:
        # A reload replaces the worker, so the pid is read at the end, not the start.
        pid = int(ICINGA_PID.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), 30, "icinga2 to stop")
        subprocess.run(["rm", "-rf", str(work)], check=False, timeout=60)
