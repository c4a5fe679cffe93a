"""What generate.py and history.py share: sdists read, series named, data files written.

Standard library only, like the tools that import it.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "osops_upgrade" / "data"

_SERIES_URL = re.compile(r"constraints/upper/(\d{4}\.\d)\b")
_BRANCHED = re.compile(r"^\* Update master for stable/(\d{4})\.(\d)$", re.M)


def cached(cache: Path, dist: str, version: str) -> Path | None:
    """The sdist of ``dist`` ``version`` in ``cache``, if there (PyPI's name, in any case)."""
    stem = f"{dist.replace('-', '_')}-{version}.tar.gz".lower()
    return next((p for p in sorted(cache.glob("*.tar.gz")) if p.name.lower() == stem), None)


def member(archive: Path, suffix: str) -> tarfile.TarInfo:
    """The sdist's file at ``suffix``, a path under its top directory."""
    with tarfile.open(archive) as tar:
        for info in tar.getmembers():
            if info.name.split("/", 1)[-1] == suffix:
                return info
    raise RuntimeError(f"{archive.name}: no {suffix}")


def read_member(archive: Path, suffix: str) -> str:
    with tarfile.open(archive) as tar:
        fh = tar.extractfile(member(archive, suffix))
        assert fh is not None
        return fh.read().decode()


def read_members(archive: Path, wanted: Callable[[str], bool]) -> dict[str, bytes]:
    """The sdist's files whose path under its top directory ``wanted`` accepts, by that path."""
    found: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for info in tar.getmembers():
            path = info.name.split("/", 1)[-1]
            if wanted(path):
                fh = tar.extractfile(info)
                assert fh is not None
                found[path] = fh.read()
    return found


def next_series(series: str) -> str:
    """The series after ``series``: 2020.1 -> 2020.2, 2020.2 -> 2021.1."""
    year, half = (int(n) for n in series.split("."))
    return f"{year}.2" if half == 1 else f"{year + 1}.1"


def series_of(archive: Path) -> str:
    """The series a release belongs to, as its sdist says.

    A stable branch's tox.ini pins upper-constraints/<series>. A first release
    tagged before that change still points at master; then the series is the
    one after the newest "Update master for stable/<series>" commit in pbr's
    ChangeLog (made on master as the previous series branched).
    """
    found = set(_SERIES_URL.findall(read_member(archive, "tox.ini")))
    if len(found) == 1:
        return found.pop()
    if found:
        raise RuntimeError(f"{archive.name}: tox.ini names series {sorted(found)}")
    branched = _BRANCHED.search(read_member(archive, "ChangeLog"))
    if branched is None:
        raise RuntimeError(f"{archive.name}: neither tox.ini nor ChangeLog names a series")
    return next_series(f"{branched.group(1)}.{branched.group(2)}")


def gzip_json(document: object) -> bytes:
    """A data file's bytes: sorted compact JSON, gzip'd with mtime 0 (the same bytes each run)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as fh:
        fh.write(text.encode())
    return buffer.getvalue()
