"""The drop filter: leave out records by level or logger, or keep only a sample of them."""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any

from osops.exceptions import UsageError
from osops.log.base import Filter
from osops.log.record import LogRecord
from osops.log.window import LEVELS
from osops.options import Argument


class Drop(Filter):
    """Drop records below a level or from matching loggers; sample what remains of them.

    Sampling is by request id when there is one (a sampled request keeps all
    its records, in every service), else by file offset: deterministic, so a
    restarted shipper samples the same records.
    """

    arguments = (
        Argument(
            "level",
            "Drop records below this level (DEBUG, INFO, WARNING, ERROR, ...).",
            choices=tuple(LEVELS),
        ),
        Argument("logger", "Drop records whose logger matches this regular expression."),
        Argument(
            "sample",
            "Of the records the other options would drop, keep 1 in N (0: keep none).",
            type="int",
            default=0,
            min=0,
        ),
        Argument(
            "keep-unparsed", "Never drop records no parser understood.", type="bool", default=True
        ),
    )
    on_error = "keep"

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._floor = LEVELS[options["level"]] if options.get("level") else None
        try:
            self._logger = re.compile(options["logger"]) if options.get("logger") else None
        except re.error as exc:
            raise UsageError(f"filter 'drop': option logger is not a regex: {exc}") from None
        if (options.get("sample") or 0) < 0:
            raise UsageError("filter 'drop': option sample must be 0 or more")

    def process(self, record: LogRecord) -> LogRecord | None:
        if not record.parsed:
            return record if self.options.get("keep_unparsed", True) else None
        unwanted = (
            self._floor is not None and LEVELS.get(record.level or "", 100) < self._floor
        ) or (self._logger is not None and bool(self._logger.search(record.logger or "")))
        if not unwanted:
            return record
        every = self.options.get("sample") or 0
        if every:
            key = record.request_id or f"{record.file}:{record.offset}"
            if zlib.crc32(key.encode()) % every == 0:
                return record
        return None
