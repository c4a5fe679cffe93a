"""Dashboard definitions: the shipped ones validate, broken ones are named by file, line, field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from helpers import FIXTURES, ROOT, run_osops

from osops import inventory
from osops.check.output import prometheus_name
from osops.dashboard import definitions
from osops.log.record import FIELDS

SHIPPED = sorted((ROOT / "dashboards").glob("*.yaml"))
BROKEN = FIXTURES / "dashboards" / "broken"
EXPECTED = yaml.safe_load((BROKEN / "EXPECTED.yaml").read_text())


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_definition_validates(path: Path) -> None:
    assert definitions.problems(str(path)) == []
    assert definitions.load(str(path)).panels


def test_the_four_dashboards_ship() -> None:
    assert {p.stem for p in SHIPPED} >= {"openstack-overview", "rabbitmq", "galera", "logs"}


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=str)
def test_broken_definition_is_named(name: str) -> None:
    path = BROKEN / name
    assert definitions.problems(str(path)) == [f"{path}:{EXPECTED[name]}"]


def test_validate_command_exit_codes() -> None:
    ok = run_osops("dashboard", "validate", *map(str, SHIPPED))
    assert ok.returncode == 0 and "4 definitions valid" in ok.stderr
    bad = run_osops(
        "dashboard", "validate", *map(str, sorted(BROKEN.glob("*-*.yaml"))), "-f", "value"
    )
    assert bad.returncode == 1
    assert len(bad.stdout.splitlines()) == len(EXPECTED)


def test_installed_with_osops() -> None:
    listed = run_osops("dashboard", "list", "-f", "value", "-c", "Name", "-c", "Status")
    assert listed.returncode == 0
    assert set(listed.stdout.split()) >= {"openstack-overview", "rabbitmq", "galera", "logs", "ok"}


def _emittable_metrics() -> set[str]:
    names = {"osops_check_state", "osops_check_duration_seconds"}
    for info in inventory.inspect(["check"]):
        for perf in info.obj.perfdata:
            names.add(prometheus_name(info.entry.name, perf.label, perf.uom))
    return names


def test_metric_queries_name_only_series_the_checks_emit() -> None:
    emittable = _emittable_metrics()
    for path in SHIPPED:
        for panel in definitions.load(str(path)).panels:
            if panel.source == "metrics":
                used = set(re.findall(r"\bosops_[a-z0-9_]+", panel.query))
                assert used and used <= emittable, (path.name, panel.title, used - emittable)


def test_log_panels_name_only_fields_the_pipeline_emits() -> None:
    emitted = set(FIELDS.values()) | {"tags", "labels"}
    for path in SHIPPED:
        board = definitions.load(str(path))
        for panel in board.panels:
            if panel.source == "logs":
                names = set(panel.fields) | set(panel.group_by)
                names |= set(re.findall(r"([@a-z_][a-z0-9_.]*):", panel.query))
                names |= set(re.findall(r"([a-z_][a-z0-9_.]*) >=", panel.query))
                assert names <= emitted, (path.name, panel.title, names - emitted)
        for variable in board.variables:
            if variable.source == "logs":
                assert variable.query in emitted
