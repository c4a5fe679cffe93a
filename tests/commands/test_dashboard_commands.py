"""``osops dashboard export|validate`` as cliff runs them, with an exporter a test injects."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import stevedore
from helpers import ROOT
from stevedore.extension import Extension

from osops.commands.dashboard import ExportDashboard, ValidateDashboard
from osops.dashboard.base import Exporter
from osops.dashboard.model import Dashboard
from osops.exceptions import PluginNotFound


class Titles(Exporter):
    """The panel titles, one a line."""

    suffix = ".txt"
    media_type = "text/plain"

    def export(self, dashboard: Dashboard) -> str:
        return "".join(f"{panel.title}\n" for panel in dashboard.panels)


class App:
    """What a command needs of cliff's App: somewhere to write."""

    def __init__(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()


def export(*argv: str) -> tuple[int, App]:
    app = App()
    cmd = ExportDashboard(app, None)
    extensions = [Extension("titles", None, Titles, None)]
    manager = stevedore.ExtensionManager.make_test_instance(
        extensions, namespace="osops.dashboard.exporter"
    )
    cmd.managers = {"exporter": manager}
    args = cmd.get_parser("osops dashboard export").parse_args(
        ["--dir", str(ROOT / "dashboards"), *argv]
    )
    return cmd.take_action(args), app


def test_export_writes_the_injected_exporters_document_to_stdout() -> None:
    status, app = export("galera", "--to", "titles")
    assert status == 0
    assert app.stdout.getvalue().splitlines()[0]


def test_export_writes_to_a_file_and_nothing_to_stdout(tmp_path: Path) -> None:
    out = tmp_path / "galera.txt"
    status, app = export("galera", "--to", "titles", "-o", str(out))
    assert status == 0
    assert app.stdout.getvalue() == ""
    assert out.read_text() == export("galera", "--to", "titles")[1].stdout.getvalue()


def test_export_to_an_exporter_not_injected_names_the_ones_there() -> None:
    with pytest.raises(PluginNotFound, match="titles"):
        export("galera", "--to", "grafana")


def test_validate_sets_its_exit_status_from_the_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\n")
    for paths, status in (([str(ROOT / "dashboards/galera.yaml")], 0), ([str(bad)], 1)):
        app: Any = App()
        cmd = ValidateDashboard(app, None)
        columns, rows = cmd.take_action(
            cmd.get_parser("osops dashboard validate").parse_args(paths)
        )
        assert columns == ("Problem",)
        assert cmd.status == status
        assert bool(rows) == bool(status)
