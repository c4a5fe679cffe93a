"""The redact filter: every text field of a record masked before any sink sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from osops.log.base import Filter
from osops.log.record import LogRecord
from osops.log.redaction import Scanner

# Attributes that may carry free text; others hold parsed ids, numbers and levels.
TEXT_FIELDS = ("raw", "message", "error_message", "stack_trace", "url_path")


class Redact(Filter):
    """Mask passwords, tokens, keys and URL credentials in every text field.

    Names oslo.utils masks and more, in every shape they are logged in,
    URL passwords, Fernet, JWS and PKI tokens, Ceph keys and private key
    blocks (across lines too): the README's "Logs" section lists them.
    """

    on_error = "drop"  # a record that could not be redacted is never shipped
    default_order = 0  # each physical line is masked before anything is parsed out of it

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        # The raw lines come in file order: a private key block may span records.
        self._lines = Scanner()

    def process(self, record: LogRecord) -> LogRecord:
        in_key = self._lines.in_key
        for attr in TEXT_FIELDS:
            value = getattr(record, attr)
            if value:
                scanner = self._lines if attr == "raw" else Scanner(in_key)
                setattr(record, attr, scanner.redact_text(value))
        return record
