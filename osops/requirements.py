"""Whether a distribution's requirements are installed, read from its metadata, no import."""

from __future__ import annotations

import os
import re
import sys

from osops.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Iterable, Iterator


class Missing(Value):
    """One requirement of a distribution that is not installed.

    :param name: the distribution required, as its metadata spells it (``PyMySQL``)
    :param requirement: what to ask pip for (``PyMySQL>=1.0``), marker left out
    :param extra: the extra of the plugin's distribution that asks for it, if any
    """

    __slots__ = ("name", "requirement", "extra")

    def __init__(self, name: str, requirement: str, extra: str | None = None) -> None:
        self.name = name
        self.requirement = requirement
        self.extra = extra


def normalize(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def metadata_dirs(dirs_only: bool = False) -> Iterator[tuple[str, str]]:
    """(sys.path entry, name) of every ``.dist-info`` and ``.egg-info`` on sys.path.

    In sys.path order, sorted within an entry: a listing of each entry, no file
    read. Callers keep the first of a name, as importlib.metadata does.

    :param dirs_only: leave out an ``.egg-info`` that is a file (distutils' lone
        PKG-INFO), which holds no entry points
    """
    for entry in sys.path:
        try:
            listing = os.scandir(entry or ".")
        except OSError:
            continue
        with listing:
            names = sorted(
                item.name
                for item in listing
                if item.name.endswith((".dist-info", ".egg-info"))
                and (not dirs_only or item.is_dir())
            )
        for dirname in names:
            yield entry or ".", dirname


def installed() -> dict[str, str]:
    """Every distribution on sys.path: its normalized name and metadata directory.

    A listing of each sys.path entry, no file read (about a millisecond); the
    first of a name on sys.path wins, as in importlib.metadata.
    """
    found: dict[str, str] = {}
    for entry, dirname in metadata_dirs():
        name = normalize(dirname.rsplit(".", 1)[0].partition("-")[0])
        found.setdefault(name, os.path.join(entry, dirname))
    return found


def declared(metadata_dir: str) -> list[tuple[str, str, str | None, str | None]]:
    """A distribution's requirements from its metadata: (name, requirement, marker, extra).

    ``Requires-Dist`` of a ``.dist-info``, or ``requires.txt`` of an ``.egg-info``.
    """
    if metadata_dir.endswith(".dist-info"):
        return [_split(line) for line in _requires_dist(os.path.join(metadata_dir, "METADATA"))]
    return _requires_txt(os.path.join(metadata_dir, "requires.txt"))


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _requires_dist(path: str) -> list[str]:
    head = _read(path).partition("\n\n")[0]  # the headers; the description follows
    return [
        line[len("Requires-Dist:") :].strip()
        for line in head.splitlines()
        if line.startswith("Requires-Dist:")
    ]


def _requires_txt(path: str) -> list[tuple[str, str, str | None, str | None]]:
    found = []
    extra: str | None = None
    marker: str | None = None
    for raw in _read(path).splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section, _, condition = line.strip("[]").partition(":")
            extra, marker = section or None, condition or None
            continue
        name, requirement, _, _ = _split(line)
        found.append((name, requirement, marker, extra))
    return found


_EXTRA = re.compile(r"""(?:^|\s*\band\s+)extra\s*==\s*['"]([^'"]+)['"]""")


def _split(text: str) -> tuple[str, str, str | None, str | None]:
    """``name[x]>=1; marker and extra == "e"`` into name, requirement, marker, extra."""
    requirement, _, marker_text = text.partition(";")
    requirement = requirement.strip()
    name = re.split(r"[\s\[<>=!~(@]", requirement, maxsplit=1)[0]
    marker: str | None = marker_text.strip() or None
    extra = None
    if marker is not None:
        found = _EXTRA.search(marker)
        if found:
            extra = found.group(1)
            marker = (marker[: found.start()] + marker[found.end() :]).strip() or None
            if marker and marker.endswith(" and"):
                marker = marker[: -len(" and")].strip() or None
    return name, requirement, marker, extra


def missing(
    distribution: str, extras: Iterable[str] = (), present: dict[str, str] | None = None
) -> list[Missing]:
    """The requirements of an installed distribution (and of the given extras of it)
    that are not installed, in the order its metadata lists them.

    Presence is what is judged, not versions: pip held those at install time,
    and a library removed or never installed is what breaks plugins.

    :param present: :func:`installed`, when the caller has it already
    """
    present = installed() if present is None else present
    where = present.get(normalize(distribution))
    if where is None:
        return []
    wanted = {normalize(extra) for extra in extras}
    gaps = []
    for name, requirement, marker, extra in declared(where):
        if extra is not None and normalize(extra) not in wanted:
            continue
        if normalize(name) in present:
            continue
        if marker is not None and not _applies(marker):
            continue
        gaps.append(Missing(name, requirement, extra))
    return gaps


def _applies(marker: str) -> bool:
    """Whether an environment marker holds here; True if it cannot be read.

    Reached only for a requirement that is absent, so the cost of importing
    packaging is paid only then.
    """
    from packaging.markers import InvalidMarker, Marker

    try:
        return bool(Marker(marker).evaluate())
    except InvalidMarker:  # a marker this packaging cannot read: say what is absent
        return True


def fix(distribution: str, gaps: Iterable[Missing]) -> str:
    """The one command that installs what is missing."""
    wanted: list[str] = []
    for gap in gaps:
        item = f"{distribution}[{gap.extra}]" if gap.extra else gap.requirement
        if item not in wanted:
            wanted.append(item)
    return "pip install " + " ".join(f"'{item}'" for item in wanted)


def describe(distribution: str, gaps: Iterable[Missing]) -> str:
    """``missing: requests (pip install 'requests>=2.25')``: plugin list's status, and
    the line a plugin that cannot run says."""
    gaps = list(gaps)
    return f"missing: {', '.join(g.name for g in gaps)} ({fix(distribution, gaps)})"
