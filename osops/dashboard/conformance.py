"""The rules a dashboard exporter must pass beyond every plugin's."""

from __future__ import annotations

import re
from typing import Any

from osops.options import problems_of

_SUFFIX = re.compile(r"^\.[a-z0-9.]+$")


def problems(cls: Any) -> list[str]:
    """How an exporter class breaks its contract's declarations; empty when it conforms."""
    found = problems_of(cls.arguments)
    if not _SUFFIX.match(cls.suffix or ""):
        found.append(f"suffix {cls.suffix!r} is not a file suffix such as '.json'")
    return found
