"""What the release data says: each release's options and policies, and what holds across them."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from osops.exceptions import UsageError
from osops_upgrade.data import Release

Key = tuple[str, str]


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


class Releases:
    """The releases one audit compares, and what holds from one of them to another.

    :param known: every release in the data, oldest first
    :param start: the release the files were written for (``--from``)
    :param target: the release to upgrade to (``--to``)
    :raises UsageError: ``start`` is newer than ``target``
    """

    def __init__(self, known: tuple[Release, ...], start: Release, target: Release) -> None:
        series = [r.series for r in known]
        if series.index(start.series) > series.index(target.series):
            raise UsageError(f"--from {start.series} is newer than --to {target.series}")
        self.all = [Options(r) for r in known]
        self.upto = self.all[: series.index(target.series) + 1]
        self.start = self.all[series.index(start.series)]
        self.target = self.upto[-1]
        #: The releases the data knows, for "in no release 2025.1 to 2026.2".
        self.span = f"{known[0].series} to {known[-1].series}"

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

    def closest(self, key: Key) -> str:
        """Where no release knows ``key``, the nearest name any release knows."""
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


def has_choice(key: Key, value: str) -> Callable[[Options], bool]:
    return lambda o: value in o.options.get(key, {}).get("choices", ())


def has_value(key: Key, item: str) -> Callable[[Options], bool]:
    return lambda o: item in o.values.get(key, ())


def deprecates_policy(name: str) -> Callable[[Options], bool]:
    return lambda o: bool(o.policies.get(name, {}).get("deprecated_for_removal"))


def has_policy(name: str) -> Callable[[Options], bool]:
    return lambda o: name in o.policies


def renames_policy(old: str, new: str) -> Callable[[Options], bool]:
    return lambda o: o.old_policies.get(old) == new


def same_value(a: Any, b: Any) -> bool:
    return bool(normalized(a) == normalized(b))


def normalized(value: Any) -> Any:
    # The generator writes a list default as a list, or as its text where a
    # sample_default stands in; compare what a service would read.
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and "," in value:
        return [v.strip() for v in value.split(",")]
    return value


def items_of(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def invalid(info: dict[str, Any], value: str) -> str | None:
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


def next_series(series: str) -> str:
    """The series after ``series``: 2020.1 -> 2020.2, 2020.2 -> 2021.1."""
    year, half = (int(n) for n in series.split("."))
    return f"{year}.2" if half == 1 else f"{year + 1}.1"
