"""The contract rules themselves (osops.conformance), each held to its exact message.

``test_conformance`` runs the rules over every installed plugin, which all
conform; here each rule is broken once, by a plugin made for it, and the list
of problems must be exactly that rule's message (so a rule that stops firing,
fires wrongly or fires for its neighbour fails).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

import pytest

from osops import conformance
from osops.check.base import Argument, Check, Perf
from osops.dashboard.base import Exporter
from osops.inventory import PluginInfo
from osops.log.base import Filter, Sink
from osops.log.record import LogRecord
from osops.plugins import EntryPoint


class GoodCheck(Check):
    """A check that breaks no rule."""

    service = "nova-api"
    arguments = (Argument("port", "Port to ask."), Argument("tls", "Use TLS.", type="bool"))
    perfdata = (
        Perf("up_ratio", "Share of services up.", uom="%", warning="90:", critical="50:"),
        Perf("latency", "Seconds to answer.", uom="s", critical="~:10"),
        Perf("bytes_in", "Bytes read.", uom="c"),
    )
    primary = "latency"

    def probe(self) -> Iterable[Any]:
        return []


class GoodFilter(Filter):
    """A filter that breaks no rule."""

    arguments = (Argument("level", "Lowest level kept.", choices=("INFO", "ERROR")),)
    on_error = "keep"

    def process(self, record: LogRecord) -> LogRecord:
        return record


class GoodSink(Sink):
    """A sink that breaks no rule."""

    arguments = (Argument("path", "Where to write.", required=True),)

    def write(self, records: Any) -> None:
        pass


class GoodExporter(Exporter):
    """An exporter that breaks no rule."""

    suffix = ".ndjson"

    def export(self, dashboard: Any) -> str:
        return ""


@abc.abstractmethod
def abstract(self: Any) -> None:
    """A second method a contract could ask for."""


GOOD = {"check": GoodCheck, "filter": GoodFilter, "sink": GoodSink, "exporter": GoodExporter}
QUAL = "test_conformance_rules.Broken"


def broken(kind: str, doc: str | None = "Breaks one rule.", **attributes: Any) -> type:
    """The good plugin of ``kind`` with some attributes changed."""
    return type("Broken", (GOOD[kind],), {"__doc__": doc, "__module__": __name__, **attributes})


def perf(label: str = "latency", **changes: Any) -> Perf:
    return Perf(label, changes.pop("help", "Seconds."), **changes)


@pytest.mark.parametrize("kind", GOOD)
def test_a_conforming_plugin_of_each_kind_has_no_problem(kind: str) -> None:
    assert conformance.problems(kind, "good_one", GOOD[kind]) == []


CHECK_CASES = [
    ({"perfdata": (perf(uom="kB"),)}, ["perfdata 'latency' has unit 'kB', not one Nagios knows"]),
    (
        {"perfdata": (perf(uom="sec"),)},
        ["perfdata 'latency' has unit 'sec', not one Nagios knows"],
    ),
    ({"primary": "load"}, ["primary metric 'load' is not declared in perfdata"]),
    ({"primary": None, "perfdata": ()}, []),
    (
        {"perfdata": (perf("Latency"),)},
        [
            "perfdata label 'Latency' is not snake_case",
            "primary metric 'latency' is not declared in perfdata",
        ],
    ),
    ({"perfdata": (perf(), perf())}, ["perfdata label 'latency' is declared twice"]),
    ({"perfdata": (perf(help=" "),)}, ["perfdata 'latency' has no help text"]),
    (
        {"perfdata": (perf(warning="abc"),)},
        [
            "perfdata 'latency' default warning 'abc' is no Nagios range "
            "(e.g. '0.5', '10:', '~:2'; the unit belongs in uom)"
        ],
    ),
    (
        {"perfdata": (perf(critical="1:x"),)},
        [
            "perfdata 'latency' default critical '1:x' is no Nagios range "
            "(e.g. '0.5', '10:', '~:2'; the unit belongs in uom)"
        ],
    ),
    (
        {"perfdata": ("latency",)},
        [
            "perfdata 'latency' is not an osops.check.base.Perf",
            "primary metric 'latency' is not declared in perfdata",
        ],
    ),
    ({"service": "Nova"}, ["service 'Nova' is not a lower-case name"]),
    ({"service": "-nova"}, ["service '-nova' is not a lower-case name"]),
    ({"service": None}, ["service None is not a lower-case name"]),
    ({"runs_on": "agent"}, ["runs_on is 'agent', expected 'anywhere' or 'host'"]),
    (
        {"arguments": (Argument("timeout", "Seconds."),)},
        ["argument 'timeout' is reserved by the framework"],
    ),
    (
        {"arguments": (Argument("output-format", "How."),)},
        ["argument 'output-format' is reserved by the framework"],
    ),
    (
        {"arguments": (Argument("port", "A."), Argument("port", "B."))},
        ["argument 'port' is declared twice"],
    ),
    ({"arguments": ("port",)}, ["argument 'port' is not an osops.options.Argument"]),
    ({"arguments": (Argument("Port", "Port."),)}, ["argument name 'Port' is not kebab-case"]),
    (  # one problem does not hide the next
        {"arguments": ("port", Argument("Port", "Port."), Argument("Port", "Again."))},
        [
            "argument 'port' is not an osops.options.Argument",
            "argument name 'Port' is not kebab-case",
            "argument name 'Port' is not kebab-case",
            "argument 'Port' is declared twice",
        ],
    ),
    (
        {"perfdata": ("load", perf(uom="kB"), perf(uom="MB"))},
        [
            "perfdata 'load' is not an osops.check.base.Perf",
            "perfdata 'latency' has unit 'kB', not one Nagios knows",
            "perfdata label 'latency' is declared twice",
        ],
    ),
]


@pytest.mark.parametrize(("attributes", "messages"), CHECK_CASES)
def test_check_rule(attributes: dict[str, Any], messages: list[str]) -> None:
    assert conformance.problems("check", "broken", broken("check", **attributes)) == messages


def test_every_unit_nagios_knows_is_accepted() -> None:
    for uom in ("", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"):
        assert conformance.problems("check", "c", broken("check", perfdata=(perf(uom=uom),))) == []


@pytest.mark.parametrize(
    ("kind", "attributes", "messages"),
    [
        ("filter", {"on_error": "ignore"}, ["on_error is 'ignore', expected 'drop' or 'keep'"]),
        ("filter", {"on_error": "drop"}, []),
        ("filter", {"default_order": 5}, []),
        (
            "filter",
            {"default_order": -1},
            ["default_order is -1, expected None or an int of 0 or more"],
        ),
        (
            "filter",
            {"default_order": "1"},
            ["default_order is '1', expected None or an int of 0 or more"],
        ),
        (
            "filter",
            {"arguments": (Argument("level", " "),)},
            ["argument 'level' has no help text"],
        ),
        (
            "sink",
            {"arguments": (Argument("path", "P.", type="path"),)},
            ["argument 'path' has unknown type 'path'"],
        ),
        (
            "sink",
            {"arguments": (Argument("timeout", "Seconds."),)},
            [],
        ),  # reserved for checks only
        ("exporter", {"suffix": "json"}, ["suffix 'json' is not a file suffix such as '.json'"]),
        ("exporter", {"suffix": ".JSON"}, ["suffix '.JSON' is not a file suffix such as '.json'"]),
        ("exporter", {"suffix": None}, ["suffix None is not a file suffix such as '.json'"]),
        (
            "exporter",
            {"arguments": (Argument("a", "A."), Argument("a", "A."))},
            ["argument 'a' is declared twice"],
        ),
    ],
)
def test_rules_of_the_other_kinds(
    kind: str, attributes: dict[str, Any], messages: list[str]
) -> None:
    assert conformance.problems(kind, "broken", broken(kind, **attributes)) == messages


@pytest.mark.parametrize(
    ("name", "obj", "messages"),
    [
        ("Bad-Name", GoodCheck, ["name 'Bad-Name' is not short snake_case"]),
        ("bad__name", GoodCheck, ["name 'bad__name' is not short snake_case"]),
        ("ok", dict, ["builtins.dict is not a subclass of osops.check.base.Check"]),
        (
            "Bad",
            GoodFilter,
            [
                "name 'Bad' is not short snake_case",
                f"{__name__}.GoodFilter is not a subclass of osops.check.base.Check",
            ],
        ),
        ("ok", len, ["<built-in function len> is not a subclass of osops.check.base.Check"]),
        (
            "ok",
            broken("check", doc=None),
            [f"{QUAL} has no docstring (its first line is the summary)"],
        ),
        (
            "ok",
            broken("check", doc="   "),
            [f"{QUAL} has no docstring (its first line is the summary)"],
        ),
        (
            "ok",
            type("Broken", (Check,), {"__doc__": "No probe.", "__module__": __name__}),
            [f"{QUAL} does not implement probe"],
        ),
        (
            "ok",
            type(
                "Broken",
                (Check,),
                {"__doc__": "Two missing.", "__module__": __name__, "extra": abstract},
            ),
            [f"{QUAL} does not implement extra, probe"],
        ),
    ],
)
def test_every_kind_is_named_subclassed_implemented_and_documented(
    name: str, obj: Any, messages: list[str]
) -> None:
    assert conformance.problems("check", name, obj) == messages


def test_a_broken_class_is_checked_against_its_own_kind_only() -> None:
    # A filter's rules say nothing of perfdata; a check's say nothing of on_error.
    assert conformance.problems("filter", "f", broken("filter", perfdata="nonsense")) == []
    assert conformance.problems("check", "c", broken("check", on_error="nonsense")) == []


def test_contract_class_of_each_kind() -> None:
    assert {kind: conformance.contract_class(kind) for kind in GOOD} == {
        "check": Check,
        "filter": Filter,
        "sink": Sink,
        "exporter": Exporter,
    }


def info(kind: str, name: str, distribution: str) -> PluginInfo:
    return PluginInfo(EntryPoint(kind, name, "x:Y", distribution, "1"))


def test_duplicate_names_are_per_kind_and_name_the_distributions() -> None:
    infos = [
        info("check", "http", "osops"),
        info("check", "http", "osops-extra"),
        info("check", "http", "osops"),
        info("filter", "http", "osops-logging"),
        info("check", "galera", "osops-monitoring"),
    ]
    assert conformance.duplicate_names(infos) == {("check", "http"): {"osops", "osops-extra"}}
