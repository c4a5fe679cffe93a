"""MariaDB from Debian: a one-node Galera cluster and a plain server, as session fixtures."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import daemon, wait_until

from osops.testing import free_port

GALERA_USER = {"username": "osops", "password": "Galera-Pw-1"}


def _mariadb(where: Path, port: int, wsrep: bool) -> list[str]:
    """Initialise a data directory and return the mariadbd command line for it."""
    data = where / "data"
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    argv = [
        "mariadbd",
        "--no-defaults",
        f"--datadir={data}",
        f"--socket={where}/mysql.sock",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        "--user=root",
        f"--pid-file={where}/mysql.pid",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=32M",
    ]
    if wsrep:
        gcomm, ist = free_port(), free_port()
        argv += [
            "--wsrep-on=ON",
            "--wsrep-provider=/usr/lib/galera/libgalera_smm.so",
            "--wsrep-cluster-address=gcomm://",
            "--wsrep-new-cluster",
            "--binlog-format=ROW",
            "--innodb-autoinc-lock-mode=2",
            "--wsrep-node-address=127.0.0.1",
            f"--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{gcomm};"
            f"ist.recv_addr=127.0.0.1:{ist}",
        ]
    return argv


def _grant(where: Path) -> None:
    sql = (
        f"CREATE USER '{GALERA_USER['username']}'@'127.0.0.1' IDENTIFIED BY "
        f"'{GALERA_USER['password']}'; GRANT USAGE ON *.* TO '{GALERA_USER['username']}'@'127.0.0.1';"
    )
    subprocess.run(
        ["mariadb", "--no-defaults", "-S", f"{where}/mysql.sock", "-uroot", "-e", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _wsrep_synced(where: Path) -> bool:
    out = subprocess.run(
        [
            "mariadb",
            "--no-defaults",
            "-S",
            f"{where}/mysql.sock",
            "-uroot",
            "-N",
            "-e",
            "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'",
        ],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout
    return "Synced" in out


@pytest.fixture(scope="session")
def galera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """MariaDB as a single-node Galera cluster (galera-4), with an unprivileged user."""
    where = tmp_path_factory.mktemp("galera")
    port = free_port()
    with daemon(_mariadb(where, port, wsrep=True), port, where / "mariadb.log"):
        wait_until(lambda: _wsrep_synced(where), 30, "galera node")
        _grant(where)
        yield {"host": "127.0.0.1", "port": port, **GALERA_USER}


# The root socket of each plain MariaDB, by port: tests that create databases
# (db_schema) need root; the galera tests take every key of the fixture as an option.
_MARIADB_SOCKETS: dict[int, str] = {}


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A plain MariaDB, not in any cluster."""
    where = tmp_path_factory.mktemp("mariadb")
    port = free_port()
    with daemon(_mariadb(where, port, wsrep=False), port, where / "mariadb.log"):
        _grant(where)
        _MARIADB_SOCKETS[port] = f"{where}/mysql.sock"
        yield {"host": "127.0.0.1", "port": port, **GALERA_USER}


@pytest.fixture(scope="session")
def mariadb_root(mariadb: dict[str, Any]) -> str:
    """The unix socket root logs in through (socket authentication) on the plain MariaDB."""
    return _MARIADB_SOCKETS[mariadb["port"]]
