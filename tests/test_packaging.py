"""Packaging: lockstep versions, core never imports contrib, clean non-editable installs."""

from __future__ import annotations

import ast
import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT

SETUPS = [
    ROOT / "setup.cfg",
    ROOT / "contrib/monitoring/setup.cfg",
    ROOT / "contrib/logging/setup.cfg",
    ROOT / "contrib/upgrade/setup.cfg",
]


def _metadata(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(path)
    return parser


def test_versions_in_lockstep() -> None:
    from osops import __version__

    versions = {_metadata(path)["metadata"]["version"] for path in SETUPS}
    assert versions == {__version__}
    for path in SETUPS[1:]:
        assert f"osops=={__version__}" in _metadata(path)["options"]["install_requires"]


def _imports(package: Path) -> set[str]:
    found = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_core_never_imports_contrib() -> None:
    assert not _imports(ROOT / "osops") & {"osops_monitoring", "osops_logging", "osops_upgrade"}


@pytest.mark.parametrize(
    "package",
    [
        "contrib/monitoring/osops_monitoring",
        "contrib/logging/osops_logging",
        "contrib/upgrade/osops_upgrade",
    ],
)
def test_contrib_imports_only_contracts_and_values(package: str) -> None:
    allowed = {
        "osops.check.base",
        "osops.log.base",
        "osops.log.record",
        "osops.log.redact",  # the redaction a fused chain must apply itself
        "osops.log.window",  # and the window (--since, --until, --level)
        "osops.options",
        "osops.exceptions",
        "osops.dashboard.base",
        "osops.dashboard.model",
    }
    for source in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("osops."):
                assert node.module in allowed, f"{source}: imports {node.module}"


@pytest.mark.parametrize(
    "where", [".", "contrib/monitoring", "contrib/logging", "contrib/upgrade"]
)
def test_wheel_holds_only_its_packages(where: str, tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT / where),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "OSOPS_MYPYC": "0"},  # the compiled build: test_compiled.py
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    package = {
        ".": "osops",
        "contrib/monitoring": "osops_monitoring",
        "contrib/logging": "osops_logging",
        "contrib/upgrade": "osops_upgrade",
    }[where]
    assert {t for t in top if not t.endswith((".dist-info", ".data"))} == {package}
    assert not [n for n in names if "/tests/" in n or n.endswith(".log")]
    shipped_yaml = {n.rsplit("/", 1)[-1] for n in names if n.endswith(".yaml")}
    if package == "osops":
        # Data files travel with the wheel: the schema in the package, dashboards in share/.
        assert "osops/dashboard/schema.json" in names
        assert shipped_yaml == {p.name for p in (ROOT / "dashboards").glob("*.yaml")}
        assert all("/data/share/osops/dashboards/" in n for n in names if n.endswith(".yaml"))
    else:
        assert not shipped_yaml
    shipped_data = {n.split("/data/", 1)[1] for n in names if n.endswith(".json.gz")}
    if package == "osops_upgrade":
        # The option data travels with the wheel; the generator and its locks do not.
        committed = ROOT / "contrib/upgrade/osops_upgrade/data"
        assert shipped_data == {
            str(p.relative_to(committed)) for p in committed.glob("*/*.json.gz")
        }
        assert not [n for n in names if "/tools/" in n or "/locks/" in n]
    else:
        assert not shipped_data
