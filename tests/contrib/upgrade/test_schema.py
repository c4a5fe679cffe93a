"""db_schema against a real keystone schema in the test MariaDB, migrated by Keystone itself."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, run_osops

from osops_upgrade.schema import DbSchema

pytestmark = pytest.mark.integration

KEYSTONE = ROOT / ".work" / "keystone-venv" / "bin"
DB_USER = {"username": "keystone", "password": "Ks-Db-Pw-7"}

# Run in Keystone's venv: its own alembic configuration migrates to a revision
# (keystone-manage db_sync only goes to the heads), or lists heads and parents.
_ALEMBIC = """
import json, sys
from alembic import command
from alembic.script import ScriptDirectory
import keystone.conf
from keystone.common import sql
from keystone.common.sql import upgrades
keystone.conf.configure()
sql.initialize()
keystone.conf.CONF(["--config-file", sys.argv[1]], project="keystone")
config = upgrades.get_alembic_config()
if sys.argv[2] == "heads":
    script = ScriptDirectory.from_config(config)
    found = {}
    for head in script.get_heads():
        rev = script.get_revision(head)
        while not rev.branch_labels:
            rev = script.get_revision(rev.down_revision)
        found[sorted(rev.branch_labels)[0]] = [head, script.get_revision(head).down_revision]
    print(json.dumps(found))
else:
    for target in sys.argv[2:]:
        command.upgrade(config, target)
"""


def _root_sql(socket: str, sql: str) -> None:
    subprocess.run(
        ["mariadb", "--no-defaults", "-S", socket, "-uroot", "-e", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _keystone_conf(where: Path, mariadb: dict[str, Any], database: str) -> Path:
    conf = where / f"{database}.conf"
    conf.write_text(
        "[database]\nconnection = mysql+pymysql://"
        f"{DB_USER['username']}:{DB_USER['password']}@127.0.0.1:{mariadb['port']}/{database}\n"
    )
    return conf


def _alembic(conf: Path, *args: str) -> str:
    proc = subprocess.run(
        [str(KEYSTONE / "python"), "-c", _ALEMBIC, str(conf), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def keystone_schemas(
    mariadb: dict[str, Any], mariadb_root: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Two keystone databases: one at the heads (keystone-manage db_sync), one a
    revision behind on the expand branch (alembic to the head's parent)."""
    where = tmp_path_factory.mktemp("keystone-schema")
    grants = "".join(
        f"CREATE DATABASE {db}; "
        f"GRANT ALL ON {db}.* TO '{DB_USER['username']}'@'127.0.0.1'; "
        f"GRANT SELECT ON {db}.* TO '{mariadb['username']}'@'127.0.0.1'; "
        for db in ("keystone_head", "keystone_back")
    )
    _root_sql(
        mariadb_root,
        f"CREATE USER '{DB_USER['username']}'@'127.0.0.1' IDENTIFIED BY "
        f"'{DB_USER['password']}'; {grants}",
    )
    head = _keystone_conf(where, mariadb, "keystone_head")
    subprocess.run(
        [str(KEYSTONE / "keystone-manage"), "--config-file", str(head), "db_sync"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    branches = json.loads(_alembic(head, "heads").strip().splitlines()[-1])
    (expand, parent), (contract, _) = branches["expand"], branches["contract"]
    back = _keystone_conf(where, mariadb, "keystone_back")
    _alembic(back, parent, contract)
    return {"heads": sorted([expand, contract]), "back": sorted([parent, contract])}


def _config(tmp_path: Path, mariadb: dict[str, Any]) -> str:
    # The password goes in a --config file, never on the command line.
    path = tmp_path / "db.yaml"
    path.write_text(
        f"host: 127.0.0.1\nport: {mariadb['port']}\nusername: {mariadb['username']}\n"
        f"password: {mariadb['password']}\n"
    )
    return str(path)


def _run(tmp_path: Path, mariadb: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return run_osops(
        "check", "run", "db_schema", "--service", "keystone",
        "--manage-command", str(KEYSTONE / "keystone-manage"),
        "--config", _config(tmp_path, mariadb), "-t", "60", *args,
    )  # fmt: skip


def test_schema_at_the_heads_of_the_installed_release(
    keystone_schemas: dict[str, Any], mariadb: dict[str, Any], tmp_path: Path
) -> None:
    proc = _run(tmp_path, mariadb, "--database", "keystone_head")
    assert proc.returncode == 0, proc.stdout
    status, _, perfdata = proc.stdout.strip().partition(" | ")
    heads = ", ".join(keystone_schemas["heads"])
    # The release is what keystone-manage --version answers: 30.0.0 is 2026.2.
    assert status == f"DB_SCHEMA OK - keystone_head at the heads of 2026.2 (30.0.0): {heads}"
    emitted = {item.split("=")[0] for item in perfdata.split()}
    assert emitted == {perf.label for perf in DbSchema.perfdata}
    assert "pending=0;;0;0 ahead=0;;0;0" in perfdata
    assert mariadb["password"] not in proc.stdout + proc.stderr


def test_schema_one_revision_behind_is_critical(
    keystone_schemas: dict[str, Any], mariadb: dict[str, Any], tmp_path: Path
) -> None:
    proc = _run(tmp_path, mariadb, "--database", "keystone_back")
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout.startswith(
        f"DB_SCHEMA CRITICAL - 1 migrations of 2026.2 (30.0.0) pending: keystone_back at "
        f"{', '.join(keystone_schemas['back'])}, heads {', '.join(keystone_schemas['heads'])} "
        "(keystone/common/sql/migrations) | pending=1;;0;0 ahead=0;;0;0 "
    )


def test_code_rolled_back_over_a_newer_schema_is_critical(
    keystone_schemas: dict[str, Any], mariadb: dict[str, Any], tmp_path: Path
) -> None:
    # The schema of 2026.2 under the code of 2025.1: revisions the older code never shipped.
    proc = _run(tmp_path, mariadb, "--database", "keystone_head", "--release", "2025.1")
    assert proc.returncode == 2, proc.stdout
    status = proc.stdout.split(" | ")[0]
    assert status.startswith("DB_SCHEMA CRITICAL - keystone_head at ")
    assert status.endswith(
        ", which 2025.1 (27.1.0) does not ship (they are 2026.1's): "
        "the code is older than the schema"
    )
    assert "ahead=1;;0;0" in proc.stdout


def test_database_without_migrations_is_critical(
    keystone_schemas: dict[str, Any],
    mariadb: dict[str, Any],
    mariadb_root: str,
    tmp_path: Path,
) -> None:
    _root_sql(
        mariadb_root,
        "CREATE DATABASE IF NOT EXISTS keystone_empty; "
        f"GRANT SELECT ON keystone_empty.* TO '{mariadb['username']}'@'127.0.0.1';",
    )
    proc = _run(tmp_path, mariadb, "--database", "keystone_empty")
    assert proc.returncode == 2
    assert proc.stdout.startswith(
        "DB_SCHEMA CRITICAL - keystone_empty has no migration table: keystone db sync never ran"
    )


def test_schema_of_sqlalchemy_migrate_is_behind(
    keystone_schemas: dict[str, Any],
    mariadb: dict[str, Any],
    mariadb_root: str,
    tmp_path: Path,
) -> None:
    # A database last synced by a release from before alembic: sqlalchemy-migrate's
    # table, as it creates it, at keystone's last migrate version (Xena's 79).
    _root_sql(
        mariadb_root,
        "CREATE DATABASE IF NOT EXISTS keystone_migrate; "
        "CREATE TABLE keystone_migrate.migrate_version (repository_id VARCHAR(250) "
        "PRIMARY KEY, repository_path TEXT, version INT); "
        "INSERT INTO keystone_migrate.migrate_version VALUES ('keystone', '/x', 79); "
        f"GRANT SELECT ON keystone_migrate.* TO '{mariadb['username']}'@'127.0.0.1';",
    )
    proc = _run(tmp_path, mariadb, "--database", "keystone_migrate")
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout.startswith(
        "DB_SCHEMA CRITICAL - keystone_migrate is at sqlalchemy-migrate version 79: none of "
        "the 10 alembic migrations of 2026.2 (30.0.0) has run | pending=10;;0;0 "
    )


def test_wrong_password_is_unknown_without_the_password(
    mariadb: dict[str, Any], tmp_path: Path
) -> None:
    wrong = {**mariadb, "password": "Not-The-Db-Pw-3"}
    proc = _run(tmp_path, wrong, "--database", "keystone_head", "--release", "2026.2")
    assert (proc.returncode, proc.stdout) == (
        3,
        f"DB_SCHEMA UNKNOWN - 127.0.0.1:{mariadb['port']}: access denied for user "
        "'osops' to keystone_head\n",
    )
