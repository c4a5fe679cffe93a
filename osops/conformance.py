"""Contract rules every installed plugin must pass, per kind (``osops plugin verify``)."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any

from osops.options import Argument

_PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def contract_class(kind_name: str) -> type:
    from osops.plugins import KINDS

    module, _, attr = KINDS[kind_name].contract.partition(":")
    cls: type = getattr(importlib.import_module(module), attr)
    return cls


def problems(kind_name: str, name: str, obj: Any) -> list[str]:
    """Every way a loaded plugin breaks its kind's contract; empty when it conforms."""
    found: list[str] = []
    if not _PLUGIN_NAME.match(name):
        found.append(f"name {name!r} is not short snake_case")
    contract = contract_class(kind_name)
    if not (isinstance(obj, type) and issubclass(obj, contract)):
        found.append(f"{_qualname(obj)} is not a subclass of {_qualname(contract)}")
        return found
    if inspect.isabstract(obj):
        missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
        found.append(f"{_qualname(obj)} does not implement {missing}")
    doc = inspect.getdoc(obj) if obj.__doc__ else None
    if not doc or not doc.strip():
        found.append(f"{_qualname(obj)} has no docstring (its first line is the summary)")
    rule = _RULES.get(kind_name)
    if rule is not None:
        found.extend(rule(obj))
    return found


def _qualname(obj: Any) -> str:
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    return repr(obj)


def _argument_problems(arguments: Iterable[Any], reserved: Iterable[str] = ()) -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    for arg in arguments:
        if not isinstance(arg, Argument):
            found.append(f"argument {arg!r} is not an osops.options.Argument")
            continue
        found.extend(arg.problems())
        if arg.name in seen:
            found.append(f"argument {arg.name!r} is declared twice")
        if arg.name in set(reserved):
            found.append(f"argument {arg.name!r} is reserved by the framework")
        seen.add(arg.name)
    return found


def _check_rules(cls: Any) -> list[str]:
    import nagiosplugin

    from osops.check.settings import RESERVED
    from osops.check.values import UNITS, Perf

    found = _argument_problems(cls.arguments, RESERVED)
    labels: set[str] = set()
    for perf in cls.perfdata:
        if not isinstance(perf, Perf):
            found.append(f"perfdata {perf!r} is not an osops.check.base.Perf")
            continue
        if perf.label in labels:
            found.append(f"perfdata label {perf.label!r} is declared twice")
        labels.add(perf.label)
        if not _PLUGIN_NAME.match(perf.label):
            found.append(f"perfdata label {perf.label!r} is not snake_case")
        if perf.uom not in UNITS:
            found.append(f"perfdata {perf.label!r} has unit {perf.uom!r}, not one Nagios knows")
        if not perf.help.strip():
            found.append(f"perfdata {perf.label!r} has no help text")
        for which in ("warning", "critical"):
            text = getattr(perf, which)
            if text is not None:
                try:
                    nagiosplugin.Range(text)
                except ValueError:
                    found.append(f"perfdata {perf.label!r} default {which} {text!r} is no range")
    if cls.primary is not None and cls.primary not in labels:
        found.append(f"primary metric {cls.primary!r} is not declared in perfdata")
    if not re.match(r"^[a-z0-9][a-z0-9-]*$", cls.service or ""):
        found.append(f"service {cls.service!r} is not a lower-case name")
    return found


def _filter_rules(cls: Any) -> list[str]:
    found = _argument_problems(cls.arguments)
    if cls.on_error not in ("drop", "keep"):
        found.append(f"on_error is {cls.on_error!r}, expected 'drop' or 'keep'")
    return found


def _exporter_rules(cls: Any) -> list[str]:
    found = _argument_problems(cls.arguments)
    if not re.match(r"^\.[a-z0-9.]+$", cls.suffix or ""):
        found.append(f"suffix {cls.suffix!r} is not a file suffix such as '.json'")
    return found


_RULES: dict[str, Callable[[Any], list[str]]] = {
    "check": _check_rules,
    "filter": _filter_rules,
    "sink": lambda cls: _argument_problems(cls.arguments),
    "exporter": _exporter_rules,
}


def duplicate_names(infos: Iterable[Any]) -> dict[tuple[str, str], set[str]]:
    """(kind, name) registered by more than one distribution, with those distributions."""
    owners: dict[tuple[str, str], set[str]] = {}
    for info in infos:
        owners.setdefault((info.entry.kind, info.entry.name), set()).add(info.entry.distribution)
    return {key: dists for key, dists in owners.items() if len(dists) > 1}
