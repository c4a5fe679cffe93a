"""The shape of the tree: no import cycles in osops/, no module too big to read (core, contrib)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

PACKAGES = {
    "osops": ROOT / "osops",
    "osops_logging": ROOT / "contrib/logging/osops_logging",
    "osops_monitoring": ROOT / "contrib/monitoring/osops_monitoring",
    "osops_upgrade": ROOT / "contrib/upgrade/osops_upgrade",
}


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in PACKAGES[package].rglob("*.py"):
        parts = (package, *path.relative_to(PACKAGES[package]).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(path: Path, module: str, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` a module imports when it runs (``if TYPE_CHECKING:`` aside),
    at module level or inside a function."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: -node.level if path.name != "__init__.py" else None]
                base = ".".join([*package, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    found = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, however indirectly (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def test_no_import_cycles_in_osops() -> None:
    known = _modules("osops")
    graph = {module: _imported(path, module, known) for module, path in known.items()}
    assert "osops.check.evaluation" in graph["osops.check.base"]  # the walk sees imports
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_module_over_300_lines(package: str) -> None:
    sizes = {
        module: len(path.read_text().splitlines()) for module, path in _modules(package).items()
    }
    assert {module: size for module, size in sizes.items() if size > 300} == {}
