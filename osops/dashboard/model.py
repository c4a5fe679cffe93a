"""The tool-neutral dashboard definition: variables, rows and panels."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from osops.exceptions import DashboardError

PANEL_TYPES = ("timeseries", "stat", "table", "logs")
SOURCES = ("metrics", "logs")


@dataclasses.dataclass(frozen=True)
class Variable:
    """A dashboard-wide selector such as cloud, region, host or service."""

    name: str
    label: str = ""
    source: str = "metrics"
    query: str = ""


@dataclasses.dataclass(frozen=True)
class Panel:
    """One visualisation over check metrics (PromQL) or log records (ECS fields)."""

    title: str
    type: str
    source: str
    query: str
    unit: str = ""
    description: str = ""
    group_by: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Row:
    """A titled row of panels."""

    title: str
    panels: tuple[Panel, ...]


@dataclasses.dataclass(frozen=True)
class Dashboard:
    """One dashboard as defined under ``dashboards/``, independent of any tool."""

    name: str
    title: str
    description: str = ""
    variables: tuple[Variable, ...] = ()
    rows: tuple[Row, ...] = ()

    @property
    def panels(self) -> tuple[Panel, ...]:
        return tuple(panel for row in self.rows for panel in row.panels)

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Dashboard:
        """Build from an already schema-validated mapping.

        :raises DashboardError: a field has the wrong shape
        """
        try:
            return cls(
                name=name,
                title=data["title"],
                description=data.get("description", ""),
                variables=tuple(Variable(**v) for v in data.get("variables", ())),
                rows=tuple(
                    Row(
                        title=row["title"],
                        panels=tuple(
                            Panel(
                                **{
                                    **panel,
                                    "group_by": tuple(panel.get("group_by", ())),
                                    "fields": tuple(panel.get("fields", ())),
                                }
                            )
                            for panel in row.get("panels", ())
                        ),
                    )
                    for row in data.get("rows", ())
                ),
            )
        except (KeyError, TypeError) as exc:
            raise DashboardError(f"dashboard {name!r}: {exc}") from None
