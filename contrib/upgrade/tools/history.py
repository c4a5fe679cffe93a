#!/usr/bin/env python3
"""The scheduler filters and weighers of nova releases older than the option data.

A nova.conf written years ago still names values that are gone (RetryFilter,
removed after Victoria). The option data starts at 2025.1, whose releases
install here; older releases do not install on this Python, so their values are
read from their sdists' source instead, as nova's own loader finds them: every
public class in a module of ``nova/scheduler/filters/`` (``weights/``) that
derives, directly or through another, from ``BaseHostFilter``
(``BaseHostWeigher``). The same reading of a release that the option data
covers gives exactly the values its installed code gives (tested), so the two
agree where they meet.

Writes osops_upgrade/data/nova/history.json.gz: for each value, the last series
that had it, for values no release of the option data has. Sorted, gzip mtime 0:
a second run writes the same bytes.

    python3 contrib/upgrade/tools/history.py [--cache DIR] [--output DIR]

Standard library only, like generate.py (what they share is in sdists.py).
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sdists import DATA, cached, gzip_json, read_members  # noqa: E402

INDEX = "https://pypi.org/simple/nova/"

#: The newest release of each series before the option data's oldest, Train on,
#: as published on PyPI on 2026-11-27 (nova's major version numbers the series).
OLD = {
    "2019.2": "20.6.1",
    "2020.1": "21.2.4",
    "2020.2": "22.4.0",
    "2021.1": "23.2.2",
    "2021.2": "24.2.1",
    "2022.1": "25.3.0",
    "2022.2": "26.3.0",
    "2023.1": "27.5.1",
    "2023.2": "28.3.1",
    "2024.1": "29.4.0",
    "2024.2": "30.3.0",
}

#: (group, option) -> (package directory, base class, values are dotted paths)
KINDS = {
    ("filter_scheduler", "enabled_filters"): ("nova/scheduler/filters", "BaseHostFilter", False),
    ("filter_scheduler", "weight_classes"): ("nova/scheduler/weights", "BaseHostWeigher", True),
}


def sdist(version: str, cache: Path) -> Path:
    """nova's sdist of ``version``, fetched once from PyPI and checked against its sha256.

    Fetched, not ``pip download``ed: pip builds an sdist's metadata, and old
    releases' setup.cfg no longer parses with today's setuptools.
    """
    found = cached(cache, "nova", version)
    if found is not None:
        return found
    path = cache / f"nova-{version}.tar.gz"
    request = urllib.request.Request(
        INDEX, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as fh:  # noqa: S310 (https, constant)
        files = json.load(fh)["files"]
    (entry,) = [f for f in files if f["filename"] == path.name]
    if not entry["url"].startswith("https://"):
        raise RuntimeError(f"{path.name}: PyPI gave {entry['url']}")
    with urllib.request.urlopen(entry["url"], timeout=300) as fh:  # noqa: S310 (https only)
        data = fh.read()
    if hashlib.sha256(data).hexdigest() != entry["hashes"]["sha256"]:
        raise RuntimeError(f"{path.name}: sha256 differs from PyPI's")
    path.write_bytes(data)
    return path


def _modules(archive: Path, package: str) -> dict[str, ast.Module]:
    """The package's public modules (as nova's loader lists them), parsed."""

    def public(path: str) -> bool:
        folder, _, name = path.rpartition("/")
        return folder == package and name.endswith(".py") and not name.startswith("_")

    return {
        path.rpartition("/")[2][:-3]: ast.parse(text)
        for path, text in read_members(archive, public).items()
    }


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def values_of(archive: Path, package: str, base: str, dotted: bool) -> list[str]:
    """The classes nova's loader would load from ``package``: derived from ``base``."""
    classes: dict[str, tuple[str, set[str]]] = {}  # class -> (module, base names)
    for module, tree in _modules(archive, package).items():
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes[node.name] = (module, {_base_name(b) for b in node.bases})
    derived = {base}
    while True:
        more = {name for name, (_, bases) in classes.items() if bases & derived} - derived
        if not more:
            break
        derived |= more
    names = [name for name in classes if name in derived - {base} and not name.startswith("_")]
    if dotted:
        prefix = package.replace("/", ".")
        return sorted(f"{prefix}.{classes[name][0]}.{name}" for name in names)
    return sorted(names)


def history(cache: Path) -> dict[str, dict[str, dict[str, str]]]:
    """For each value older releases had and the option data's releases do not: its last series."""
    known: dict[tuple[str, str], set[str]] = {key: set() for key in KINDS}
    for data in sorted((DATA / "nova").glob("20*.json.gz")):
        document = json.loads(gzip.decompress(data.read_bytes()))
        for (group, option), values in known.items():
            values.update(document["values"][group][option])
    last: dict[str, dict[str, dict[str, str]]] = {}
    for series, version in OLD.items():  # oldest first: the last one seen wins
        archive = sdist(version, cache)
        for (group, option), (package, base, dotted) in KINDS.items():
            for value in values_of(archive, package, base, dotted):
                if value not in known[(group, option)]:
                    last.setdefault(group, {}).setdefault(option, {})[value] = series
    return last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="history.py", description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=HERE.parents[2] / ".work" / "nova-sdists")
    parser.add_argument("--output", type=Path, default=DATA / "nova")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    document = {"service": "nova", "series": sorted(OLD), "values": history(args.cache)}
    (args.output / "history.json.gz").write_bytes(gzip_json(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
