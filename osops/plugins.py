"""Find and load one plugin by kind and name, lean: no stevedore, no other plugin imported."""

from __future__ import annotations

import importlib
import os

from osops import guard, requirements
from osops.exceptions import PluginLoadError, PluginNotFound, RequirementMissing
from osops.kinds import BY_NAMESPACE, kind
from osops.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Iterable, Iterator
    from typing import Any

    import stevedore


class EntryPoint(Value):
    """One registered plugin as the distribution metadata declares it."""

    __slots__ = ("kind", "name", "value", "distribution", "version")

    def __init__(self, kind: str, name: str, value: str, distribution: str, version: str) -> None:
        self.kind = kind
        self.name = name
        self.value = value
        self.distribution = distribution
        self.version = version

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].partition("[")[0].strip()

    @property
    def attr(self) -> str:
        return self.value.partition(":")[2].partition("[")[0].strip()

    @property
    def extras(self) -> tuple[str, ...]:
        """The extras of its distribution the plugin needs: ``module:Class [extra, ...]``."""
        inside = self.value.partition("[")[2].partition("]")[0]
        return tuple(extra.strip() for extra in inside.split(",") if extra.strip())


def scan(namespaces: Iterable[str] | None = None) -> list[EntryPoint]:
    """Read the osops entry points of every distribution on sys.path.

    This deliberately avoids importlib.metadata (~60 ms to import): Icinga
    starts one process per check, and a directory listing plus a read of each
    ``entry_points.txt`` costs about a millisecond. The first distribution of
    a name on sys.path wins, as in importlib.metadata.

    :param namespaces: only these namespaces; every osops namespace by default
    """
    return list(_entries(namespaces))


def _entries(namespaces: Iterable[str] | None) -> Iterator[EntryPoint]:
    """:func:`scan`, lazily: a lookup stops reading at the plugin it wants."""
    wanted = set(namespaces) if namespaces is not None else set(BY_NAMESPACE)
    for dist, version, text in entry_point_files(b"[osops."):
        yield from _parse_entry_points(text, wanted, dist, version)


def entry_point_files(marker: bytes) -> Iterator[tuple[str, str, str]]:
    """(distribution, version, text) of every ``entry_points.txt`` on sys.path holding marker.

    The first distribution of a name on sys.path wins, as in importlib.metadata.
    """
    seen: set[str] = set()
    for entry, dirname in requirements.metadata_dirs(dirs_only=True):
        dist, version = _distribution_of(dirname)
        if dist in seen:
            continue
        seen.add(dist)
        data = _read(os.path.join(entry, dirname, "entry_points.txt"))
        if data is not None and marker in data:
            yield dist, version, data.decode("utf-8", "replace")


def _read(path: str) -> bytes | None:
    """A small file's bytes, or None if it cannot be read (no buffered file object: cheaper)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _distribution_of(dirname: str) -> tuple[str, str]:
    stem = dirname.rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    return requirements.normalize(name), version


def _parse_entry_points(
    text: str, wanted: set[str], dist: str, version: str
) -> Iterator[EntryPoint]:
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            group = line.strip("[]").strip()
            continue
        if group in wanted:
            name, sep, value = line.partition("=")
            if sep:
                kind_name = BY_NAMESPACE[group]
                yield EntryPoint(kind_name, name.strip(), value.strip(), dist, version)


def find(kind_name: str, name: str) -> EntryPoint:
    """The entry point of one plugin, found without importing any plugin.

    :raises PluginNotFound: with the names that do exist
    """
    namespace = kind(kind_name).namespace
    for entry in _entries([namespace]):
        if entry.name == name:
            return entry  # the first on sys.path, as a whole scan would list it first
    raise _not_found(kind_name, name, [e.name for e in scan([namespace])])


def _not_found(kind_name: str, name: str, known: Iterable[str]) -> PluginNotFound:
    installed = ", ".join(sorted(known)) or "none installed"
    return PluginNotFound(f"no {kind_name} named {name!r} (installed: {installed})")


def load(
    kind_name: str, name: str, manager: stevedore.ExtensionManager[Any] | None = None
) -> type[Any]:
    """Find and import one plugin class, and check it subclasses its kind's contract.

    :param manager: take the plugin from this stevedore manager instead of the
        installed entry points (tests inject ``ExtensionManager.make_test_instance``)
    :raises PluginNotFound: no such plugin is installed, naming those that are
    :raises PluginLoadError: it is installed but broken, saying how and the likely fix
    """
    if manager is None:
        return load_entry(find(kind_name, name))
    extensions = {ext.name: ext for ext in manager}
    if name not in extensions:
        raise _not_found(kind_name, name, extensions)
    ext = extensions[name]
    value = ext.entry_point.value if ext.entry_point is not None else _qualname(ext.plugin)
    return _checked(EntryPoint(kind_name, name, value, "unknown", ""), ext.plugin)


def load_entry(entry: EntryPoint, present: dict[str, str] | None = None) -> type[Any]:
    """Import the class one entry point names, checked against its kind's contract.

    :param present: :func:`osops.requirements.installed`, for a caller loading many
    :raises RequirementMissing: a requirement of its distribution is not installed
    :raises PluginLoadError: with the error and its likely fix
    """
    # Before the import: a plugin imports its libraries where it uses them, so
    # only the distribution's metadata tells that one is missing before it runs.
    gaps = requirements.missing(entry.distribution, entry.extras, present)
    if gaps:
        reason = requirements.describe(entry.distribution, gaps)
        raise RequirementMissing(
            f"{entry.kind} {entry.name!r} from {entry.distribution}: {reason}", reason
        )
    try:
        # What it prints on import is kept off standard output (osops.guard).
        with guard.running(f"{entry.kind} {entry.name!r} during import"):
            obj: Any = importlib.import_module(entry.module)
        for part in entry.attr.split(".") if entry.attr else ():
            obj = getattr(obj, part)
    except BaseException as exc:  # any import-time failure (sys.exit too) breaks the plugin
        if isinstance(exc, KeyboardInterrupt):
            raise
        from osops.fixes import likely_fix  # the failure path only

        raise _broken(entry, describe_error(exc), likely_fix(exc, entry)) from exc
    return _checked(entry, obj)


def _checked(entry: EntryPoint, obj: Any) -> type[Any]:
    contract = kind(entry.kind).contract_class()
    if not (isinstance(obj, type) and issubclass(obj, contract)):
        problem = f"{entry.value} is not a subclass of {_qualname(contract)}"
        raise _broken(entry, problem, contract_fix(entry))
    return obj


def contract_fix(entry: EntryPoint) -> str:
    """The fix for a plugin that breaks its kind's contract."""
    return f"make {entry.value} honour the {entry.kind} contract (CONTRIBUTING.rst)"


def _broken(entry: EntryPoint, problem: str, fix: str) -> PluginLoadError:
    """The one way a plugin that cannot be used is reported."""
    reason = f"failed to load: {problem} (fix: {fix})"
    return PluginLoadError(
        f"{entry.kind} {entry.name!r} from {entry.distribution} {reason}", reason
    )


def _qualname(obj: Any) -> str:
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    return repr(obj)


def describe_error(exc: BaseException) -> str:
    """One line naming an exception, for status columns and UNKNOWN lines."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
