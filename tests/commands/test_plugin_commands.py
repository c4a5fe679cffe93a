"""``osops plugin list|verify|doc`` as cliff runs them, over plugins a test injects."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import stevedore
from stevedore.extension import Extension

from osops.check.base import Check
from osops.check.dummy import Dummy
from osops.commands.plugin import DocPlugin, ListPlugin, VerifyPlugin


class NoDoc(Check):
    def probe(self) -> Any:
        return []


class App:
    """What a command needs of cliff's App: somewhere to write."""

    def __init__(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()


def checks(*classes: tuple[str, Any]) -> dict[str, stevedore.ExtensionManager[Any]]:
    extensions = [Extension(name, None, cls, None) for name, cls in classes]
    return {
        "check": stevedore.ExtensionManager.make_test_instance(extensions, namespace="osops.check")
    }


def command(cls: type[Any], *argv: str, **plugins: Any) -> tuple[Any, Any, App]:
    app = App()
    cmd = cls(app, None)
    cmd.managers = checks(*plugins.items())
    return cmd, cmd.get_parser("osops plugin").parse_args(["--kind", "check", *argv]), app


def test_list_shows_each_injected_plugin_and_its_status() -> None:
    cmd, args, _ = command(ListPlugin, dummy=Dummy, nodoc=NoDoc)
    columns, rows = cmd.take_action(args)
    assert columns == ("Kind", "Name", "Distribution", "Version", "Summary", "Status")
    by_name = {row[1]: row for row in rows}
    assert (
        by_name["dummy"][4]
        == "Return the given state and text, for testing notification paths and pipelines."
    )
    assert by_name["dummy"][5] == "ok"
    assert by_name["nodoc"][5].startswith("broken: test_plugin_commands.NoDoc has no docstring")


def test_verify_lists_only_failures_and_exits_1_with_any() -> None:
    cmd, args, app = command(VerifyPlugin, dummy=Dummy, nodoc=NoDoc)
    _, rows = cmd.take_action(args)
    assert [row[:2] for row in rows] == [("check", "nodoc")]
    assert cmd.status == 1
    assert app.stderr.getvalue() == "1 of 2 plugins fail conformance\n"


def test_verify_exits_0_when_every_plugin_conforms() -> None:
    cmd, args, app = command(VerifyPlugin, "-f", "value", dummy=Dummy)
    assert cmd.run(args) == 0
    assert app.stderr.getvalue() == "all 1 plugins conform\n"
    cmd, args, app = command(VerifyPlugin, "-f", "value", nodoc=NoDoc)
    assert cmd.run(args) == 1
    assert app.stdout.getvalue().startswith("check nodoc unknown ")


def test_doc_writes_the_reference_to_stdout_or_to_a_file(tmp_path: Path) -> None:
    cmd, args, app = command(DocPlugin, dummy=Dummy)
    assert cmd.take_action(args) == 0
    assert "dummy" in app.stdout.getvalue()
    out = tmp_path / "plugins.md"
    cmd, args, app = command(DocPlugin, "-o", str(out), dummy=Dummy)
    assert cmd.take_action(args) == 0
    assert app.stdout.getvalue() == ""
    assert "dummy" in out.read_text()
