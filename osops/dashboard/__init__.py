"""Dashboards: the tool-neutral model and the exporter contract."""
