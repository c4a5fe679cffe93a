"""Glance: its database and its API under gunicorn, images in a file store."""

from __future__ import annotations

import shutil

from .base import VENV, Processes, Settings, common, gunicorn, ini, run, sqlite_wal

CATALOG = [("glance", "image", "")]


def prepare(settings: Settings) -> None:
    where = settings.dir("glance")
    sections = common(settings, "glance")
    sections["DEFAULT"].pop("transport_url")
    sections["DEFAULT"]["enabled_backends"] = "local:file"
    sections["glance_store"] = {"default_backend": "local"}
    sections["local"] = {"filesystem_store_datadir": settings.dir("glance/images")}
    sections["os_glance_staging_store"] = {
        "filesystem_store_datadir": settings.dir("glance/staging")
    }
    sections["os_glance_tasks_store"] = {"filesystem_store_datadir": settings.dir("glance/tasks")}
    sections["database"] = {"connection": settings.sqlite("glance")}
    sections["paste_deploy"] = {"flavor": "keystone"}
    (where / "glance-api.conf").write_text(ini(sections))
    shutil.copy(VENV.parent / "etc" / "glance" / "glance-api-paste.ini", where)
    run(
        [VENV / "glance-manage", "--config-file", where / "glance-api.conf", "db_sync"],
        where / "prepare.log",
    )
    sqlite_wal(settings.sqlite("glance"))


def start(settings: Settings, procs: Processes) -> None:
    where = settings.dir("glance")
    gunicorn(
        procs, settings, "glance", where / "glance-api.conf", {"OS_GLANCE_CONFIG_DIR": str(where)}
    )
