"""The rules a log filter and a log sink must pass beyond every plugin's."""

from __future__ import annotations

from typing import Any

from osops.options import problems_of


def filter_problems(cls: Any) -> list[str]:
    """How a filter class breaks the filter contract's declarations; empty when it conforms."""
    found = problems_of(cls.arguments)
    if cls.on_error not in ("drop", "keep"):
        found.append(f"on_error is {cls.on_error!r}, expected 'drop' or 'keep'")
    order = cls.default_order
    if order is not None and (type(order) is not int or order < 0):
        found.append(f"default_order is {order!r}, expected None or an int of 0 or more")
    return found


def sink_problems(cls: Any) -> list[str]:
    """How a sink class breaks the sink contract's declarations; empty when it conforms."""
    return problems_of(cls.arguments)
