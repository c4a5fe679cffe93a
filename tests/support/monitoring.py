"""osops installed for the nagios user (a readable venv of the system Python), as a session fixture."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def monitoring_osops() -> Iterator[Path]:
    """osops installed for the nagios user: a readable venv of the system Python."""
    import monitoring_daemons

    where = monitoring_daemons.readable_dir("osops-venv-")
    try:
        yield monitoring_daemons.build_venv(where)
    finally:
        shutil.rmtree(where, ignore_errors=True)
