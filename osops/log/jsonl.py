"""The jsonl sink: one JSON object per record, to stdout or a file."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

import orjson

from osops.exceptions import SinkError
from osops.log.base import Sink
from osops.log.record import LogRecord
from osops.options import Argument


class JsonLines(Sink):
    """Write records as JSON lines with ECS field names, to stdout or a file."""

    arguments = (
        Argument("path", "File to append to; '-' (the default) is standard output.", default="-"),
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._stream: IO[str] | None = None

    def _open(self) -> IO[str]:
        if self._stream is None:
            path = self.options.get("path") or "-"
            try:
                self._stream = sys.stdout if path == "-" else open(path, "a")  # noqa: SIM115
            except OSError as exc:
                raise SinkError(f"jsonl: cannot open {path}: {exc.strerror}") from None
        return self._stream

    def write(self, records: Sequence[LogRecord]) -> None:
        stream = self._open()
        dumps = orjson.dumps
        try:
            stream.write("".join(dumps(r.to_dict()).decode() + "\n" for r in records))
            stream.flush()
        except OSError as exc:
            raise SinkError(f"jsonl: write failed: {exc.strerror}") from None

    def close(self) -> None:
        if self._stream is not None and self._stream is not sys.stdout:
            self._stream.close()
        self._stream = None
