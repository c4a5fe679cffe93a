"""Plugin kinds, their entry-point namespaces, lean lookup and load-failure records."""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys

from osops.exceptions import PluginLoadError, PluginNotFound
from osops.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Iterable, Iterator
    from typing import Any

    import stevedore

LOG = logging.getLogger(__name__)


class Kind(Value):
    """One plugin kind: what users type, the namespace, and the contract class."""

    __slots__ = ("name", "namespace", "contract", "description")

    def __init__(self, name: str, namespace: str, contract: str, description: str) -> None:
        self.name = name
        self.namespace = namespace
        self.contract = contract
        self.description = description


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("check", "osops.check", "osops.check.base:Check", "monitoring check"),
        Kind("filter", "osops.log.filter", "osops.log.base:Filter", "log pipeline step"),
        Kind("sink", "osops.log.sink", "osops.log.base:Sink", "log record destination"),
        Kind(
            "exporter",
            "osops.dashboard.exporter",
            "osops.dashboard.base:Exporter",
            "dashboard exporter",
        ),
        Kind("command", "osops.cli", "cliff.command:Command", "osops subcommand"),
    )
}
_KIND_OF_NAMESPACE = {kind.namespace: kind.name for kind in KINDS.values()}


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
        return self.value.partition(":")[0].strip()

    @property
    def attr(self) -> str:
        return self.value.partition(":")[2].strip()


def kind(name: str) -> Kind:
    """Look a kind up by the name users type.

    :raises PluginNotFound: naming the known kinds
    """
    try:
        return KINDS[name]
    except KeyError:
        raise PluginNotFound(
            f"no plugin kind {name!r} (known: {', '.join(sorted(KINDS))})"
        ) from None


def scan(namespaces: Iterable[str] | None = None) -> list[EntryPoint]:
    """Read the osops entry points of every distribution on sys.path.

    This deliberately avoids importlib.metadata (~60 ms to import): Icinga
    starts one process per check, and a directory listing plus a read of the
    few ``entry_points.txt`` files that mention osops costs about a
    millisecond. The first distribution of a name on sys.path wins, as in
    importlib.metadata.

    :param namespaces: only these namespaces; every osops namespace by default
    """
    wanted = set(namespaces) if namespaces is not None else set(_KIND_OF_NAMESPACE)
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for entry in sys.path:
        try:
            listing = os.scandir(entry or ".")
        except OSError:
            continue
        with listing:
            names = sorted(
                item.name
                for item in listing
                if item.name.endswith((".dist-info", ".egg-info")) and item.is_dir()
            )
        for dirname in names:
            dist, version = _distribution_of(dirname)
            if dist in seen:
                continue
            seen.add(dist)
            try:
                with open(os.path.join(entry or ".", dirname, "entry_points.txt")) as fh:
                    text = fh.read()
            except OSError:
                continue
            if "[osops." in text:
                found.extend(_parse_entry_points(text, wanted, dist, version))
    return found


def _distribution_of(dirname: str) -> tuple[str, str]:
    stem = dirname.rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    return re.sub(r"[-_.]+", "-", name).lower(), version


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
                kind_name = _KIND_OF_NAMESPACE[group]
                yield EntryPoint(kind_name, name.strip(), value.strip(), dist, version)


def find(kind_name: str, name: str) -> EntryPoint:
    """The entry point of one plugin, found without importing any plugin.

    :raises PluginNotFound: with the names that do exist
    """
    namespace = kind(kind_name).namespace
    candidates = scan([namespace])
    for entry in candidates:
        if entry.name == name:
            return entry
    known = ", ".join(sorted(e.name for e in candidates)) or "none installed"
    raise PluginNotFound(f"no {kind_name} named {name!r} (installed: {known})")


def load(entry: EntryPoint) -> Any:
    """Import one plugin's module and return the object the entry point names.

    :raises PluginLoadError: with the error and its likely fix
    """
    try:
        obj: Any = importlib.import_module(entry.module)
        for part in entry.attr.split(".") if entry.attr else ():
            obj = getattr(obj, part)
    except Exception as exc:  # any import-time failure makes the plugin broken, not osops
        raise PluginLoadError(
            f"{entry.kind} {entry.name!r} from {entry.distribution} failed to load: "
            f"{describe_error(exc)} (fix: {likely_fix(exc, entry)})"
        ) from exc
    return obj


def describe_error(exc: BaseException) -> str:
    """One line naming an exception, for status columns and UNKNOWN lines."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def likely_fix(exc: BaseException, entry: EntryPoint) -> str:
    """What an operator most likely has to do about a plugin that failed to load."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        missing = exc.name.split(".")[0]
        extra = _extra_providing(entry.distribution, missing)
        if extra:
            return f"pip install '{entry.distribution}[{extra}]'"
        if missing == entry.module.split(".")[0]:
            return f"reinstall {entry.distribution}: its module {missing!r} is missing"
        return f"install the package that provides module {missing!r} next to osops"
    if isinstance(exc, AttributeError):
        return f"{entry.distribution} registers {entry.value!r}, which does not exist"
    return f"report it to the maintainers of {entry.distribution}"


def _extra_providing(distribution: str, module: str) -> str | None:
    # Only reached on the failure path, so the slow metadata import is fine here.
    import importlib.metadata

    def squash(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    try:
        requirements = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for requirement in requirements:
        name = re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]
        marker = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", requirement)
        if marker and squash(name) in (squash(module), squash(module) + "py"):
            return marker.group(1)
    return None


class PluginInfo(Value):
    """A plugin as ``plugin list`` shows it: where it came from and whether it works."""

    __slots__ = ("entry", "obj", "error", "fix")

    def __init__(
        self, entry: EntryPoint, obj: Any = None, error: str | None = None, fix: str | None = None
    ) -> None:
        self.entry = entry
        self.obj = obj
        self.error = error
        self.fix = fix

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> str:
        return "ok" if self.ok else f"broken: {self.error} (fix: {self.fix})"


def extension_manager(
    namespace: str, failures: dict[str, BaseException]
) -> stevedore.ExtensionManager[Any]:
    """A stevedore manager that imports a namespace, recording failures instead of raising."""
    import stevedore

    def record(_manager: Any, entry_point: Any, exc: BaseException) -> None:
        LOG.debug("plugin %s in %s failed to load: %s", entry_point.name, namespace, exc)
        failures[entry_point.name] = exc

    return stevedore.ExtensionManager(namespace, on_load_failure_callback=record)


def inspect(
    kind_names: Iterable[str] | None = None,
    managers: dict[str, stevedore.ExtensionManager[Any]] | None = None,
) -> list[PluginInfo]:
    """Load every installed plugin of the given kinds and judge it against its contract.

    :param managers: per kind, an already built manager (tests inject
        ``ExtensionManager.make_test_instance`` here)
    :returns: one record per plugin, broken ones included, sorted by kind and name
    """
    from osops import conformance

    names = list(kind_names) if kind_names is not None else list(KINDS)
    index = {(e.kind, e.name, e.value): e for e in scan(KINDS[k].namespace for k in names)}
    infos: list[PluginInfo] = []
    for kind_name in names:
        namespace = KINDS[kind_name].namespace
        failures: dict[str, BaseException] = {}
        if managers is not None and kind_name in managers:
            manager = managers[kind_name]
        else:
            manager = extension_manager(namespace, failures)
        for ext in manager:
            value = ext.entry_point.value if ext.entry_point is not None else ""
            entry = index.get((kind_name, ext.name, value)) or EntryPoint(
                kind_name, ext.name, value, "unknown", ""
            )
            problems = conformance.problems(kind_name, ext.name, ext.plugin)
            infos.append(
                PluginInfo(
                    entry,
                    obj=ext.plugin,
                    error="; ".join(problems) or None,
                    fix=f"make {entry.value} honour the {kind_name} contract (CONTRIBUTING.rst)"
                    if problems
                    else None,
                )
            )
        for name, exc in failures.items():
            entry = next(
                (e for e in index.values() if e.kind == kind_name and e.name == name),
                EntryPoint(kind_name, name, "", "unknown", ""),
            )
            infos.append(PluginInfo(entry, error=describe_error(exc), fix=likely_fix(exc, entry)))
    duplicates = conformance.duplicate_names(infos)
    for position, info in enumerate(infos):
        owners = duplicates.get((info.entry.kind, info.entry.name))
        if owners and info.ok:
            others = ", ".join(sorted(owners - {info.entry.distribution}))
            infos[position] = info.replace(
                error=f"name also registered by {others}",
                fix="rename one of them: entry point names must be unique per kind",
            )
    infos.sort(key=lambda i: (i.entry.kind, i.entry.name, i.entry.distribution))
    return infos
