"""Building osops-logging: compiled where it can be, pure Python where not, saying which.

A plain ``pip install`` tries mypyc (contrib/logging/setup.py). These tests
build wheels from a copy of the source without a working C compiler
(``CC=/bin/false``), which the build finds out in its probe, before mypyc
runs: no compile, so they cost seconds. The compiled build itself is what
tools/setup installs and test_compiled.py holds; a plain ``pip install`` in a fresh
venv compiling it is tests/functional/test_pip_install.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from helpers import ROOT, run_osops

SOURCE = ROOT / "contrib" / "logging"


def _build(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[Path]]:
    """``pip wheel -v`` of a copy of contrib/logging, in this environment; its output and wheels."""
    tree = tmp_path / "logging"
    shutil.copytree(
        SOURCE, tree, ignore=shutil.ignore_patterns("build", "*.egg-info", ".mypy_cache")
    )
    environ = {k: v for k, v in os.environ.items() if k != "OSOPS_MYPYC"} | env
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation"),
            *("--no-cache-dir", "-w", str(tmp_path / "wheels"), str(tree)),
        ],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )
    return done, sorted((tmp_path / "wheels").glob("*.whl"))


def _libraries(wheel: Path) -> list[str]:
    return [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(tuple(EXTENSION_SUFFIXES))]


def test_without_a_c_compiler_the_parser_is_built_pure_python_and_says_so(
    tmp_path: Path,
) -> None:
    done, wheels = _build(tmp_path, CC="/bin/false")
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert "osops-logging: no working C compiler with the Python headers" in output
    assert "building the log parser as pure Python" in output
    assert "compiling the log parser with mypyc" not in output
    (wheel,) = wheels
    assert wheel.name == "osops_logging-0.1.0-py3-none-any.whl"  # no platform: pure
    assert _libraries(wheel) == []
    assert "osops_logging/lines.py" in zipfile.ZipFile(wheel).namelist()


def test_osops_mypyc_1_demands_the_compiled_build(tmp_path: Path) -> None:
    done, wheels = _build(tmp_path, CC="/bin/false", OSOPS_MYPYC="1")
    assert done.returncode != 0
    assert "OSOPS_MYPYC=1 but no working C compiler" in done.stdout + done.stderr
    assert wheels == []


def test_osops_mypyc_0_builds_pure_python_without_trying(tmp_path: Path) -> None:
    # /bin/false as compiler: had the build tried, it would say so.
    done, wheels = _build(tmp_path, CC="/bin/false", OSOPS_MYPYC="0")
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert "OSOPS_MYPYC=0: building the log parser as pure Python" in output
    assert "no working C compiler" not in output
    (wheel,) = wheels
    assert _libraries(wheel) == []


def test_the_build_requires_mypy_so_that_pip_install_can_compile() -> None:
    import tomllib

    with open(SOURCE / "pyproject.toml", "rb") as fh:
        requires = tomllib.load(fh)["build-system"]["requires"]
    assert any(r.replace(" ", "").startswith("mypy>=") for r in requires), requires


def test_plugin_show_says_which_build_runs() -> None:
    shown = run_osops("plugin", "show", "filter", "parse", "-f", "json")
    assert shown.returncode == 0, shown.stderr
    build = json.loads(shown.stdout)["build"]
    if os.environ.get("OSOPS_MYPYC", "1") == "1":  # as tools/setup installed it
        assert build == "compiled by mypyc"
    else:
        assert build.startswith("pure Python")
