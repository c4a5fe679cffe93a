"""What the services of the test cloud share: settings, config files, processes, waits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
VENV = ROOT / ".work" / "cloud-venv" / "bin"
WSGI_DIR = ROOT / "tests" / "fixtures" / "cloud"
REGION = "RegionOne"

#: Heartbeats every second and "down" after four: the fault tests wait on these.
REPORT_INTERVAL = 1
DOWN_TIME = 4


@dataclass
class Settings:
    """What one service needs to know of the rest of the cloud."""

    work: Path
    keystone_url: str
    admin_password: str
    transport_url: str
    ports: dict[str, int] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def dir(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def sqlite(self, name: str) -> str:
        return f"sqlite:///{self.work / 'db' / name}.db"

    def password_auth(self) -> dict[str, Any]:
        """keystoneauth1 options of the admin user, for service-to-service calls."""
        return {
            "auth_type": "password",
            "auth_url": f"{self.keystone_url}/v3",
            "username": "admin",
            "password": self.admin_password,
            "project_name": "admin",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
            "region_name": REGION,
        }

    def authtoken(self) -> dict[str, Any]:
        """[keystone_authtoken]: every API validates tokens against the real Keystone."""
        auth = self.password_auth()
        del auth["region_name"]
        return {"www_authenticate_uri": f"{self.keystone_url}/v3", **auth}


def ini(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """An oslo.config file from {section: {option: value}}; lists joined by commas."""
    lines: list[str] = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        for key, value in options.items():
            if isinstance(value, bool):
                value = str(value).lower()
            elif isinstance(value, list | tuple):
                value = ",".join(str(v) for v in value)
            lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines)


def common(settings: Settings, name: str) -> dict[str, dict[str, Any]]:
    """Sections every service's configuration has."""
    where = settings.dir(name)
    return {
        "DEFAULT": {
            "transport_url": settings.transport_url,
            "debug": False,
            "log_file": where / f"{name}.log",
            "state_path": where,
        },
        "keystone_authtoken": settings.authtoken(),
        "oslo_concurrency": {"lock_path": settings.dir(f"{name}/lock")},
        "oslo_messaging_notifications": {"driver": "noop"},
    }


def run(argv: Sequence[str | Path], log: Path, timeout: float = 180) -> float:
    """Run a preparatory command (a database sync); its output goes to log.

    :returns: seconds it took
    :raises RuntimeError: it failed, with the end of its output
    """
    started = time.monotonic()
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(map(str, argv))}\n".encode())
        out.flush()
        proc = subprocess.run(
            [str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT, timeout=timeout
        )
    if proc.returncode:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{argv[0]} {argv[1:3]} exited {proc.returncode}:\n{tail}")
    return time.monotonic() - started


class Processes:
    """The cloud's long-running processes by name, each in a session of its own.

    Services come up on threads of their own (Cloud.start), so one thread may start a
    process while another checks the others: every use of the two maps holds the lock.
    """

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self._lock = threading.Lock()

    def start(
        self, name: str, argv: Sequence[str | Path], log: Path, env: Mapping[str, str] = {}
    ) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [str(a) for a in argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **env},
            )
        with self._lock:
            self.running[name] = proc
            self.logs[name] = log
        return proc

    def __contains__(self, name: str) -> bool:
        with self._lock:
            return name in self.running

    def signal(self, name: str, signum: int) -> None:
        with self._lock:
            pid = self.running[name].pid
        os.killpg(pid, signum)

    def pause(self, name: str) -> None:
        """SIGSTOP: the service stops heartbeating and answering, as a hung host does."""
        self.signal(name, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.signal(name, signal.SIGCONT)

    def check_alive(self) -> None:
        with self._lock:
            now = [(name, proc, self.logs[name]) for name, proc in self.running.items()]
        for name, proc, log in now:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited {proc.returncode}:\n{tail}")

    def stop(self, *names: str, grace: float = 10) -> None:
        """SIGTERM to each (resumed first), then SIGKILL to what still runs after ``grace`` s."""
        with self._lock:
            procs = [self.running.pop(name) for name in names]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def stop_all(self) -> None:
        with self._lock:
            names = list(self.running)
        self.stop(*reversed(names))


def gunicorn(
    procs: Processes, settings: Settings, name: str, config: Path, env: Mapping[str, str] = {}
) -> None:
    """Serve one API from the cloud venv on its port (one worker, as a small cloud would)."""
    argv = [
        VENV / "gunicorn",
        "--bind",
        f"127.0.0.1:{settings.ports[name]}",
        "--workers",
        "1",
        "--threads",
        "4",
        "--timeout",
        "120",
        "--chdir",
        WSGI_DIR,
        f"cloud_wsgi:app('{name}')",
    ]
    procs.start(
        f"{name}-api",
        argv,
        settings.dir(name) / f"{name}-api.log",
        {"OSOPS_CLOUD_CONFIG": str(config), **env},
    )


def wait(ready: Callable[[], Any], deadline: float, what: str, procs: Processes) -> Any:
    """Poll ``ready`` until it returns something true; errors count as not yet.

    :raises RuntimeError: after ``deadline`` seconds, or as soon as a process died
    """
    end = time.monotonic() + deadline
    last: BaseException | None = None
    while time.monotonic() < end:
        procs.check_alive()
        try:
            value = ready()
        except Exception as exc:  # not up yet: connection refused, 503, empty list
            last = exc
        else:
            if value:
                return value
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {deadline}s (last error: {last!r})")


def sqlite_wal(url: str) -> None:
    """Write-ahead logging: heartbeats and API calls then stop hitting "database is locked"."""
    import sqlite3

    path = url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
