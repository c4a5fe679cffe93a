"""A plugin whose distribution's requirements are not installed is visible before it runs.

tests/fixtures/osops-lacking requires a library that is not installed and imports
it only in ``probe()``, as osops's checks do: importing the plugin succeeds, and
only its distribution's metadata tells. Its ``lacking_fancy`` also names an extra
in its entry point. (A venv that really lacks a library: test_pip_install.py.)
"""

from __future__ import annotations

import json

import pytest
from helpers import FIXTURES, install_target, run_osops

LACKING = "missing: osops-absent-library (pip install 'osops-absent-library>=1.0')"
FANCY = (
    "missing: osops-absent-library, osops-absent-extra "
    "(pip install 'osops-absent-library>=1.0' 'osops-lacking[fancy]')"
)


@pytest.fixture(scope="module")
def lacking_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = install_target(FIXTURES / "osops-lacking", tmp_path_factory.mktemp("lacking-site"))
    return {"PYTHONPATH": str(site)}


def test_plugin_list_says_what_is_missing_and_the_fix(lacking_site: dict[str, str]) -> None:
    proc = run_osops("plugin", "list", "--kind", "check", "-f", "json", env=lacking_site)
    assert proc.returncode == 0, proc.stderr
    status = {row["Name"]: row["Status"] for row in json.loads(proc.stdout)}
    assert status["lacking"] == LACKING
    assert status["lacking_fancy"] == FANCY
    assert status["dummy"] == "ok"


def test_plugin_show_and_verify_fail_for_it(lacking_site: dict[str, str]) -> None:
    show = run_osops("plugin", "show", "check", "lacking", "-f", "json", env=lacking_site)
    assert show.returncode == 0, show.stderr
    assert json.loads(show.stdout)["status"] == LACKING
    verify = run_osops("plugin", "verify", "-f", "json", env=lacking_site)
    assert verify.returncode == 1
    assert {row["Name"] for row in json.loads(verify.stdout)} == {"lacking", "lacking_fancy"}


def test_check_run_is_unknown_with_the_same_line(lacking_site: dict[str, str]) -> None:
    proc = run_osops("check", "run", "lacking", env=lacking_site)
    assert (proc.returncode, proc.stdout) == (
        3,
        f"LACKING UNKNOWN - check 'lacking' from osops-lacking: {LACKING}\n",
    )
    proc = run_osops("check", "run", "lacking_fancy", env=lacking_site)
    assert (proc.returncode, proc.stdout) == (
        3,
        f"LACKING_FANCY UNKNOWN - check 'lacking_fancy' from osops-lacking: {FANCY}\n",
    )


def test_check_export_exports_the_others_and_fails_unless_allowed(
    lacking_site: dict[str, str],
) -> None:
    proc = run_osops("check", "export", "--format", "json", env=lacking_site)
    assert proc.returncode == 1
    exported = {check["name"] for check in json.loads(proc.stdout)}
    assert "dummy" in exported and "http" in exported
    assert not exported & {"lacking", "lacking_fancy"}
    assert proc.stderr.splitlines() == [
        f"check export: check 'lacking' from osops-lacking not exported: {LACKING}",
        f"check export: check 'lacking_fancy' from osops-lacking not exported: {FANCY}",
        "check export: 2 broken checks not exported (--allow-broken exports the others "
        "and exits 0)",
    ]
    allowed = run_osops("check", "export", "--format", "json", "--allow-broken", env=lacking_site)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout == proc.stdout
    assert len(allowed.stderr.splitlines()) == 2  # still named, each with its fix


def test_one_named_check_that_is_broken_exports_nothing(lacking_site: dict[str, str]) -> None:
    proc = run_osops("check", "export", "lacking", env=lacking_site)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"check export: check 'lacking' from osops-lacking not exported: {LACKING}",
        "check export: 1 broken check not exported (--allow-broken exports the others and "
        "exits 0)",
    ]
