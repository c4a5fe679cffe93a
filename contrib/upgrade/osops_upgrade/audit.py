"""The configuration audit: what a set of oslo.config files meets in a later release."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from osops_upgrade import conffile, data
from osops_upgrade.data import Release
from osops_upgrade.findings import (
    COLUMNS,
    FAILING,
    FINDINGS,
    Finding,
    change,
    deprecation,
    removal,
)
from osops_upgrade.releases import (
    Key,
    Releases,
    deprecates_policy,
    group_name,
    has_choice,
    has_policy,
    has_value,
    invalid,
    items_of,
    next_series,
    renames_policy,
    same_value,
)

__all__ = ["COLUMNS", "FAILING", "FINDINGS", "Auditor", "Finding", "audit"]

_RULE_REFERENCE = re.compile(r"\brule:([\w:.-]+)")
_POLICY_FILE = (".yaml", ".yml", ".json")


class Auditor(Releases):
    """Audits the settings of one service's files from one release to another.

    :param known: every release in the data, oldest first
    :param start: the release the files were written for (``--from``)
    :param target: the release to upgrade to (``--to``)
    """

    def __init__(
        self,
        known: tuple[Release, ...],
        start: Release,
        target: Release,
        settings: dict[Key, conffile.Setting],
        history: dict[Key, dict[str, str]] | None = None,
    ) -> None:
        super().__init__(known, start, target)
        #: Values gone before the oldest known release, with the last series that had them.
        self.history = history or {}
        self.settings = settings
        self.found: list[Finding] = []

    def add(self, key: Key, finding: str, detail: str, release: str) -> None:
        self.found.append(Finding(key[0], key[1], finding, detail, release))

    def dynamic_sections(self) -> dict[str, str]:
        """Sections that are named by values of other options, and the group that describes them.

        Cinder's backends (``enabled_backends = lvm-1`` and ``[lvm-1]``) take the
        options of ``backend_defaults``; other named sections are left alone.
        """
        named: dict[str, str] = {}
        everything: set[str] = set()
        for setting in self.settings.values():
            for value in setting.values:
                everything |= {item.strip() for item in value.split(",") if item.strip()}
        backends = self.settings.get(("DEFAULT", "enabled_backends"))
        if backends is not None and ("backend_defaults", "volume_driver") in self.target.options:
            for name in backends.value.split(","):
                if name.strip():
                    named[group_name(name.strip())] = "backend_defaults"
        for section, _option in self.settings:
            if section in named or any(section in o.sections for o in self.all):
                continue
            if section in everything or section.partition("_")[2] in everything:
                named[section] = ""
        return named

    # -- the audit ---------------------------------------------------------------

    def run(self) -> list[Finding]:
        dynamic = self.dynamic_sections()
        for key, setting in sorted(self.settings.items()):
            section, option = key
            if section in dynamic:
                if not dynamic[section]:
                    continue  # a section only the service's own code can name
                key = (dynamic[section], option)
            self.one(key, (section, option), setting)
        self.defaults()
        order = {name: index for index, name in enumerate(FINDINGS)}
        return sorted(
            self.found,
            key=lambda f: (f.section != "DEFAULT", f.section, f.option, order[f.finding]),
        )

    def one(self, key: Key, where: Key, setting: conffile.Setting) -> None:
        target = self.target
        if key in target.options:
            info = target.options[key]
            if info.get("deprecated_for_removal"):
                self.add(
                    where,
                    "deprecated",
                    deprecation(info),
                    self.since(
                        lambda o: bool(o.options.get(key, {}).get("deprecated_for_removal"))
                    ),
                )
            self.check_value(key, where, info, setting)
            return
        if key in target.aliases:
            new = target.aliases[key]
            detail = f"now [{new[0]}] {new[1]}"
            if new in self.settings:
                detail += " (also set; this old name is ignored)"
            self.add(where, "renamed", detail, self.since(lambda o: o.aliases.get(key) == new))
            if new not in self.settings:
                self.check_value(new, where, target.options[new], setting)
            return
        last, gone = self.after_last(lambda o: o.knows(key))
        if last is not None:
            self.add(where, "removed", removal(last, key, target), gone)
            return
        later = [o for o in self.all[len(self.upto) :] if o.knows(key)]
        if later:
            first = later[0].release.series
            self.add(where, "unknown", f"not in {target.release.series}; first in {first}", first)
            return
        self.add(where, "unknown", self.closest(key), target.release.series)

    def policy(self, rules: dict[str, str]) -> None:
        """A policy file's rule names: renamed, removed, unknown, deprecated."""
        # Rules the file itself refers to ("rule:admin_or_owner") are its own aliases.
        aliases = {
            ref for text in rules.values() for ref in _RULE_REFERENCE.findall(str(text or ""))
        }
        target = self.target
        for name in sorted(rules):
            key = ("policy", name)
            if name in target.policies:
                info = target.policies[name]
                if info.get("deprecated_for_removal"):
                    since = info.get("deprecated_since")
                    detail = f"since {since}" if since else "for removal"
                    self.add(key, "deprecated", detail, self.since(deprecates_policy(name)))
            elif name in target.old_policies:
                new = target.old_policies[name]
                self.add(
                    key,
                    "renamed",
                    f"now {new}",
                    self.since(renames_policy(name, new)),
                )
            elif name in aliases:
                continue
            else:
                last, gone = self.after_last(has_policy(name))
                if last is not None:
                    self.add(key, "removed", f"last in {last.release.series}", gone)
                else:
                    match = difflib.get_close_matches(name, sorted(target.policies), n=1)
                    hint = f"closest {match[0]}" if match else "no close match"
                    self.add(
                        key,
                        "unknown",
                        f"no such policy in any release {self.span}; {hint}",
                        target.release.series,
                    )

    def check_value(
        self, key: Key, where: Key, info: dict[str, Any], setting: conffile.Setting
    ) -> None:
        values = setting.values if info.get("type") == "multi" else [setting.value]
        for value in values:
            if "$" in value:
                continue  # interpolated from another option: its value is checked there
            problem = invalid(info, value)
            if problem is None:
                continue
            last, gone = self.after_last(has_choice(key, value))
            if last is not None and "choices" in info:
                detail = f"{value}: a choice last in {last.release.series}"
                self.add(where, "value-removed", detail, gone)
            else:
                self.add(where, "invalid", problem, self.target.release.series)
            return
        self.check_items(key, where, info, setting)

    def check_items(
        self, key: Key, where: Key, info: dict[str, Any], setting: conffile.Setting
    ) -> None:
        """Values whose existence the code decides: filters, weighers, drivers."""
        target = self.target.values.get(key)
        if target is None:
            return
        custom = self.custom_classes(key)
        items = items_of(setting.value) if info.get("type") == "list" else [setting.value.strip()]
        dotted = any("." in name for name in target)
        for item in items:
            if not item or item in target:
                continue
            last, gone = self.after_last(has_value(key, item))
            old = self.history.get(key, {}).get(item)
            if last is not None:
                self.add(where, "value-removed", f"{item}: last in {last.release.series}", gone)
            elif old is not None:
                self.add(where, "value-removed", f"{item}: last in {old}", next_series(old))
            elif custom or ("." in item and not dotted) or ":" in item:
                continue  # the operator's own class, loaded by path
            else:
                match = difflib.get_close_matches(item, sorted(target), n=1)
                hint = f"; closest {match[0]}" if match else ""
                self.add(
                    where,
                    "invalid",
                    f"{item}: in no release {self.span}{hint}",
                    self.target.release.series,
                )

    def custom_classes(self, key: Key) -> bool:
        """Whether the files load classes of their own here (nova's available_filters)."""
        if key != ("filter_scheduler", "enabled_filters"):
            return False
        setting = self.settings.get(("filter_scheduler", "available_filters"))
        return setting is not None and any(
            v.strip() != "nova.scheduler.filters.all_filters" for v in setting.values
        )

    def defaults(self) -> None:
        """Options the files leave alone whose default differs between --from and --to."""
        if self.start is self.target:
            return
        given = set(self.settings)
        for key, info in self.target.options.items():
            old_names = {alias for alias, new in self.target.aliases.items() if new == key}
            if key in given or old_names & given or info.get("driver"):
                continue
            before = self.start.options.get(key)
            if before is None:
                continue
            old, new = before.get("default"), info.get("default")
            if same_value(old, new):
                continue
            span = self.upto[self.upto.index(self.start) :]
            changed = next(
                o.release.series
                for o in span
                if key in o.options and not same_value(o.options[key].get("default"), old)
            )
            shown = "(secret)" if info.get("secret") else change(old, new)
            self.add(key, "default-changed", shown, changed)


def audit(
    service: str, paths: Iterable[str], start: str | None = None, target: str | None = None
) -> tuple[list[Finding], Release, Release]:
    """Audit one service's configuration files.

    :param service: a service with data (``osops_upgrade.data.services()``)
    :param paths: files and ``.conf.d`` directories, read in oslo.config's order;
        ``.yaml`` and ``.json`` files are policy files, whose rule names are audited
    :param start: the release the files were written for; default the oldest known
    :param target: the release to upgrade to; default the newest known
    :returns: the findings, and the releases compared
    :raises UsageError: unknown service or release, unreadable file
    """
    known = data.releases(service)
    to = data.resolve(service, target, "--to") or known[-1]
    since = data.resolve(service, start, "--from") or known[0]
    paths = list(paths)
    policies = [p for p in paths if p.endswith(_POLICY_FILE)]
    settings = conffile.read([p for p in paths if not p.endswith(_POLICY_FILE)])
    auditor = Auditor(known, since, to, settings, data.history(service))
    for path in policies:
        auditor.policy(conffile.read_policy(path))
    return auditor.run(), since, to
