"""The framework's check options, declared once: the parser, the reserved names, the export
and the help all come from ``osops.check.settings.FRAMEWORK``."""

from __future__ import annotations

import json

from osops.check import export
from osops.check.dummy import Dummy
from osops.check.settings import CONFIG, FRAMEWORK, RESERVED, build_parser, usage_text


def test_every_framework_option_is_parsed_reserved_and_in_the_help() -> None:
    parser = build_parser("dummy", Dummy)
    text = parser.format_help()
    usage = usage_text()
    for arg in FRAMEWORK:
        assert arg.name in RESERVED
        assert f"--{arg.name}" in text and f"--{arg.name}" in usage
        if arg.short:
            assert f"  -{arg.short}" in text
            assert f"-{arg.short}/--{arg.name}" in usage
    assert RESERVED - {arg.name for arg in FRAMEWORK} == {"help", "version"}
    assert vars(parser.parse_args(["-w", "1", "-c", "2", "-t", "3", "-vvv"])) == {
        "warning": ["1"],
        "critical": ["2"],
        "timeout": "3",
        "verbose": 3,
    }


def test_the_export_passes_on_the_framework_options_marked_for_it() -> None:
    data = json.loads(export.as_json([("dummy", Dummy)], "/usr/bin/osops"))
    names = [a["name"] for a in data[0]["arguments"]]
    assert names == ["state", "text"] + [a.name for a in FRAMEWORK if a.export]
    assert names[-1] == CONFIG.name
    assert {"verbose", "output-format"}.isdisjoint(names)
    assert "-w -c -t --config" in export.nagios([("dummy", Dummy)], "/usr/bin/osops")
