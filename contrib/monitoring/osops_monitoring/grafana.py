"""The grafana exporter: dashboard JSON built with grafana-foundation-sdk."""

from __future__ import annotations

import re
from typing import Any

from osops.dashboard.base import Exporter
from osops.dashboard.model import Dashboard, Panel
from osops.options import Argument

_LOGS_TYPES = {"elasticsearch": "elasticsearch", "opensearch": "grafana-opensearch-datasource"}


class Grafana(Exporter):
    """Grafana dashboard JSON; Prometheus and the log store are datasource variables."""

    suffix = ".json"
    media_type = "application/json"
    arguments = (
        Argument(
            "logs-datasource",
            "Log store plugin: elasticsearch or opensearch.",
            default="elasticsearch",
            choices=tuple(_LOGS_TYPES),
        ),
        Argument("index", "Index the log panels query.", default="osops-logs"),
    )

    def export(self, dashboard: Dashboard) -> str:
        from grafana_foundation_sdk.builders import dashboard as gd
        from grafana_foundation_sdk.cog.encoder import JSONEncoder
        from grafana_foundation_sdk.models.dashboard import DataSourceRef

        logs_type = _LOGS_TYPES[self.options["logs_datasource"]]
        prometheus = DataSourceRef(type_val="prometheus", uid="${prometheus}")
        logs = DataSourceRef(type_val=logs_type, uid="${logs}")
        board = (
            gd.Dashboard(dashboard.title)
            .uid(f"osops-{dashboard.name}")
            .description(dashboard.description)
            .tags(["osops", "openstack"])
            .time("now-6h", "now")
            .refresh("1m")
            .with_variable(gd.DatasourceVariable("prometheus").label("Metrics").type("prometheus"))
            .with_variable(gd.DatasourceVariable("logs").label("Logs").type(logs_type))
        )
        for variable in dashboard.variables:
            query = gd.QueryVariable(variable.name).label(variable.label or variable.name)
            if variable.source == "metrics":
                board = board.with_variable(query.datasource(prometheus).query(variable.query))
            else:
                terms = f'{{"find": "terms", "field": "{variable.query}"}}'
                board = board.with_variable(query.datasource(logs).query(terms))
        for row in dashboard.rows:
            board = board.with_row(gd.Row(row.title))
            for panel in row.panels:
                board = board.with_panel(self._panel(panel, prometheus, logs))
        return str(JSONEncoder(sort_keys=True, indent=2).encode(board.build())) + "\n"

    def _panel(self, panel: Panel, prometheus: Any, logs: Any) -> Any:
        from grafana_foundation_sdk.builders import elasticsearch, stat, table, timeseries
        from grafana_foundation_sdk.builders import logs as glogs
        from grafana_foundation_sdk.builders import prometheus as gp

        kinds: dict[str, Any] = {
            "timeseries": timeseries.Panel,
            "stat": stat.Panel,
            "table": table.Panel,
            "logs": glogs.Panel,
        }
        builder: Any = kinds[panel.type]().title(panel.title).description(panel.description)
        if panel.unit and panel.type in ("timeseries", "stat"):
            builder = builder.unit(panel.unit)
        if panel.source == "metrics":
            legend = "".join(f"{{{{{label}}}}} " for label in panel.group_by).strip()
            metric = gp.Dataquery().expr(panel.query).ref_id("A")
            if legend:
                metric = metric.legend_format(legend)
            return builder.datasource(prometheus).with_target(metric)
        search = (
            elasticsearch.Dataquery()
            .ref_id("A")
            .query(panel.query)
            .time_field("@timestamp")
            .datasource(logs)
        )
        if panel.type == "timeseries":
            aggregations: list[Any] = [
                elasticsearch.Terms().id(str(n)).field(field)
                for n, field in enumerate(panel.group_by, 2)
            ]
            aggregations.append(elasticsearch.DateHistogram().id("9").field("@timestamp"))
            search = search.metrics([elasticsearch.Count().id("1")]).bucket_aggs(aggregations)
        else:
            # Tables and log panels show the matching documents themselves.
            search = search.metrics([elasticsearch.Logs().id("1")])
        return builder.datasource(logs).with_target(search)


def promql(exported: str) -> list[str]:
    """Every Prometheus expression in an exported dashboard (for checks and tests)."""
    return re.findall(r'"expr": "((?:[^"\\]|\\.)*)"', exported)
