"""Declared arguments: conversion, KEY=VALUE options, declaration problems."""

from __future__ import annotations

import pytest

from osops.exceptions import UsageError
from osops.options import Argument, parse_options

ARGS = (
    Argument("hosts", "Where.", repeatable=True),
    Argument("port", "Port.", type="int", default=9200),
    Argument("verify", "Verify TLS.", type="bool", default=True),
    Argument("password", "Secret.", secret=True, type="int"),
)


def test_parse_key_value_options_with_defaults() -> None:
    assert parse_options(ARGS, ["hosts=a", "hosts=b", "verify=no"], "sink 'x'") == {
        "hosts": ["a", "b"],
        "port": 9200,
        "verify": False,
        "password": None,
    }


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["port"], "sink 'x': option 'port' is not KEY=VALUE"),
        (
            ["colour=red"],
            "sink 'x': unknown option 'colour' (known: hosts, password, port, verify)",
        ),
        (["port=high"], "--port: expected int, got 'high'"),
        (["verify=maybe"], "--verify: expected bool, got 'maybe'"),
        (["password=letmein"], "--password: expected int, got <hidden>"),
    ],
)
def test_bad_options_name_what_and_where(pairs: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_options(ARGS, pairs, "sink 'x'")
    assert str(info.value) == message


def test_declaration_problems() -> None:
    assert Argument("Bad_Name", "x").problems() == ["argument name 'Bad_Name' is not kebab-case"]
    assert Argument("ok", " ").problems() == ["argument 'ok' has no help text"]
    assert Argument("ok", "x", type="list").problems() == ["argument 'ok' has unknown type 'list'"]
    assert Argument("ok", "x", required=True, default=1).problems() == [
        "argument 'ok' is required but has a default"
    ]


def test_secret_options_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSOPS_PASSWORD", "42")
    assert parse_options(ARGS, [], "sink 'x'")["password"] == 42
    assert parse_options(ARGS, ["password=7"], "sink 'x'")["password"] == 7
    monkeypatch.setenv("OSOPS_PORT", "1")  # not a secret: not read from the environment
    assert parse_options(ARGS, [], "sink 'x'")["port"] == 9200


RANGED = (
    Argument("port", "Port.", type="int", default=5959, min=1, max=65535),
    Argument("timeout", "Seconds.", type="float", default=10.0, min=0.1, max=3600),
    Argument("retries", "Count.", type="int", default=0, min=0),
)


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("port=99999", "--port: expected int from 1 to 65535, got '99999'"),
        ("port=-1", "--port: expected int from 1 to 65535, got '-1'"),
        ("port=abc", "--port: expected int from 1 to 65535, got 'abc'"),
        ("timeout=inf", "--timeout: expected float from 0.1 to 3600, got 'inf'"),
        ("timeout=nan", "--timeout: expected float from 0.1 to 3600, got 'nan'"),
        ("timeout=-5", "--timeout: expected float from 0.1 to 3600, got '-5'"),
        ("retries=-1", "--retries: expected int of at least 0, got '-1'"),
    ],
)
def test_numbers_out_of_range_name_the_range(pair: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_options(RANGED, [pair], "sink 'x'")
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("raw", "accepted"),
    [(True, False), (2.5, False), (3.0, True), ("7", True), (float("nan"), False)],
)
def test_yaml_values_for_numbers(raw: object, accepted: bool) -> None:
    # From YAML (--config, a suite), true is no port and 2.5 no count.
    arg = Argument("count", "Count.", type="int", min=0)
    if accepted:
        assert arg.convert(raw) == int(raw)  # type: ignore[call-overload]
    else:
        with pytest.raises(UsageError, match=r"^--count: expected int of at least 0, got "):
            arg.convert(raw)


def test_installed_sinks_check_their_ranges() -> None:
    from osops.log import pipeline

    for pair, message in [
        ("port=99999", "--port: expected int from 1 to 65535, got '99999'"),
        ("timeout=inf", "--timeout: expected float from 0.1 to 3600, got 'inf'"),
    ]:
        with pytest.raises(UsageError) as info:
            pipeline.build_sink("logstash", [pair])
        assert str(info.value) == message
    assert pipeline.build_sink("logstash", ["port=5000", "timeout=2.5"]).options["port"] == 5000


def test_range_declaration_problems() -> None:
    assert Argument("ok", "x", min=1).problems() == [
        "argument 'ok' has a range but is not a number"
    ]
    assert Argument("ok", "x", type="int", min=5, max=1).problems() == [
        "argument 'ok' has min above max"
    ]
