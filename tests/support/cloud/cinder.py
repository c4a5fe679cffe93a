"""Cinder: API under gunicorn, scheduler, and cinder-volume with the fake driver.

The driver is ``cinder.tests.fake_driver.FakeLoggingVolumeDriver``, which ships in
the cinder wheel: the LVM driver with every command logged instead of run, so
volumes go through the real API, scheduler, volume manager and database and
occupy nothing on disk. LVM on a loop file would also need a target helper (tgt
or LIO) for attachments; the fake driver answers those too.
"""

from __future__ import annotations

import shutil

from . import database
from .base import (
    DOWN_TIME,
    REPORT_INTERVAL,
    VENV,
    Processes,
    Settings,
    common,
    gunicorn,
    ini,
    run,
)

CATALOG = [("cinderv3", "volumev3", "/v3/%(project_id)s"), ("cinder", "block-storage", "/v3")]
HOST = "stor-1"
BACKEND = "fake"


def prepare(settings: Settings, procs: Processes) -> None:
    where = settings.dir("cinder")
    connection = database.start(settings, procs, "cinder")
    shutil.copy(VENV.parent / "etc" / "cinder" / "api-paste.ini", where)
    sections = common(settings, "cinder")
    sections["DEFAULT"].update(
        {
            "host": HOST,
            "auth_strategy": "keystone",
            "api_paste_config": where / "api-paste.ini",
            "enabled_backends": BACKEND,
            "report_interval": REPORT_INTERVAL,
            "service_down_time": DOWN_TIME,
            "periodic_interval": 5,
            "volumes_dir": settings.dir("cinder/volumes"),
        }
    )
    sections[BACKEND] = {
        "volume_driver": "cinder.tests.fake_driver.FakeLoggingVolumeDriver",
        "volume_backend_name": BACKEND,
    }
    sections["database"] = {"connection": connection}
    sections["nova"] = {**settings.password_auth(), "interface": "public"}
    sections["coordination"] = {"backend_url": f"file://{settings.dir('cinder/coordination')}"}
    (where / "cinder.conf").write_text(ini(sections))
    run(
        [VENV / "cinder-manage", "--config-file", where / "cinder.conf", "db", "sync"],
        where / "prepare.log",
    )


def start(settings: Settings, procs: Processes) -> None:
    where = settings.dir("cinder")
    conf = ["--config-file", where / "cinder.conf"]
    procs.start("cinder-scheduler", [VENV / "cinder-scheduler", *conf], where / "scheduler.log")
    procs.start("cinder-volume", [VENV / "cinder-volume", *conf], where / "volume.log")
    gunicorn(procs, settings, "cinder", where / "cinder.conf")
