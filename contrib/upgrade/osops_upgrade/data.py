"""The option data shipped for each service release, and release names resolved."""

from __future__ import annotations

import functools
import gzip
import json
import re
from importlib import resources
from typing import Any

from osops.exceptions import UsageError

_SERIES = re.compile(r"^\d{4}\.[12]$")


class Release:
    """One release of one service as its data file describes it.

    :param service: e.g. "nova"
    :param series: e.g. "2025.1"
    :param version: the service's version, e.g. "31.3.1"
    """

    __slots__ = ("service", "series", "version")

    def __init__(self, service: str, series: str, version: str) -> None:
        self.service = service
        self.series = series
        self.version = version

    def __repr__(self) -> str:
        return f"Release({self.service!r}, {self.series!r}, {self.version!r})"

    @property
    def document(self) -> dict[str, Any]:
        return _load(self.service, self.series)


def services() -> list[str]:
    """Services with data, sorted."""
    root = resources.files("osops_upgrade") / "data"
    return sorted(p.name for p in root.iterdir() if p.is_dir())


@functools.cache
def _load(service: str, series: str) -> dict[str, Any]:
    path = resources.files("osops_upgrade") / "data" / service / f"{series}.json.gz"
    with path.open("rb") as raw, gzip.open(raw) as fh:
        document: dict[str, Any] = json.load(fh)
    return document


@functools.cache
def releases(service: str) -> tuple[Release, ...]:
    """Every release of a service in the data, oldest first.

    :raises UsageError: no data for that service
    """
    root = resources.files("osops_upgrade") / "data" / service
    if service not in services():
        raise UsageError(
            f"--service {service}: no data (services: {', '.join(services()) or 'none'})"
        )
    found = []
    for path in root.iterdir():
        series = path.name.removesuffix(".json.gz")
        if path.name.endswith(".json.gz") and _SERIES.match(series):
            found.append(Release(service, series, str(_load(service, series)["version"])))
    return tuple(sorted(found, key=lambda r: tuple(int(n) for n in r.series.split("."))))


@functools.cache
def history(service: str) -> dict[tuple[str, str], dict[str, str]]:
    """Values of releases older than the data that no release of it has, with the
    last series that had each: ``{(group, option): {value: series}}`` (nova's
    scheduler filters, from tools/history.py); empty for other services."""
    path = resources.files("osops_upgrade") / "data" / service / "history.json.gz"
    if not path.is_file():
        return {}
    with path.open("rb") as raw, gzip.open(raw) as fh:
        document: dict[str, Any] = json.load(fh)
    return {
        (group, option): dict(values)
        for group, options in document["values"].items()
        for option, values in options.items()
    }


def resolve(service: str, name: str | None, option: str) -> Release | None:
    """A release named by series ("2025.1"), version ("31.3.1") or major ("31").

    :returns: None when ``name`` is None
    :raises UsageError: naming the releases there are
    """
    if name is None:
        return None
    known = releases(service)
    for release in known:
        if name == release.series or name == release.version:
            return release
    if not _SERIES.match(name):
        major = name.split(".")[0]
        matches = [r for r in known if r.version.split(".")[0] == major]
        if matches:
            return matches[-1]
    listed = ", ".join(f"{r.series} ({r.version})" for r in known)
    raise UsageError(f"{option} {name}: no such {service} release in the data (known: {listed})")
