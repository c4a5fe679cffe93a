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
