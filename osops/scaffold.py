"""``osops plugin new``: a third-party package with one plugin, its tests and packaging."""

from __future__ import annotations

import re
import string
from pathlib import Path

from osops import __version__
from osops.conformance import NAME
from osops.exceptions import UsageError
from osops.kinds import KINDS

_DIST = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def class_name(name: str) -> str:
    """``ntp_offset`` as ``NtpOffset``."""
    return "".join(part.capitalize() for part in name.split("_"))


def pin() -> str:
    """The osops requirement a plugin package states: this minor release line."""
    major, minor = __version__.split(".")[:2]
    return f"osops>={major}.{minor},<{major}.{int(minor) + 1}"


def create(kind_name: str, name: str, dist: str | None, directory: Path | None) -> list[Path]:
    """Write a package holding one plugin, or add the plugin to a package written before.

    :param dist: distribution name (``osops-`` and the plugin name by default)
    :param directory: where the package is (``./DIST`` by default)
    :returns: the files written, in order
    :raises UsageError: a bad name, or files that would be overwritten
    """
    if kind_name not in TEMPLATES:
        raise UsageError(f"no plugin kind {kind_name!r} (known: {', '.join(sorted(TEMPLATES))})")
    if kind_name == "command" and "_" not in name:
        raise UsageError(f"command {name!r}: name it OBJECT_ACTION, e.g. ntp_status")
    if not NAME.match(name):
        raise UsageError(f"{name!r} is not short snake_case, e.g. ntp_offset")
    dist = dist or "osops-" + name.replace("_", "-")
    if not _DIST.match(dist):
        raise UsageError(f"distribution {dist!r} is not lower-case words joined by '-'")
    package = dist.replace("-", "_")
    root = directory if directory is not None else Path(dist)
    fields = {
        "kind": kind_name,
        "name": name,
        "cls": class_name(name),
        "dist": dist,
        "package": package,
        "namespace": KINDS[kind_name].namespace,
        "pin": pin(),
        "words": name.replace("_", " "),
        "command": name.replace("_", " "),
        "upper": name.upper(),
    }
    module, tests = TEMPLATES[kind_name]
    plugin_file = root / package / f"{name}.py"
    test_file = root / "tests" / f"test_{name}.py"
    for path in (plugin_file, test_file):
        if path.exists():
            raise UsageError(f"{path} exists: choose another name")
    written = []
    pyproject = root / "pyproject.toml"
    if pyproject.exists():
        _register(pyproject, fields)
    else:
        if root.exists() and any(root.iterdir()):
            raise UsageError(f"{root} exists and is no package written by 'osops plugin new'")
        written += _write(root / "pyproject.toml", PYPROJECT, fields)
        written += _write(root / "README.md", README, fields)
        written += _write(root / package / "__init__.py", INIT, fields)
    written += _write(plugin_file, module, fields)
    written += _write(test_file, tests, fields)
    return written


def _write(path: Path, template: str, fields: dict[str, str]) -> list[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(string.Template(template).substitute(fields))
    return [path]


def _register(pyproject: Path, fields: dict[str, str]) -> None:
    """Add one entry point to a pyproject.toml this module wrote (its tables come last)."""
    text = pyproject.read_text()
    if f'name = "{fields["dist"]}"' not in text:
        raise UsageError(f"{pyproject} is not the package of {fields['dist']}: give --dist")
    header = f'[project.entry-points."{fields["namespace"]}"]\n'
    line = f'{fields["name"]} = "{fields["package"]}.{fields["name"]}:{fields["cls"]}"\n'
    if header in text:
        text = text.replace(header, header + line, 1)
    else:
        text = text.rstrip("\n") + "\n\n" + header + line
    pyproject.write_text(text)


PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "osops plugins"
readme = "README.md"
requires-python = ">=3.11"
# The osops release line these plugins were tested with: the plugin contracts
# may change between minor releases.
dependencies = ["$pin"]

[project.optional-dependencies]
test = ["pytest"]

[tool.setuptools.packages.find]
include = ["$package*"]

[project.entry-points."$namespace"]
$name = "$package.$name:$cls"
"""

README = """\
# $dist

osops plugins, found by osops through their entry points (`pyproject.toml`).

    pip install -e '.[test]'               # osops sees the plugins at once
    python -m pytest                       # tests with osops's test kit (osops.testing)
    osops plugin verify --dist $dist    # the contract every plugin must honour
    osops plugin list                      # where and how they are listed

Add a plugin of any kind to this package:
`osops plugin new KIND NAME --dist $dist -o .`
"""

INIT = '''\
"""$dist: osops plugins."""
'''

CHECK = '''\
"""The $name check: how long a TCP service takes to accept a connection."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

from osops.check.base import Argument, Check, Perf, metric
from osops.exceptions import CheckError, ServiceDown


class $cls(Check):
    """Check how long a TCP service takes to accept a connection.

    Replace the probe with what your check measures; keep one metric() per
    declared perfdata label. The first docstring line is the summary shown
    by ``osops plugin list`` and in the Icinga configuration.
    """

    service = "generic"
    arguments = (
        Argument("host", "Host to connect to.", default="127.0.0.1"),
        Argument("port", "TCP port to connect to.", type="int", required=True, min=1, max=65535),
    )
    perfdata = (
        Perf(
            "connect_time",
            "Seconds until the connection was accepted.",
            uom="s",
            min=0,
            warning="1",
            critical="5",
        ),
    )

    def probe(self) -> Iterator[Any]:
        host, port = self.options["host"], self.options["port"]
        started = time.monotonic()
        try:
            # self.timeout is -t: osops's own alarm fires a little after it,
            # so this message, which says what happened, is the one shown.
            with socket.create_connection((host, port), self.timeout):
                pass
        except ConnectionRefusedError:
            raise ServiceDown(f"{host}:{port} refused the connection") from None
        except TimeoutError:
            raise CheckError(f"{host}:{port} did not accept within {self.timeout:g}s") from None
        except OSError as exc:
            raise CheckError(f"{host}:{port}: {exc.strerror or exc}") from None
        yield metric("connect_time", round(time.monotonic() - started, 6))
'''

CHECK_TESTS = '''\
"""The $name check, run as Icinga runs it, against real sockets on 127.0.0.1."""

from __future__ import annotations

from osops.testing import assert_perfdata_declared, run_check

from $package.$name import $cls


def test_ok_when_the_service_accepts(silent_server: int) -> None:
    run = run_check("$name", "--port", str(silent_server))
    assert (run.exit_code, run.summary) == (0, f"connect_time is {run.values['connect_time']}s")
    assert run.values["connect_time"] < 1
    assert_perfdata_declared(run, $cls)


def test_critical_when_the_connection_is_refused(free_port: int) -> None:
    run = run_check("$name", "--port", str(free_port))
    assert (run.exit_code, run.output) == (
        2,
        f"${upper} CRITICAL - 127.0.0.1:{free_port} refused the connection\\n",
    )


def test_a_threshold_from_the_command_line(silent_server: int) -> None:
    run = run_check("$name", "--port", str(silent_server), "-w", "0")
    assert run.exit_code == 1


def test_runs_as_icinga_runs_it(free_port: int) -> None:
    run = run_check("$name", "--port", str(free_port), process=True)
    assert (run.exit_code, run.stderr) == (2, "")
'''

FILTER = '''\
"""The $name filter: tag the records that mention a word."""

from __future__ import annotations

from osops.log.base import Filter
from osops.log.record import LogRecord
from osops.options import Argument


class $cls(Filter):
    """Tag the records whose message mentions a word.

    Replace process() with what your step does. It gets every record in
    file order and returns it (changed or not), or None to drop it.
    """

    arguments = (
        Argument("word", "Word to look for, case-insensitive.", default="error"),
        Argument("tag", "Tag to add.", default="$name"),
    )
    # "keep": a record this step fails on goes on, tagged; "drop" fails closed.
    on_error = "keep"

    def process(self, record: LogRecord) -> LogRecord:
        # message is None when no parser understood the line: fall back to raw.
        text = record.message if record.message is not None else record.raw
        if self.options["word"].lower() in text.lower():
            record.add_tag(self.options["tag"])
        return record
'''

FILTER_TESTS = '''\
"""The $name filter, through osops's own pipeline."""

from __future__ import annotations

from osops.testing import run_chain

LINES = ["volume attached", "ERROR: volume lost", "an Error again"]


def test_tags_the_records_that_mention_the_word() -> None:
    records = run_chain(["$name"], LINES)
    assert [(r.raw, list(r.tags)) for r in records] == [
        ("volume attached", []),
        ("ERROR: volume lost", ["$name"]),
        ("an Error again", ["$name"]),
    ]


def test_options() -> None:
    records = run_chain(["$name"], LINES, options=["$name.word=volume", "$name.tag=vol"])
    assert [list(r.tags) for r in records] == [["vol"], ["vol"], []]
'''

SINK = '''\
"""The $name sink: records as JSON lines over TCP."""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from osops.exceptions import SinkError
from osops.log.base import Sink
from osops.log.record import LogRecord
from osops.options import Argument


class $cls(Sink):
    """Send records as JSON lines over TCP.

    write() returns only once the whole batch is sent, or raises SinkError:
    osops log ship checkpoints after it returns and sends the batch again
    after an error. Connect lazily, in write(), and release in close().
    """

    arguments = (
        Argument("host", "Host to send to.", default="127.0.0.1"),
        Argument("port", "TCP port to send to.", type="int", required=True, min=1, max=65535),
        Argument("timeout", "Seconds a send may take.", type="float", default=10.0, min=0.1),
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.conn: socket.socket | None = None

    def write(self, records: Sequence[LogRecord]) -> None:
        payload = b"".join(json.dumps(r.to_dict()).encode() + b"\\n" for r in records)
        where = f"{self.options['host']}:{self.options['port']}"
        try:
            if self.conn is None:
                self.conn = socket.create_connection(
                    (self.options["host"], self.options["port"]), self.options["timeout"]
                )
            self.conn.sendall(payload)
        except OSError as exc:
            self.close()
            raise SinkError(f"{where}: {exc.strerror or exc}") from None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
'''

SINK_TESTS = '''\
"""The $name sink, against a real receiver on 127.0.0.1 that counts every record."""

from __future__ import annotations

import pytest

from osops.exceptions import SinkError
from osops.testing import Receiver, records_of, run_sink


def test_every_record_arrives(sink_receiver: Receiver) -> None:
    records = records_of([f"line {n}" for n in range(1200)])
    run_sink("$name", records, [f"port={sink_receiver.port}"])
    sink_receiver.wait(1200)
    assert [r["message"] for r in sink_receiver.records] == [f"line {n}" for n in range(1200)]


def test_a_refused_connection_is_a_sink_error(free_port: int) -> None:
    with pytest.raises(SinkError) as info:
        run_sink("$name", records_of(["a line"]), [f"port={free_port}"])
    assert str(info.value) == f"sink '$name': 127.0.0.1:{free_port}: Connection refused"
'''

EXPORTER = '''\
"""The $name exporter: a dashboard as a plain-text outline."""

from __future__ import annotations

from osops.dashboard.base import Exporter
from osops.dashboard.model import Dashboard


class $cls(Exporter):
    """Export a dashboard as a plain-text outline of its rows and panels.

    export() returns the whole document; osops writes it.
    """

    suffix = ".txt"
    media_type = "text/plain"

    def export(self, dashboard: Dashboard) -> str:
        lines = [dashboard.title]
        for row in dashboard.rows:
            lines.append(f"  {row.title}")
            lines.extend(f"    {panel.title}: {panel.query}" for panel in row.panels)
        return "\\n".join(lines) + "\\n"
'''

EXPORTER_TESTS = '''\
"""The $name exporter on a small dashboard definition."""

from __future__ import annotations

from osops import plugins
from osops.dashboard.model import Dashboard

BOARD = {
    "title": "Demo",
    "rows": [
        {
            "title": "APIs",
            "panels": [
                {"title": "Up", "type": "stat", "source": "metrics", "query": "osops_check_state"}
            ],
        }
    ],
}


def test_outline() -> None:
    exporter = plugins.load("exporter", "$name")({})
    text = exporter.export(Dashboard.from_dict("demo", BOARD))
    assert text == "Demo\\n  APIs\\n    Up: osops_check_state\\n"
'''

COMMAND = '''\
"""The '$command' command."""

from __future__ import annotations

from typing import Any

from cliff.show import ShowOne


class $cls(ShowOne):
    """Show what the $dist package provides.

    The first docstring line is the --help text. List and show commands
    return (columns, rows) and never print.
    """

    def take_action(self, parsed_args: Any) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        return ("package", "command"), ("$dist", "$command")
'''

COMMAND_TESTS = '''\
"""The '$command' command, run as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_shows_the_package() -> None:
    osops = os.path.join(os.path.dirname(sys.executable), "osops")
    proc = subprocess.run(
        [osops, *"$command".split(), "-f", "json"], capture_output=True, text=True, check=False
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert json.loads(proc.stdout) == {"package": "$dist", "command": "$command"}
'''

#: Per kind: the plugin module's template and its tests'.
TEMPLATES = {
    "check": (CHECK, CHECK_TESTS),
    "filter": (FILTER, FILTER_TESTS),
    "sink": (SINK, SINK_TESTS),
    "exporter": (EXPORTER, EXPORTER_TESTS),
    "command": (COMMAND, COMMAND_TESTS),
}
