"""The rules every plugin must pass, then its kind's own (``osops plugin verify``)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any

from osops.kinds import KINDS

#: Entry point names and perfdata labels: short snake_case, as users type them.
NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def contract_class(kind_name: str) -> type:
    """The contract class of a kind, imported."""
    return KINDS[kind_name].contract_class()


def problems(kind_name: str, name: str, obj: Any) -> list[str]:
    """Every way a loaded plugin breaks its kind's contract; empty when it conforms.

    The common rules (name, subclass, abstract methods, docstring), then the
    kind's own (:attr:`osops.kinds.Kind.rules`) on a class that passed them.
    """
    found: list[str] = []
    if not NAME.match(name):
        found.append(f"name {name!r} is not short snake_case")
    contract = contract_class(kind_name)
    if not (isinstance(obj, type) and issubclass(obj, contract)):
        found.append(f"{qualname(obj)} is not a subclass of {qualname(contract)}")
        return found
    if inspect.isabstract(obj):
        missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
        found.append(f"{qualname(obj)} does not implement {missing}")
    doc = inspect.getdoc(obj) if obj.__doc__ else None
    if not doc or not doc.strip():
        found.append(f"{qualname(obj)} has no docstring (its first line is the summary)")
    rules = KINDS[kind_name].rules_function()
    if rules is not None:
        found.extend(rules(obj))
    return found


def qualname(obj: Any) -> str:
    """A class as ``module.Class``; anything else as its repr."""
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    return repr(obj)


def duplicate_names(infos: Iterable[Any]) -> dict[tuple[str, str], set[str]]:
    """(kind, name) registered by more than one distribution, with those distributions."""
    owners: dict[tuple[str, str], set[str]] = {}
    for info in infos:
        owners.setdefault((info.entry.kind, info.entry.name), set()).add(info.entry.distribution)
    return {key: dists for key, dists in owners.items() if len(dists) > 1}
