"""A MariaDB for the services SQLite cannot serve (nova, cinder, neutron), on a unix socket only.

Their APIs read and then write in one transaction while their other processes
write heartbeats every second; under SQLite's write-ahead log such a
transaction fails at once with "database is locked" (its snapshot is stale, so
no busy timeout helps): subnets, ports and server deletions failed at random.
Placement and Glance stay on SQLite.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from .base import Processes, Settings, run, wait

PASSWORD = "Cl0ud-Db-Pw"


_STARTED = threading.Lock()


def start(settings: Settings, procs: Processes, database: str) -> str:
    """Create ``database`` (starting the server first if no one has); its SQLAlchemy URL."""
    where = settings.dir("mariadb")
    sock = where / "mysql.sock"
    with _STARTED:
        if "mariadb" not in procs:
            _server(settings, procs)
    assert _sql(
        sock,
        f"CREATE DATABASE {database}; CREATE USER '{database}'@'localhost' "
        f"IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON {database}.* TO '{database}'@'localhost'",
    ), f"creating database {database} failed"
    return f"mysql+pymysql://{database}:{PASSWORD}@localhost/{database}?unix_socket={sock}"


def _sql(sock: Path, statement: str) -> bool:
    return (
        subprocess.run(
            ["mariadb", "--no-defaults", "-S", str(sock), "-uroot", "-e", statement],
            capture_output=True,
            timeout=30,
            check=False,
        ).returncode
        == 0
    )


def _server(settings: Settings, procs: Processes) -> None:
    where = settings.dir("mariadb")
    sock = where / "mysql.sock"
    run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={where / 'data'}",
            "--user=root",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ],
        where / "prepare.log",
    )
    procs.start(
        "mariadb",
        [
            "mariadbd",
            "--no-defaults",
            f"--datadir={where / 'data'}",
            f"--socket={sock}",
            "--skip-networking",
            "--user=root",
            f"--pid-file={where / 'mysql.pid'}",
            "--innodb-buffer-pool-size=64M",
            "--innodb-flush-log-at-trx-commit=0",
        ],
        where / "mariadb.log",
    )

    wait(lambda: _sql(sock, "SELECT 1"), 60, "mariadb", procs)
