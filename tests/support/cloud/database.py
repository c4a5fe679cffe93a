"""A MariaDB for the services SQLite cannot serve (neutron), on a unix socket only.

Neutron's API reads and then writes in one transaction while its RPC server
writes agent heartbeats every second; under SQLite's write-ahead log such a
transaction fails at once with "database is locked" (its snapshot is stale,
so no busy timeout helps), and subnet or port creation fails at random.
"""

from __future__ import annotations

import subprocess

from .base import Processes, Settings, run, wait

PASSWORD = "Cl0ud-Db-Pw"


def start(settings: Settings, procs: Processes, database: str) -> str:
    """Initialise, start and create ``database``; its SQLAlchemy URL."""
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

    def sql(statement: str) -> bool:
        return (
            subprocess.run(
                ["mariadb", "--no-defaults", "-S", str(sock), "-uroot", "-e", statement],
                capture_output=True,
                timeout=30,
                check=False,
            ).returncode
            == 0
        )

    wait(lambda: sql("SELECT 1"), 60, "mariadb", procs)
    assert sql(
        f"CREATE DATABASE {database}; CREATE USER '{database}'@'localhost' IDENTIFIED BY "
        f"'{PASSWORD}'; GRANT ALL ON {database}.* TO '{database}'@'localhost'"
    ), "creating the database failed"
    return f"mysql+pymysql://{database}:{PASSWORD}@localhost/{database}?unix_socket={sock}"
