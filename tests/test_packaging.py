"""Packaging: lockstep versions, core never imports contrib, clean non-editable installs."""

from __future__ import annotations

import ast
import configparser
import os
import re
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
        "osops.log.fusing",  # the fused-chain contract
        "osops.log.redaction",  # the public redaction API a fused chain applies itself
        "osops.log.redact",  # the redact filter's class, which a fused chain recognises
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


def _runtime_imports(package: Path) -> set[str]:
    """Top-level modules a package imports at run time (not under ``if TYPE_CHECKING:``),
    the standard library and osops's own packages left out."""
    found: set[str] = set()

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                for other in child.orelse:
                    walk(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name.split(".")[0] for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                found.add(child.module.split(".")[0])
            walk(child)

    for source in package.rglob("*.py"):
        walk(ast.parse(source.read_text()))
    return {m for m in found if m not in sys.stdlib_module_names and not m.startswith("osops")}


def _requires(setup: Path) -> set[str]:
    """install_requires, as normalized distribution names."""
    options = _metadata(setup)

    def names(text: str) -> set[str]:
        return {
            re.sub(r"[-_.]+", "-", re.split(r"[\s;<>=!~\[]", line, maxsplit=1)[0]).lower()
            for line in (raw.strip() for raw in text.splitlines())
            if line and not line.startswith("#")
        }

    return names(options["options"]["install_requires"])


@pytest.mark.parametrize(
    "where, package",
    [
        (".", "osops"),
        ("contrib/monitoring", "osops_monitoring"),
        ("contrib/logging", "osops_logging"),
        ("contrib/upgrade", "osops_upgrade"),
    ],
)
def test_installing_a_distribution_brings_what_its_plugins_import(
    where: str, package: str
) -> None:
    # Issue 15: an extra nobody names left plugins that fail at 3 a.m. Whatever a
    # distribution's modules import is in its install_requires (core's contracts,
    # cliff and stevedore, come with osops), so a plain pip install makes every
    # registered plugin work.
    import importlib.metadata

    providers = importlib.metadata.packages_distributions()
    required = _requires(ROOT / where / "setup.cfg")
    core = _requires(ROOT / "setup.cfg")
    # osops.testing.fixtures is the kit's pytest plugin (pytest11): only pytest loads it.
    loaded_by = {"pytest"} if package == "osops" else set()
    for module in sorted(_runtime_imports(ROOT / where / package) - loaded_by):
        (distribution,) = {re.sub(r"[-_.]+", "-", d).lower() for d in providers[module]}
        assert distribution in required | core, (
            f"{package} imports {module}: require {distribution}"
        )
    # An extra is for what is truly optional, and then a plugin names it in its entry
    # point ("name = module:Class [extra]"), where plugin list finds it without an import.
    setup = _metadata(ROOT / where / "setup.cfg")
    named = set(re.findall(r"\[([^\]]+)\]", "\n".join(setup["options.entry_points"].values())))
    declared = set(
        setup["options.extras_require"] if setup.has_section("options.extras_require") else ()
    )
    assert declared <= {n.strip() for names in named for n in names.split(",")}, (
        f"{where}: extras no plugin names ({sorted(declared)}): require them"
    )
