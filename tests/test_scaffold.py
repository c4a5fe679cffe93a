"""osops plugin new: for every kind, a package that installs, verifies and passes its tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import install_target, run_osops

from osops import scaffold
from osops.exceptions import UsageError
from osops.kinds import KINDS

PLUGINS = {
    "check": "ntp_offset",
    "filter": "ntp_tag",
    "sink": "ntp_lines",
    "exporter": "ntp_outline",
    "command": "ntp_status",
}


def test_every_kind_has_a_template() -> None:
    kinds = sorted(
        path.name.removesuffix(".py.tmpl") for path in scaffold.TEMPLATES.glob("*.py.tmpl")
    )
    assert (
        [k for k in kinds if not k.startswith(("test_", "__"))] == sorted(KINDS) == sorted(PLUGINS)
    )
    assert [k for k in kinds if k.startswith("test_")] == [f"test_{k}" for k in sorted(KINDS)]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One package with a plugin of every kind, written by the command and installed."""
    where = tmp_path_factory.mktemp("scaffold")
    for position, (kind, name) in enumerate(PLUGINS.items()):
        extra = ["--dist", "osops-ntp", "-o", "osops-ntp"] if position else ["--dist", "osops-ntp"]
        proc = run_osops("plugin", "new", kind, name, *extra, cwd=where)
        assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
        written = [f"osops-ntp/osops_ntp/{name}.py", f"osops-ntp/tests/test_{name}.py"]
        if not position:
            written[:0] = ["osops-ntp/pyproject.toml", "osops-ntp/README.md"]
            written.insert(2, "osops-ntp/osops_ntp/__init__.py")
        assert proc.stdout.splitlines() == written
    site = install_target(where / "osops-ntp", where / "site")
    return where / "osops-ntp", {"PYTHONPATH": str(site)}


def test_the_package_registers_each_plugin_in_its_group(
    package: tuple[Path, dict[str, str]],
) -> None:
    text = (package[0] / "pyproject.toml").read_text()
    for kind, name in PLUGINS.items():
        cls = scaffold.class_name(name)
        assert (
            f'[project.entry-points."{KINDS[kind].namespace}"]\n'
            f'{name} = "osops_ntp.{name}:{cls}"\n' in text
        )
    assert 'dependencies = ["osops>=0.1,<0.2"]' in text


def test_it_passes_verify(package: tuple[Path, dict[str, str]]) -> None:
    proc = run_osops("plugin", "verify", "--dist", "osops-ntp", env=package[1])
    assert (proc.returncode, proc.stderr) == (0, "all 5 plugins of osops-ntp conform\n")


def test_its_tests_pass_on_the_kit(package: tuple[Path, dict[str, str]]) -> None:
    import os

    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        cwd=package[0],
        env={**os.environ, **package[1]},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("10 passed in ")


def test_mistakes_are_refused(tmp_path: Path) -> None:
    def refused(*args: str | None) -> str:
        kind, name, dist = args
        with pytest.raises(UsageError) as info:
            scaffold.create(str(kind), str(name), dist, tmp_path / "pkg")
        return str(info.value)

    assert refused("checks", "x", None) == (
        "no plugin kind 'checks' (known: check, command, exporter, filter, sink)"
    )
    assert (
        refused("check", "NtpOffset", None)
        == "'NtpOffset' is not short snake_case, e.g. ntp_offset"
    )
    assert (
        refused("command", "status", None)
        == "command 'status': name it OBJECT_ACTION, e.g. ntp_status"
    )
    assert refused("check", "ntp", "osops_ntp") == (
        "distribution 'osops_ntp' is not lower-case words joined by '-'"
    )
    scaffold.create("check", "ntp", "osops-ntp", tmp_path / "pkg")
    assert (
        refused("check", "ntp", "osops-ntp")
        == f"{tmp_path}/pkg/osops_ntp/ntp.py exists: choose another name"
    )
    assert refused("filter", "tag", "osops-other") == (
        f"{tmp_path}/pkg/pyproject.toml is not the package of osops-other: give --dist"
    )
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError) as info:
        scaffold.create("check", "ntp", None, tmp_path / "other")
    assert (
        str(info.value)
        == f"{tmp_path}/other exists and is no package written by 'osops plugin new'"
    )
