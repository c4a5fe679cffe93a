"""``osops log parse|ship`` as cliff runs them, over filters and sinks a test injects."""

from __future__ import annotations

import io
import json
import logging
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import stevedore
from stevedore.extension import Extension

from osops.commands.log import ParseLog, ShipLog
from osops.log.base import Sink
from osops.log.record import LogRecord
from osops.log.redact import Redact

LINE = "2026-01-01 00:00:00.000 1 INFO nova.api password=S3cret\n"


class Collect(Sink):
    """Keep every record written, in memory."""

    got: list[str] = []

    def write(self, records: Sequence[LogRecord]) -> None:
        Collect.got.extend(record.raw for record in records)


class App:
    """What a command needs of cliff's App: somewhere to write (bytes too)."""

    def __init__(self) -> None:
        self.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        self.stderr = io.StringIO()

    def output(self) -> str:
        self.stdout.flush()
        return self.stdout.buffer.getvalue().decode()  # type: ignore[attr-defined]


def run(cls: type[Any], argv: list[str], *plugins: tuple[str, Any]) -> App:
    app = App()
    cmd = cls(app, None)
    manager = stevedore.ExtensionManager.make_test_instance(
        [Extension(name, None, plugin, None) for name, plugin in plugins]
    )
    cmd.managers = {"filter": manager, "sink": manager}
    assert cmd.take_action(cmd.get_parser("osops log").parse_args(argv)) == 0
    return app


@pytest.fixture
def log(tmp_path: Path) -> str:
    path = tmp_path / "nova-api.log"
    path.write_text(LINE)
    return str(path)


def test_parse_with_core_alone_writes_redacted_raw_records_and_warns(
    log: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        app = run(ParseLog, [log, "-j", "1"], ("redact", Redact))
    [record] = [json.loads(line) for line in app.output().splitlines()]
    assert record["message"] == LINE.rstrip().replace("S3cret", "***")
    assert "S3cret" not in app.output()
    assert "install a distribution with a parse filter" in caplog.text


@pytest.fixture
def handlers() -> Iterator[None]:
    """ship sets SIGTERM and SIGINT handlers: put the test session's back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("handlers")
def test_ship_delivers_every_record_to_the_injected_sink(log: str, tmp_path: Path) -> None:
    Collect.got = []
    state = tmp_path / "state.json"
    app = run(
        ShipLog,
        [log, "--sink", "collect", "--state", str(state), "--format", "json"],
        ("redact", Redact),
        ("collect", Collect),
    )
    assert Collect.got == [LINE.rstrip().replace("S3cret", "***")]
    assert json.loads(app.output())["shipped"] == 1
    assert json.loads(state.read_text())["files"]
