"""The db_schema check: the database's migration head against the heads the release ships."""

from __future__ import annotations

import re
import subprocess
import time

from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.exceptions import CheckError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import nagiosplugin

_VERSION = re.compile(r"\b(\d+\.\d+\.\d+)\b")
#: The manage command that answers --version with the installed release.
_MANAGE = {"neutron": "neutron-db-manage"}


class DbSchema(Check):
    """Check a service database's migration head against the heads its installed release ships.

    Reads alembic's version table (or sqlalchemy-migrate's, left by releases
    older than alembic) read-only through PyMySQL. CRITICAL when migrations
    are pending (schema behind the code) and when the schema is ahead of the
    code (the code was rolled back over a newer schema). The installed release
    is the answer of ``<service>-manage --version`` unless ``--release`` names it.
    """

    service = "upgrade"
    runs_on = "host"
    arguments = (
        Argument("service", "Service whose database it is: nova, keystone, ...", required=True),
        Argument("database", "Database name (default: the service's name)."),
        Argument(
            "schema",
            "Migration repository, for services with several (nova: main or api).",
        ),
        Argument(
            "release", "Installed release, series or version (default: ask the manage command)."
        ),
        Argument("manage-command", "Command whose --version names the installed release."),
        Argument("host", "Address of the database server.", default="127.0.0.1"),
        Argument("port", "TCP port of the database server.", type="int", default=3306),
        Argument("socket", "Unix socket instead of host and port."),
        Argument(
            "username", "Database user (needs SELECT on the service's database).", default="root"
        ),
        Argument("password", "Password of that user.", secret=True),
    )
    perfdata = (
        Perf(
            "pending",
            "Migrations the release ships that the database lacks.",
            min=0,
            critical="0",
            fmt="{value} migrations pending",
        ),
        Perf(
            "ahead",
            "Revisions in the database the release does not ship.",
            min=0,
            critical="0",
            fmt="{value} revisions ahead of the code",
        ),
        Perf("response_time", "Time to connect and read the version table.", uom="s", min=0),
    )
    primary = "pending"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        from osops_upgrade import data

        service = self.options["service"]
        release = data.resolve(service, self.options["release"] or self._installed(), "--release")
        assert release is not None
        name, repository = self._repository(release)
        database = self.options["database"] or service
        started = time.monotonic()
        tables, rows = self._read(database)
        elapsed = round(time.monotonic() - started, 6)
        heads = set(repository["heads"])
        revisions: dict[str, list[str]] = repository["revisions"]
        shipped = f"{release.series} ({release.version})"
        if "alembic_version" not in tables:
            yield metric("pending", len(revisions))
            yield metric("ahead", 0)
            yield metric("response_time", elapsed)
            if "migrate_version" in tables:
                text = (
                    f"{database} is at sqlalchemy-migrate version {rows[0] if rows else '?'}: "
                    f"none of the {len(revisions)} alembic migrations of {shipped} has run"
                )
            else:
                text = f"{database} has no migration table: {service} db sync never ran"
            yield Detail(text, label="pending")
            return
        known = set(rows) & set(revisions)
        ahead = sorted(set(rows) - known)
        # What the database stands on, through every release's revisions: a schema
        # ahead of the code still holds all the code's own migrations.
        history = dict(revisions)
        for other in data.releases(service):
            history.update(other.document.get("migrations", {}).get(name, {}).get("revisions", {}))
        pending = _closure(heads, revisions) - _closure(set(rows), history)
        yield metric("pending", len(pending))
        yield metric("ahead", len(ahead))
        yield metric("response_time", elapsed)
        at = ", ".join(sorted(rows)) or "no revision"
        if pending:
            yield Detail(
                f"{len(pending)} migrations of {shipped} pending: {database} at {at}, "
                f"heads {', '.join(sorted(heads))} ({name})",
                label="pending",
            )
        if ahead:
            newer = self._where(service, release, ahead, name)
            yield Detail(
                f"{database} at {', '.join(ahead)}, which {shipped} does not ship{newer}: "
                "the code is older than the schema",
                label="ahead",
            )
        if not pending and not ahead:
            yield Detail(f"{database} at the heads of {shipped}: {at}", State.OK)

    def _installed(self) -> str:
        service = self.options["service"]
        command = self.options["manage_command"] or _MANAGE.get(service, f"{service}-manage")
        try:
            proc = subprocess.run(
                [command, "--version"],
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError:
            raise CheckError(f"{command}: no such command (give --release)") from None
        except subprocess.TimeoutExpired:
            raise CheckError(
                f"{command} --version gave no answer within {self.timeout:g}s"
            ) from None
        found = _VERSION.search(proc.stdout + "\n" + proc.stderr)
        if proc.returncode or found is None:
            raise CheckError(f"{command} --version exited {proc.returncode} without a version")
        return found.group(1)

    def _repository(self, release: Any) -> tuple[str, dict[str, Any]]:
        repositories: dict[str, Any] = release.document.get("migrations", {})
        wanted = self.options["schema"]
        if wanted:
            chosen = [n for n in repositories if wanted in n.split("/")]
        else:
            chosen = list(repositories)
            if len(chosen) > 1:
                chosen = [n for n in chosen if "main" in n.split("/")] or chosen
        if len(chosen) != 1:
            raise UsageError(
                f"--schema {wanted or ''}: {release.service} {release.series} has the migration "
                f"repositories {', '.join(sorted(repositories)) or 'none'}"
            )
        return chosen[0], repositories[chosen[0]]

    def _read(self, database: str) -> tuple[set[str], list[str]]:
        import pymysql

        where = self.options["socket"] or f"{self.options['host']}:{self.options['port']}"
        try:
            conn = pymysql.connect(
                host=self.options["host"],
                port=self.options["port"],
                unix_socket=self.options["socket"],
                user=self.options["username"],
                password=self.options["password"] or "",
                database=database,
                # Inside the check's timeout, as galera: pymysql's own words first.
                connect_timeout=self.timeout * 0.8,
                read_timeout=self.timeout * 0.8,
            )
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else 0
            if code in (1044, 1045):
                raise CheckError(
                    f"{where}: access denied for user {self.options['username']!r} to {database}"
                ) from None
            if code == 1049:
                raise CheckError(f"{where}: no database {database!r}") from None
            raise CheckError(f"{where}: {_reason(exc)}") from None
        try:
            with conn.cursor() as cursor:
                cursor.execute("START TRANSACTION READ ONLY")
                cursor.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                    "AND table_name IN ('alembic_version', 'migrate_version')",
                    (database,),
                )
                tables = {str(row[0]) for row in cursor.fetchall()}
                rows: list[str] = []
                if "alembic_version" in tables:
                    cursor.execute("SELECT version_num FROM alembic_version")
                    rows = [str(row[0]) for row in cursor.fetchall()]
                elif "migrate_version" in tables:
                    cursor.execute("SELECT version FROM migrate_version")
                    rows = [str(row[0]) for row in cursor.fetchall()]
                cursor.execute("ROLLBACK")
        except pymysql.err.MySQLError as exc:
            raise CheckError(f"{where}: {_reason(exc)}") from None
        finally:
            conn.close()
        return tables, rows

    @staticmethod
    def _where(service: str, release: Any, revisions: list[str], name: str) -> str:
        from osops_upgrade import data

        for other in data.releases(service):
            repository = other.document.get("migrations", {}).get(name, {})
            if set(revisions) <= set(repository.get("revisions", {})):
                return f" (they are {other.series}'s)"
        return " (no release known ships them)"


def _closure(start: set[str], revisions: dict[str, list[str]]) -> set[str]:
    """The revisions and everything they stand on."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        rev = todo.pop()
        if rev in seen:
            continue
        seen.add(rev)
        todo.extend(revisions.get(rev, ()))
    return seen


def _reason(exc: BaseException) -> str:
    args: tuple[Any, ...] = tuple(exc.args)
    return str(args[1]) if len(args) > 1 else str(exc) or type(exc).__name__
