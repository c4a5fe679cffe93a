"""The inventory of installed plugins: every one loaded, judged against its contract."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

import stevedore

from osops import conformance, guard, plugins, requirements
from osops.fixes import likely_fix
from osops.kinds import BY_NAMESPACE, KINDS
from osops.plugins import EntryPoint, contract_fix, describe_error, scan
from osops.value import Value

LOG = logging.getLogger(__name__)


class PluginInfo(Value):
    """A plugin as ``plugin list`` shows it: where it came from and whether it works.

    :param missing: ``missing: LIBRARY (pip install ...)`` when a requirement of
        its distribution is not installed: the plugin may import, but not run
    """

    __slots__ = ("entry", "obj", "error", "fix", "missing")

    def __init__(
        self,
        entry: EntryPoint,
        obj: Any = None,
        error: str | None = None,
        fix: str | None = None,
        missing: str | None = None,
    ) -> None:
        self.entry = entry
        self.obj = obj
        self.error = error
        self.fix = fix
        self.missing = missing

    @property
    def ok(self) -> bool:
        return self.error is None and self.missing is None

    @property
    def status(self) -> str:
        if self.missing is not None:
            return self.missing
        return "ok" if self.ok else f"broken: {self.error} (fix: {self.fix})"

    @property
    def reason(self) -> str:
        """What is wrong and the fix, without naming the plugin (a broken one's)."""
        return self.missing or f"{self.error} (fix: {self.fix})"


def extension_manager(
    namespace: str, failures: dict[str, BaseException]
) -> stevedore.ExtensionManager[Any]:
    """A stevedore manager that imports a namespace, recording failures instead of raising."""

    def record(_manager: Any, entry_point: Any, exc: BaseException) -> None:
        LOG.debug("plugin %s in %s failed to load: %s", entry_point.name, namespace, exc)
        failures[entry_point.name] = exc

    # What a plugin prints on import is kept off the listing (osops.guard).
    with guard.running(f"a plugin of {namespace} during import"):
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
                    fix=contract_fix(entry) if problems else None,
                )
            )
        for name, exc in failures.items():
            entry = next(
                (e for e in index.values() if e.kind == kind_name and e.name == name),
                EntryPoint(kind_name, name, "", "unknown", ""),
            )
            infos.append(PluginInfo(entry, error=describe_error(exc), fix=likely_fix(exc, entry)))
    _judge_requirements(infos)
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


def _judge_requirements(infos: list[PluginInfo]) -> None:
    """Mark, in place, every plugin whose distribution lacks an installed requirement.

    Read from the metadata, so a plugin that imports its library only where it
    uses it is seen as unable to run before it runs.
    """
    present = requirements.installed()
    judged: dict[tuple[str, tuple[str, ...]], str | None] = {}
    for position, info in enumerate(infos):
        key = (info.entry.distribution, info.entry.extras)
        if key not in judged:
            gaps = requirements.missing(*key, present=present)
            judged[key] = requirements.describe(key[0], gaps) if gaps else None
        if judged[key] is not None:
            infos[position] = info.replace(missing=judged[key])


class Stray(Value):
    """Entry points in a group osops never reads: most likely a typo of a namespace."""

    __slots__ = ("distribution", "group", "names", "closest")

    def __init__(
        self, distribution: str, group: str, names: list[str], closest: str | None
    ) -> None:
        self.distribution = distribution
        self.group = group
        self.names = names
        self.closest = closest

    @property
    def warning(self) -> str:
        guess = f" (did you mean {self.closest!r}?)" if self.closest else ""
        return (
            f"entry points in unknown group {self.group!r}{guess}: osops never loads "
            f"{', '.join(self.names)}"
        )


def strays() -> list[Stray]:
    """Entry-point groups named like osops namespaces that are none (``osops.checks``)."""
    import difflib

    found = []
    for dist, _version, text in plugins.entry_point_files(b"osop"):
        for group, names in _groups(text).items():
            if group in BY_NAMESPACE:
                continue
            close = difflib.get_close_matches(group, list(BY_NAMESPACE), n=1, cutoff=0.75)
            if group.startswith("osops.") or close:
                found.append(Stray(dist, group, names, close[0] if close else None))
    return found


def _groups(text: str) -> dict[str, list[str]]:
    """The entry point names of an ``entry_points.txt``, by group."""
    groups: dict[str, list[str]] = {}
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            group = line.strip("[]").strip()
            groups.setdefault(group, [])
        elif group is not None and "=" in line:
            groups[group].append(line.partition("=")[0].strip())
    return groups


def distribution_key(name: str) -> str:
    """A distribution name as compared: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()
