"""Two Icinga 2 instances on 127.0.0.1, a master and an agent, each with its own directories.

The recipe of /work/shared/notes/icinga-agents.md: ``icinga2 daemon`` with every
directory given (-DZonesDir does not follow -DConfigDir), as root
(-DRunAsUser, or the pki steps drop to nagios), a PKI made with openssl (1 s
against 5-12 s with ``icinga2 pki``), one zones.conf for both: Endpoint and
Zone "master", Endpoint and Zone "agent" (parent master), a global zone. The
agent connects to the master and accepts its config and commands. Each runs
in the foreground in its own session and is stopped by pid: SIGTERM to the
main process, then SIGKILL to its group (a killed main process leaves its
worker connected).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from servers import wait_until

from osops.testing import free_port

API_USER = ("osops", "Zones-Api-Pw")
DIRS = ("etc/zones.d", "data/certs", "log", "cache", "spool", "run")


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def pki(where: Path, *names: str) -> None:
    """A CA and one certificate per node name, signed by it: ``where/NAME.{crt,key}``."""
    ca_key, ca_crt = where / "ca.key", where / "ca.crt"
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=osops-ca"),
        *("-keyout", str(ca_key), "-out", str(ca_crt)),
        *("-addext", "basicConstraints=critical,CA:TRUE"),
    )
    for name in names:
        key, csr, crt = (where / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
        _openssl(
            *("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}"),
            *("-keyout", str(key), "-out", str(csr)),
        )
        _openssl(
            *("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key)),
            *("-CAcreateserial", "-days", "2", "-out", str(crt)),
        )


class Node:
    """One Icinga 2 instance under ``root``: NodeName and ZoneName ``name``."""

    def __init__(self, root: Path, name: str, env: dict[str, str]) -> None:
        self.root = root
        self.name = name
        self.port = free_port()
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        for sub in DIRS:
            (root / sub).mkdir(parents=True, exist_ok=True)

    @property
    def zones_d(self) -> Path:
        return self.root / "etc" / "zones.d"

    def argv(self, *command: str) -> list[str]:
        r = self.root
        return [
            "icinga2",
            *command,
            "-c",
            f"{r}/etc/icinga2.conf",
            f"-DConfigDir={r}/etc",
            f"-DZonesDir={r}/etc/zones.d",
            f"-DDataDir={r}/data",
            f"-DLogDir={r}/log",
            f"-DCacheDir={r}/cache",
            f"-DSpoolDir={r}/spool",
            f"-DInitRunDir={r}/run",
            "-DRunAsUser=root",
            "-DRunAsGroup=root",
        ]

    def validate(self) -> None:
        done = subprocess.run(
            self.argv("daemon", "-C"), capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout[-3000:]

    def start(self) -> None:
        self.validate()
        with open(self.root / "log" / "stdout.log", "ab") as out:
            self.proc = subprocess.Popen(
                self.argv("daemon"),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **self.env},
            )

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(15)
        with contextlib.suppress(ProcessLookupError):  # a worker the main process left
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        self.proc = None


def _zones(master: Node, agent: Node, global_zone: str) -> str:
    return (
        f'object Endpoint "{master.name}" {{ host = "127.0.0.1"; port = {master.port} }}\n'
        f'object Endpoint "{agent.name}" {{ }}\n'
        f'object Zone "{master.name}" {{ endpoints = [ "{master.name}" ] }}\n'
        f'object Zone "{agent.name}" {{ endpoints = [ "{agent.name}" ]; '
        f'parent = "{master.name}" }}\n'
        f'object Zone "{global_zone}" {{ global = true }}\n'
    )


def _config(node: Node, listener: str, more: str = "") -> str:
    return (
        f'const NodeName = "{node.name}"\nconst ZoneName = "{node.name}"\n'
        'const PluginDir = "/usr/lib/nagios/plugins"\nconst TicketSalt = ""\n'
        'include <itl>\ninclude "zones.conf"\n'
        f'object ApiListener "api" {{\n  bind_host = "127.0.0.1"\n  bind_port = {node.port}\n'
        f"{listener}}}\n"
        f'object FileLogger "main-log" {{\n  path = "{node.root}/log/icinga2.log"\n'
        '  severity = "information"\n}\n' + more
    )


class Cluster:
    """A master (checker, API user) and an agent (accept_config, accept_commands)."""

    def __init__(self, root: Path, env: dict[str, str], global_zone: str) -> None:
        self.master = Node(root / "master", "master", env)
        self.agent = Node(root / "agent", "agent", env)
        pki(root, "master", "agent")
        zones = _zones(self.master, self.agent, global_zone)
        for node in (self.master, self.agent):
            certs = node.root / "data" / "certs"
            for ext in ("crt", "key"):
                (certs / f"{node.name}.{ext}").write_bytes(
                    (root / f"{node.name}.{ext}").read_bytes()
                )
            (certs / "ca.crt").write_bytes((root / "ca.crt").read_bytes())
            (node.root / "etc" / "zones.conf").write_text(zones)
        (self.master.root / "etc" / "icinga2.conf").write_text(
            _config(
                self.master,
                "  accept_config = false\n  accept_commands = false\n",
                'object CheckerComponent "checker" { }\n'
                f'object ApiUser "{API_USER[0]}" {{\n  password = "{API_USER[1]}"\n'
                '  permissions = [ "*" ]\n}\n',
            )
        )
        (self.agent.root / "etc" / "icinga2.conf").write_text(
            _config(self.agent, "  accept_config = true\n  accept_commands = true\n")
        )
        self.api = f"https://127.0.0.1:{self.master.port}/v1"

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        import requests
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        # The master's certificate names "master", not 127.0.0.1: loopback only, unverified.
        response = requests.request(
            method,
            f"{self.api}/{path}",
            auth=API_USER,
            verify=False,
            headers={"Accept": "application/json"},
            timeout=10,
            **kwargs,
        )
        response.raise_for_status()
        return response.json()

    def connected(self, endpoint: str) -> bool:
        """The master's own view of an endpoint (updated within ~0.5 s, unlike the
        "not connected" check result, which waits for 300 s of master uptime)."""
        (result,) = self.request("GET", f"objects/endpoints/{endpoint}")["results"]
        return bool(result["attrs"]["connected"])

    def start_master(self) -> None:
        self.master.start()
        wait_until(lambda: self.request("GET", "status") is not None, 60, "icinga2 master API")

    def start_agent(self) -> None:
        self.agent.start()
        wait_until(lambda: self.connected("agent"), 60, "the agent connected to the master")

    def service(self, host: str, service: str) -> dict[str, Any]:
        (result,) = self.request("GET", f"objects/services/{host}!{service}")["results"]
        return dict(result["attrs"])

    def check_now(self, host: str, service: str) -> None:
        self.request(
            "POST",
            "actions/reschedule-check",
            json={
                "type": "Service",
                "filter": f'host.name=="{host}" && service.name=="{service}"',
                "force": True,
            },
        )

    def stop(self) -> None:
        self.agent.stop()
        self.master.stop()


@contextlib.contextmanager
def cluster(root: Path, env: dict[str, str], global_zone: str) -> Iterator[Cluster]:
    made = Cluster(root, env, global_zone)
    try:
        yield made
    finally:
        made.stop()
