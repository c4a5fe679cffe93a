"""Every plugin installed from this repository passes its kind's contract (fails CI if not)."""

from __future__ import annotations

import pytest

from osops import inventory

OURS = {"osops", "osops-monitoring", "osops-logging", "osops-upgrade"}
INSTALLED = [info for info in inventory.inspect() if info.entry.distribution in OURS]


def test_every_distribution_of_the_repository_is_installed() -> None:
    assert {info.entry.distribution for info in INSTALLED} == OURS


@pytest.mark.parametrize("info", INSTALLED, ids=lambda i: f"{i.entry.kind}:{i.entry.name}")
def test_plugin_conforms(info: inventory.PluginInfo) -> None:
    assert info.ok, info.status


def test_names_unique_per_kind() -> None:
    seen = [(i.entry.kind, i.entry.name) for i in inventory.inspect()]
    assert len(seen) == len(set(seen))
