"""A broken plugin is visible with its error and fix, and breaks nothing else."""

from __future__ import annotations

import json

from helpers import run_osops


def test_broken_plugins_listed_with_error_and_fix(broken_site: dict[str, str]) -> None:
    proc = run_osops("plugin", "list", "-f", "json", env=broken_site)
    assert proc.returncode == 0, proc.stderr
    status = {row["Name"]: row["Status"] for row in json.loads(proc.stdout)}
    assert status["broken_import"] == (
        "broken: ModuleNotFoundError: No module named 'osops_missing_dependency' "
        "(fix: pip install 'osops-broken[fancy]')"
    )
    assert "is not a subclass of osops.check.base.Check" in status["broken_contract"]
    assert "does not implement probe" in status["broken_abstract"]
    assert status["broken_attr"].startswith("broken: AttributeError")
    assert status["dummy"] == "ok"


def test_verify_fails_naming_each_broken_plugin(broken_site: dict[str, str]) -> None:
    proc = run_osops("plugin", "verify", "-f", "value", "-c", "Name", env=broken_site)
    assert proc.returncode == 1
    assert sorted(proc.stdout.split()) == [
        "broken_abstract",
        "broken_attr",
        "broken_contract",
        "broken_import",
    ]
    assert "4 of" in proc.stderr


def test_running_a_broken_check_is_unknown(broken_site: dict[str, str]) -> None:
    proc = run_osops("check", "run", "broken_import", env=broken_site)
    assert proc.returncode == 3
    assert proc.stdout.startswith(
        "BROKEN_IMPORT UNKNOWN - check 'broken_import' from osops-broken "
        "failed to load: ModuleNotFoundError"
    )
    assert len(proc.stdout.splitlines()) == 1
    proc = run_osops("check", "run", "broken_contract", env=broken_site)
    assert proc.returncode == 3 and "is not a subclass of osops.check.base.Check" in proc.stdout


def test_everything_else_keeps_working(broken_site: dict[str, str]) -> None:
    assert run_osops("check", "run", "dummy", env=broken_site).returncode == 0
    assert run_osops("--help", env=broken_site).returncode == 0
    show = run_osops("plugin", "show", "check", "broken_import", "-f", "json", env=broken_site)
    assert show.returncode == 0
    assert json.loads(show.stdout)["status"].startswith("broken: check 'broken_import'")
