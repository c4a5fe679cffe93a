"""The rules a check must pass beyond every plugin's (``osops plugin verify``)."""

from __future__ import annotations

import re
from typing import Any

from osops.check.settings import RESERVED
from osops.check.values import Perf
from osops.options import problems_of

_SERVICE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def problems(cls: Any) -> list[str]:
    """How a check class breaks the check contract's declarations; empty when it conforms."""
    found = problems_of(cls.arguments, RESERVED)
    for arg in cls.arguments:
        if getattr(arg, "short", None) is not None:
            found.append(f"argument {arg.name!r} has a short form: those are the framework's")
    labels: set[str] = set()
    for perf in cls.perfdata:
        if not isinstance(perf, Perf):
            found.append(f"perfdata {perf!r} is not an osops.check.base.Perf")
            continue
        if perf.label in labels:
            found.append(f"perfdata label {perf.label!r} is declared twice")
        labels.add(perf.label)
        found.extend(perf.problems())
    if cls.primary is not None and cls.primary not in labels:
        found.append(f"primary metric {cls.primary!r} is not declared in perfdata")
    if not _SERVICE.match(cls.service or ""):
        found.append(f"service {cls.service!r} is not a lower-case name")
    if cls.runs_on not in ("anywhere", "host"):
        found.append(f"runs_on is {cls.runs_on!r}, expected 'anywhere' or 'host'")
    return found
