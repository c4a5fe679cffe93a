"""The kibana exporter: saved objects (NDJSON) for Kibana and OpenSearch Dashboards."""

from __future__ import annotations

import json
from typing import Any

from osops.dashboard.base import Exporter
from osops.dashboard.model import Dashboard, Panel
from osops.exceptions import DashboardError
from osops.options import Argument

_VIS_TYPE = {"timeseries": "line", "stat": "metric", "table": "table"}


class Kibana(Exporter):
    """Kibana / OpenSearch Dashboards saved objects: index pattern, visualizations, dashboard.

    Only log panels are exported; metric panels belong to Grafana.
    """

    suffix = ".ndjson"
    media_type = "application/x-ndjson"
    arguments = (Argument("index", "Index pattern the panels query.", default="osops-logs*"),)

    def export(self, dashboard: Dashboard) -> str:
        panels = [p for p in dashboard.panels if p.source == "logs"]
        if not panels:
            raise DashboardError(f"dashboard {dashboard.name!r} has no log panels for Kibana")
        pattern_id = "osops-logs"
        objects: list[dict[str, Any]] = [
            {
                "type": "index-pattern",
                "id": pattern_id,
                "attributes": {"title": self.options["index"], "timeFieldName": "@timestamp"},
                "references": [],
            }
        ]
        layout, references = [], []
        for number, panel in enumerate(panels):
            object_id = f"osops-{dashboard.name}-{number + 1}"
            objects.append(self._object(panel, object_id, pattern_id))
            kind = "search" if panel.type == "logs" else "visualization"
            references.append({"name": f"panel_{number}", "type": kind, "id": object_id})
            layout.append(
                {
                    "panelIndex": str(number + 1),
                    "panelRefName": f"panel_{number}",
                    "embeddableConfig": {},
                    "version": "7.10.0",
                    "gridData": {
                        "x": 24 * (number % 2),
                        "y": 15 * (number // 2),
                        "w": 24,
                        "h": 15,
                        "i": str(number + 1),
                    },
                }
            )
        objects.append(
            {
                "type": "dashboard",
                "id": f"osops-{dashboard.name}",
                "attributes": {
                    "title": dashboard.title,
                    "description": dashboard.description,
                    "panelsJSON": json.dumps(layout),
                    "optionsJSON": json.dumps({"useMargins": True}),
                    "timeRestore": False,
                    "version": 1,
                    "kibanaSavedObjectMeta": {
                        "searchSourceJSON": json.dumps(
                            {"query": {"query": "", "language": "kuery"}, "filter": []}
                        )
                    },
                },
                "references": references,
            }
        )
        return "".join(json.dumps(obj, sort_keys=True) + "\n" for obj in objects)

    def _object(self, panel: Panel, object_id: str, pattern_id: str) -> dict[str, Any]:
        source = {
            "query": {"query": panel.query, "language": "lucene"},
            "filter": [],
            "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
        }
        references = [
            {
                "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
                "type": "index-pattern",
                "id": pattern_id,
            }
        ]
        meta = {"searchSourceJSON": json.dumps(source)}
        if panel.type == "logs":
            return {
                "type": "search",
                "id": object_id,
                "references": references,
                "attributes": {
                    "title": panel.title,
                    "description": panel.description,
                    "columns": list(panel.fields) or ["message"],
                    "sort": [["@timestamp", "desc"]],
                    "kibanaSavedObjectMeta": meta,
                },
            }
        aggs: list[dict[str, Any]] = [
            {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}}
        ]
        if panel.type == "timeseries":
            aggs.append(
                {
                    "id": "2",
                    "enabled": True,
                    "type": "date_histogram",
                    "schema": "segment",
                    "params": {"field": "@timestamp", "interval": "auto"},
                }
            )
        for number, field in enumerate(panel.group_by or panel.fields[:1], 3):
            aggs.append(
                {
                    "id": str(number),
                    "enabled": True,
                    "type": "terms",
                    "schema": "group" if panel.type == "timeseries" else "bucket",
                    "params": {"field": field, "size": 10, "order": "desc", "orderBy": "1"},
                }
            )
        state = {"title": panel.title, "type": _VIS_TYPE[panel.type], "params": {}, "aggs": aggs}
        return {
            "type": "visualization",
            "id": object_id,
            "references": references,
            "attributes": {
                "title": panel.title,
                "description": panel.description,
                "visState": json.dumps(state),
                "uiStateJSON": "{}",
                "version": 1,
                "kibanaSavedObjectMeta": meta,
            },
        }


def fields_named(ndjson: str) -> set[str]:
    """Every log field the exported objects query, group by or show."""
    import re

    names: set[str] = set()
    for line in ndjson.splitlines():
        obj = json.loads(line)
        attributes = obj["attributes"]
        names |= set(attributes.get("columns", []))
        if "visState" in attributes:
            for agg in json.loads(attributes["visState"])["aggs"]:
                if "field" in agg["params"]:
                    names.add(agg["params"]["field"])
        source = attributes.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
        if source:
            query = json.loads(source)["query"]["query"]
            names |= set(re.findall(r"([@a-z_][a-z0-9_.]*)\s*(?::|>=)", query))
        if obj["type"] == "index-pattern":
            names.add(attributes["timeFieldName"])
    return names
