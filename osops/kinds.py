"""The plugin kinds, one line each: name, namespace, contract, its rules, its titles."""

from __future__ import annotations

import importlib

from osops.exceptions import PluginNotFound
from osops.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Callable
    from typing import Any


class Kind(Value):
    """One plugin kind: what users type, where its plugins register, what they honour.

    Adding a kind is its contract and its rules in its own package, and one
    line in :data:`KINDS`.

    :param name: what users type (``osops plugin list --kind check``)
    :param namespace: the entry-point group its plugins register under
    :param contract: ``module:Class`` every plugin of the kind subclasses
    :param rules: ``module:function`` giving a plugin class's breaches of the
        kind's own rules (beyond the common ones of :mod:`osops.conformance`)
    :param description: the kind in a few words
    :param title: its heading in the generated reference (``osops plugin doc``)
    :param shown: class attributes ``osops plugin show`` reports besides the
        summary, arguments and perfdata
    """

    __slots__ = ("name", "namespace", "contract", "rules", "description", "title", "shown")

    def __init__(
        self,
        name: str,
        namespace: str,
        contract: str,
        rules: str | None,
        description: str,
        title: str,
        shown: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.namespace = namespace
        self.contract = contract
        self.rules = rules
        self.description = description
        self.title = title
        self.shown = shown

    def contract_class(self) -> type:
        """The contract, imported."""
        cls: type = _resolve(self.contract)
        return cls

    def rules_function(self) -> Callable[[Any], list[str]] | None:
        """The kind's own rules, imported (None: only the common ones apply)."""
        return _resolve(self.rules) if self.rules is not None else None


def _resolve(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "check",
            "osops.check",
            "osops.check.base:Check",
            "osops.check.conformance:problems",
            "monitoring check",
            "Checks",
            ("service", "runs_on"),
        ),
        Kind(
            "filter",
            "osops.log.filter",
            "osops.log.base:Filter",
            "osops.log.conformance:filter_problems",
            "log pipeline step",
            "Log filters",
            ("on_error",),
        ),
        Kind(
            "sink",
            "osops.log.sink",
            "osops.log.base:Sink",
            "osops.log.conformance:sink_problems",
            "log record destination",
            "Log sinks",
            ("batch_size",),
        ),
        Kind(
            "exporter",
            "osops.dashboard.exporter",
            "osops.dashboard.base:Exporter",
            "osops.dashboard.conformance:problems",
            "dashboard exporter",
            "Dashboard exporters",
            ("suffix", "media_type"),
        ),
        Kind(
            "command", "osops.cli", "cliff.command:Command", None, "osops subcommand", "Commands"
        ),
    )
}
#: The kind of each entry-point namespace.
BY_NAMESPACE = {kind.namespace: kind.name for kind in KINDS.values()}


def kind(name: str) -> Kind:
    """Look a kind up by the name users type.

    :raises PluginNotFound: naming the known kinds
    """
    try:
        return KINDS[name]
    except KeyError:
        raise PluginNotFound(
            f"no plugin kind {name!r} (known: {', '.join(sorted(KINDS))})"
        ) from None
