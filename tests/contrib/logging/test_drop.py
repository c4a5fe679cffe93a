"""The drop filter: by level, by logger, sampled by request."""

from __future__ import annotations

from helpers import SAMPLES

from osops.log import pipeline

NOVA_API = str(SAMPLES / "hp-ms-01-c29.nova-api.log")


def run(*options: str) -> list:  # type: ignore[type-arg]
    chain = pipeline.build_chain(["redact", "parse", "drop"], list(options))
    return list(chain.records(NOVA_API))


def test_level_floor() -> None:
    everything = run()
    kept = run("drop.level=INFO")
    assert {r.level for r in kept} == {r.level for r in everything} - {"DEBUG"}
    assert len(kept) == sum(1 for r in everything if r.level != "DEBUG")


def test_logger_regex() -> None:
    kept = run("drop.logger=^keystoneclient")
    assert kept and not any((r.logger or "").startswith("keystoneclient") for r in kept)


def test_sample_keeps_whole_requests() -> None:
    everything = run()
    sampled = run("drop.level=INFO", "drop.sample=4")
    debug = [r for r in sampled if r.level == "DEBUG"]
    assert 0 < len(debug) < sum(1 for r in everything if r.level == "DEBUG")
    chosen = {r.request_id for r in debug if r.request_id}
    all_debug_of_chosen = [r for r in everything if r.level == "DEBUG" and r.request_id in chosen]
    assert len([r for r in debug if r.request_id in chosen]) == len(all_debug_of_chosen)
    assert run("drop.level=INFO", "drop.sample=4") == sampled  # deterministic
