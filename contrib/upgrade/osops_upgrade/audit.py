"""The configuration audit: what a set of oslo.config files meets in a later release."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any

from osops.exceptions import UsageError
from osops_upgrade import conffile, data
from osops_upgrade.data import Release

#: Every kind of finding, in the order a report lists them.
FINDINGS = (
    "removed",
    "unknown",
    "value-removed",
    "invalid",
    "renamed",
    "deprecated",
    "default-changed",
)
#: Findings that make the audit fail (exit 1, CRITICAL); the rest are advice.
FAILING = frozenset({"removed", "unknown", "value-removed", "invalid"})
COLUMNS = ("section", "option", "finding", "detail", "release")

Key = tuple[str, str]
_RULE_REFERENCE = re.compile(r"\brule:([\w:.-]+)")
_POLICY_FILE = (".yaml", ".yml", ".json")


class Finding:
    """One row of the audit."""

    __slots__ = COLUMNS

    def __init__(self, section: str, option: str, finding: str, detail: str, release: str) -> None:
        self.section = section
        self.option = option
        self.finding = finding
        self.detail = detail
        self.release = release

    def row(self) -> tuple[str, str, str, str, str]:
        return (self.section, self.option, self.finding, self.detail, self.release)

    def __repr__(self) -> str:
        return f"Finding{self.row()!r}"


def group_name(group: str) -> str:
    """Section names as oslo.config looks them up: DEFAULT as is, the rest lower case."""
    return group if group == "DEFAULT" else group.lower()


class Options:
    """One release's options, looked up by (section, option), old names included."""

    def __init__(self, release: Release) -> None:
        self.release = release
        document = release.document
        self.options: dict[Key, dict[str, Any]] = {}
        self.aliases: dict[Key, Key] = {}
        for group, options in document["options"].items():
            for name, info in options.items():
                key = (group_name(group), name)
                self.options[key] = info
                for old_group, old_name in info.get("deprecated_opts", ()):
                    old = (group_name(old_group or group), old_name or name)
                    self.aliases.setdefault(old, key)
        for key in self.options:
            self.aliases.pop(key, None)  # a real option wins over an old name of another
        self.policies: dict[str, dict[str, Any]] = document.get("policies", {})
        # An old rule name -> the rules that replace it (cinder split some in several).
        self.old_policies: dict[str, str] = {}
        for name, info in sorted(self.policies.items()):
            old = info.get("deprecated_rule")
            if old and old not in self.policies:
                found = self.old_policies.get(old)
                self.old_policies[old] = f"{found}, {name}" if found else name
        self.values: dict[Key, set[str]] = {
            (group_name(group), name): set(items)
            for group, options in document.get("values", {}).items()
            for name, items in options.items()
        }
        self.sections = {key[0] for key in self.options}

    def knows(self, key: Key) -> bool:
        return key in self.options or key in self.aliases


class Auditor:
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
        series = [r.series for r in known]
        #: Values gone before the oldest known release, with the last series that had them.
        self.history = history or {}
        if series.index(start.series) > series.index(target.series):
            raise UsageError(f"--from {start.series} is newer than --to {target.series}")
        self.all = [Options(r) for r in known]
        self.upto = self.all[: series.index(target.series) + 1]
        self.start = self.all[series.index(start.series)]
        self.target = self.upto[-1]
        self.settings = settings
        self.found: list[Finding] = []
        #: The releases the data knows, for "in no release 2025.1 to 2026.2".
        self.span = f"{known[0].series} to {known[-1].series}"

    # -- helpers -----------------------------------------------------------------

    def add(self, key: Key, finding: str, detail: str, release: str) -> None:
        self.found.append(Finding(key[0], key[1], finding, detail, release))

    def since(self, holds: Callable[[Options], bool]) -> str:
        """The oldest release from which ``holds`` is true through the target."""
        found = self.target.release.series
        for options in reversed(self.upto):
            if not holds(options):
                break
            found = options.release.series
        return found

    def after_last(self, holds: Callable[[Options], bool]) -> tuple[Options | None, str]:
        """The last release up to the target where ``holds``, and the release after it."""
        last = None
        for index, options in enumerate(self.upto):
            if holds(options):
                last = index
        if last is None:
            return None, self.target.release.series
        return self.upto[last], self.upto[min(last + 1, len(self.upto) - 1)].release.series

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
                    _deprecation(info),
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
            self.add(where, "removed", _removal(last, key, target), gone)
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
                    self.add(key, "deprecated", detail, self.since(_deprecates_policy(name)))
            elif name in target.old_policies:
                new = target.old_policies[name]
                self.add(
                    key,
                    "renamed",
                    f"now {new}",
                    self.since(_renames_policy(name, new)),
                )
            elif name in aliases:
                continue
            else:
                last, gone = self.after_last(_has_policy(name))
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

    def closest(self, key: Key) -> str:
        section, option = key
        names = {k for o in self.all for k in o.options}
        if not any(section == k[0] for k in names):
            sections = sorted({k[0] for k in names})
            match = difflib.get_close_matches(section, sections, n=1)
            where = f"no section [{section}] in any release {self.span}"
            return f"{where}; closest [{match[0]}]" if match else where
        same = sorted({k[1] for k in names if k[0] == section})
        match = difflib.get_close_matches(option, same, n=1)
        if match:
            return f"in no release {self.span}; closest [{section}] {match[0]}"
        everywhere = {f"[{k[0]}] {k[1]}": k[1] for k in names}
        match = difflib.get_close_matches(option, list(everywhere.values()), n=1)
        if match:
            places = sorted(name for name, opt in everywhere.items() if opt == match[0])
            return f"in no release {self.span}; closest {places[0]}"
        return f"in no release {self.span}; no close match"

    def check_value(
        self, key: Key, where: Key, info: dict[str, Any], setting: conffile.Setting
    ) -> None:
        values = setting.values if info.get("type") == "multi" else [setting.value]
        for value in values:
            if "$" in value:
                continue  # interpolated from another option: its value is checked there
            problem = _invalid(info, value)
            if problem is None:
                continue
            last, gone = self.after_last(_has_choice(key, value))
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
        items = _items(setting.value) if info.get("type") == "list" else [setting.value.strip()]
        dotted = any("." in name for name in target)
        for item in items:
            if not item or item in target:
                continue
            last, gone = self.after_last(_has_value(key, item))
            old = self.history.get(key, {}).get(item)
            if last is not None:
                self.add(where, "value-removed", f"{item}: last in {last.release.series}", gone)
            elif old is not None:
                self.add(where, "value-removed", f"{item}: last in {old}", _next_series(old))
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
            if _same(old, new):
                continue
            span = self.upto[self.upto.index(self.start) :]
            changed = next(
                o.release.series
                for o in span
                if key in o.options and not _same(o.options[key].get("default"), old)
            )
            shown = "(secret)" if info.get("secret") else _change(old, new)
            self.add(key, "default-changed", shown, changed)


def _has_choice(key: Key, value: str) -> Callable[[Options], bool]:
    return lambda o: value in o.options.get(key, {}).get("choices", ())


def _has_value(key: Key, item: str) -> Callable[[Options], bool]:
    return lambda o: item in o.values.get(key, ())


def _deprecates_policy(name: str) -> Callable[[Options], bool]:
    return lambda o: bool(o.policies.get(name, {}).get("deprecated_for_removal"))


def _has_policy(name: str) -> Callable[[Options], bool]:
    return lambda o: name in o.policies


def _renames_policy(old: str, new: str) -> Callable[[Options], bool]:
    return lambda o: o.old_policies.get(old) == new


def _same(a: Any, b: Any) -> bool:
    return bool(_norm(a) == _norm(b))


def _norm(value: Any) -> Any:
    # The generator writes a list default as a list, or as its text where a
    # sample_default stands in; compare what a service would read.
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and "," in value:
        return [v.strip() for v in value.split(",")]
    return value


def _change(old: Any, new: Any) -> str:
    """A changed default: both values, or for lists what went and what came."""
    before, after = _norm(old), _norm(new)
    if isinstance(before, list) and isinstance(after, list) and len(before) + len(after) > 6:
        gone = [v for v in before if v not in after]
        came = [v for v in after if v not in before]
        parts = [f"-{v}" for v in gone] + [f"+{v}" for v in came]
        return " ".join(parts) if parts else "reordered"
    return f"{_show(old)} -> {_show(new)}"


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "(empty)"
    text = str(value)
    return text if text else "(empty)"


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _deprecation(info: dict[str, Any]) -> str:
    since = info.get("deprecated_since")
    reason = info.get("deprecated_reason") or "no reason given"
    return f"since {since}: {reason}" if since else f"deprecated for removal: {reason}"


def _removal(last: Options, key: Key, target: Options) -> str:
    detail = f"last in {last.release.series}"
    new = last.aliases.get(key)
    if new is not None:
        # An old name of an option that is itself gone or renamed again.
        if new in target.options:
            return f"{detail}; replacement [{new[0]}] {new[1]}"
        moved = target.aliases.get(new)
        if moved is not None:
            return f"{detail}; replacement [{moved[0]}] {moved[1]}"
        return f"{detail} as an old name of [{new[0]}] {new[1]}, removed too"
    info = last.options.get(key, {})
    if info.get("deprecated_for_removal"):
        return f"{detail}; {_deprecation(info)}"
    return detail


def _invalid(info: dict[str, Any], value: str) -> str | None:
    """Why the value does not fit the option's type or choices, or None."""
    from oslo_config import types

    kind = info.get("type")
    choices = info.get("choices") or None
    low, high = info.get("min"), info.get("max")
    checker: Any
    if kind == "integer":
        checker = types.Integer(min=low, max=high, choices=choices)
    elif kind == "float":
        checker = types.Float(min=low, max=high)
    elif kind == "port":
        checker = types.Port(min=low, max=high, choices=choices)
    elif kind == "boolean":
        checker = types.Boolean()
    elif kind == "string":
        checker = types.String(choices=choices)
    elif kind == "uri":
        checker = types.URI()
    elif kind == "ip":
        checker = types.IPAddress()
    elif kind == "host":
        checker = types.HostAddress()
    elif kind == "hostdomain":
        checker = types.HostDomain()
    elif kind == "dict":
        checker = types.Dict()
    else:
        return None
    try:
        checker(value)
    except (ValueError, TypeError) as exc:
        if info.get("secret"):
            return f"not a valid {kind} value (secret, not shown)"
        return f"{value}: {exc}"
    return None


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
        auditor.policy(_policy_rules(path))
    return auditor.run(), since, to


def _next_series(series: str) -> str:
    """The series after ``series``: 2020.1 -> 2020.2, 2020.2 -> 2021.1."""
    year, half = (int(n) for n in series.split("."))
    return f"{year}.2" if half == 1 else f"{year + 1}.1"


def _policy_rules(path: str) -> dict[str, str]:
    import yaml

    try:
        with open(path) as fh:
            rules = yaml.safe_load(fh)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not a policy file ({str(exc).splitlines()[0]})") from None
    if rules is None:
        return {}
    if not isinstance(rules, dict):
        raise UsageError(f"{path}: not a policy file (expected rule names and check strings)")
    return {str(k): v for k, v in rules.items()}
