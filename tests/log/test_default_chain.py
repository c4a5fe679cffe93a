"""The default chain is built from the filters installed: core names none of contrib's."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import stevedore
from stevedore.extension import Extension

from osops.log import pipeline
from osops.log.base import Filter
from osops.log.record import LogRecord
from osops.log.redact import Redact


class Early(Filter):
    """Tag records, before the other installed filters."""

    default_order = 5

    def process(self, record: LogRecord) -> LogRecord | None:
        record.tags.append("early")
        return record


class Named(Filter):
    """Only where it is named."""

    def process(self, record: LogRecord) -> LogRecord | None:
        return record


def _filters(*classes: type[Filter]) -> stevedore.ExtensionManager:  # type: ignore[type-arg]
    extensions = [Extension(cls.__name__.lower(), None, cls, None) for cls in classes]
    return stevedore.ExtensionManager.make_test_instance(extensions, namespace="osops.log.filter")


def test_installed_default_chain_is_redact_parse_enrich() -> None:
    assert pipeline.default_filters() == ("redact", "parse", "enrich")


def test_default_chain_orders_installed_filters_by_their_declared_place() -> None:
    manager = _filters(Named, Early, Redact)
    assert pipeline.default_filters(manager) == ("redact", "early")
    assert pipeline.build_chain(None, manager=manager).names == ["redact", "early"]


def test_core_only_install_parses_raw_lines_and_says_what_is_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "nova.log"
    log.write_text("2026-01-01 00:00:00.000 1 INFO nova.api password=S3cret\n")
    with caplog.at_level(logging.WARNING):
        chain = pipeline.build_chain(None, manager=_filters(Redact))
    assert chain.names == ["redact"]
    assert "install a distribution with a parse filter" in caplog.text
    [record] = chain.records(str(log))
    assert record.raw == "2026-01-01 00:00:00.000 1 INFO nova.api password=***"


def test_a_named_chain_says_nothing_of_the_default(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        chain = pipeline.build_chain(["redact"], manager=_filters(Redact))
    assert chain.names == ["redact"]
    assert caplog.text == ""
