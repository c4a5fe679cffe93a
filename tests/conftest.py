"""Shared fixtures: plugin packages built and installed for the tests."""

from __future__ import annotations

import pytest
from helpers import FIXTURES, install_target

# Real servers on 127.0.0.1 as fixtures, one module per server under tests/support/.
pytest_plugins = [
    "support.cloud.fixture",
    "support.haproxy",
    "support.keystone",
    "support.mariadb",
    "support.memcached",
    "support.monitoring",
    "support.prometheus",
    "support.rabbitmq",
    "support.rsyslog",
]


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment that adds the installed third-party osops-example package."""
    site = install_target(FIXTURES / "osops-example", tmp_path_factory.mktemp("example-site"))
    return {"PYTHONPATH": str(site)}


@pytest.fixture(scope="session")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment that adds the installed, deliberately broken osops-broken package."""
    site = install_target(FIXTURES / "osops-broken", tmp_path_factory.mktemp("broken-site"))
    return {"PYTHONPATH": str(site)}
