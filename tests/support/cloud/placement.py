"""Placement: its database and its API under gunicorn."""

from __future__ import annotations

from .base import VENV, Processes, Settings, common, gunicorn, ini, run, sqlite_wal

CATALOG = [("placement", "placement", "")]


def prepare(settings: Settings) -> None:
    where = settings.dir("placement")
    sections = common(settings, "placement")
    sections["DEFAULT"].pop("transport_url")  # placement has no RPC
    sections["placement_database"] = {"connection": settings.sqlite("placement")}
    sections["api"] = {"auth_strategy": "keystone"}
    (where / "placement.conf").write_text(ini(sections))
    run(
        [VENV / "placement-manage", "--config-file", where / "placement.conf", "db", "sync"],
        where / "prepare.log",
    )
    sqlite_wal(settings.sqlite("placement"))


def start(settings: Settings, procs: Processes) -> None:
    where = settings.dir("placement")
    gunicorn(
        procs,
        settings,
        "placement",
        where / "placement.conf",
        {"OS_PLACEMENT_CONFIG_DIR": str(where)},
    )
