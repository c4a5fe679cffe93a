"""The plugin registry: lean lookup, load failures with their fix, the inventory."""

from __future__ import annotations

from typing import Any

import pytest
import stevedore
from stevedore.extension import Extension

from osops import inventory, plugins
from osops.check.base import Check
from osops.exceptions import PluginLoadError, PluginNotFound


def test_scan_finds_core_plugins_with_their_distribution() -> None:
    entries = {(e.kind, e.name): e for e in plugins.scan()}
    dummy = entries["check", "dummy"]
    assert (dummy.value, dummy.distribution) == ("osops.check.dummy:Dummy", "osops")
    assert entries["command", "plugin_list"].distribution == "osops"
    assert entries["filter", "parse"].distribution == "osops-logging"
    assert entries["check", "memcached"].distribution == "osops-monitoring"


def test_find_names_what_is_installed() -> None:
    with pytest.raises(PluginNotFound, match=r"no check named 'nope' \(installed: .*dummy"):
        plugins.find("check", "nope")
    with pytest.raises(PluginNotFound, match=r"no plugin kind 'widget'"):
        plugins.find("widget", "x")


def test_load_failure_says_what_and_the_fix() -> None:
    entry = plugins.EntryPoint("check", "x", "osops_nonexistent_mod:X", "osops-thing", "1")
    with pytest.raises(PluginLoadError) as info:
        plugins.load_entry(entry)
    assert "ModuleNotFoundError" in str(info.value)
    assert "reinstall osops-thing" in str(info.value)
    entry = plugins.EntryPoint("check", "x", "osops.check.dummy:Nope", "osops", "0")
    with pytest.raises(PluginLoadError, match=r"registers 'osops\.check\.dummy:Nope'"):
        plugins.load_entry(entry)


class Good(Check):
    """A conforming check."""

    def probe(self) -> Any:
        return []


class NoDoc(Check):
    def probe(self) -> Any:
        return []


def _manager(namespace: str, *classes: tuple[str, Any]) -> stevedore.ExtensionManager[Any]:
    extensions = [Extension(name, None, cls, None) for name, cls in classes]
    return stevedore.ExtensionManager.make_test_instance(extensions, namespace=namespace)


def test_inspect_flags_contract_breakers_and_keeps_the_rest() -> None:
    manager = _manager(
        "osops.check", ("good", Good), ("nodoc", NoDoc), ("Bad-Name", Good), ("notcheck", dict)
    )
    infos = {i.entry.name: i for i in inventory.inspect(["check"], managers={"check": manager})}
    assert infos["good"].status == "ok"
    assert "has no docstring" in str(infos["nodoc"].error)
    assert "not short snake_case" in str(infos["Bad-Name"].error)
    assert "is not a subclass of osops.check.base.Check" in str(infos["notcheck"].error)
    assert "CONTRIBUTING.rst" in str(infos["notcheck"].fix)


def test_load_checks_the_contract_and_says_it_in_the_one_format() -> None:
    manager = _manager("osops.check", ("good", Good), ("notcheck", dict))
    assert plugins.load("check", "good", manager) is Good
    with pytest.raises(PluginLoadError) as info:
        plugins.load("check", "notcheck", manager)
    assert str(info.value) == (
        "check 'notcheck' from unknown failed to load: builtins.dict is not a subclass of "
        "osops.check.base.Check (fix: make builtins.dict honour the check contract "
        "(CONTRIBUTING.rst))"
    )
    with pytest.raises(PluginNotFound, match=r"^no check named 'nope' \(installed: good, notc"):
        plugins.load("check", "nope", manager)


def test_load_finds_imports_and_checks_an_installed_plugin() -> None:
    from osops.check.dummy import Dummy
    from osops.log.jsonl import JsonLines

    assert plugins.load("check", "dummy") is Dummy
    assert plugins.load("sink", "jsonl") is JsonLines
    entry = plugins.EntryPoint("sink", "x", "osops.check.dummy:Dummy", "osops", "0")
    with pytest.raises(PluginLoadError) as info:
        plugins.load_entry(entry)
    assert str(info.value) == (
        "sink 'x' from osops failed to load: osops.check.dummy:Dummy is not a subclass of "
        "osops.log.base.Sink (fix: make osops.check.dummy:Dummy honour the sink contract "
        "(CONTRIBUTING.rst))"
    )
