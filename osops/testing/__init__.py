"""The test kit for plugin authors: run a check, a filter chain, a sink; servers that misbehave.

Everything here is plain functions and context managers; :mod:`osops.testing.fixtures`
offers them as pytest fixtures, loaded through the ``pytest11`` entry point
whenever pytest runs with osops installed.
"""

from __future__ import annotations

from osops.testing.checks import (
    CheckRun,
    PerfItem,
    assert_perfdata_declared,
    parse_output,
    parse_perfdata,
    run_check,
)
from osops.testing.logs import records_of, run_chain, run_sink
from osops.testing.servers import (
    Receiver,
    fault_server,
    free_port,
    receiver,
    refused_port,
    silent_listener,
)

__all__ = [
    "CheckRun",
    "PerfItem",
    "Receiver",
    "assert_perfdata_declared",
    "fault_server",
    "free_port",
    "parse_output",
    "parse_perfdata",
    "receiver",
    "records_of",
    "refused_port",
    "run_chain",
    "run_check",
    "run_sink",
    "silent_listener",
]
