"""The default chain (redact, parse, enrich) fused into one pass from bytes to JSON lines.

Record by record, the chain builds a :class:`LogRecord` per line and passes it
through three filters and ``to_dict``; that is most of the cost of
``osops log parse``. Fused, a block of lines is redacted at once (the
redaction patterns never cross a line end; a private key block open at the
end of one block goes on into the next), the parse filter's own
:class:`LineParser` makes each record a plain dict keyed by ECS names, the
enrich filter's :meth:`Enrich.names` (worked out once per file) completes it,
and orjson writes it. Every field comes from the filters' code; a test holds the
output equal to the record-by-record chain's, byte for byte, on every bundled
sample, on fuzzed input and wherever a file is cut.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import orjson

from osops.exceptions import LogError
from osops.log.base import cut
from osops.log.fusing import Fused, Step
from osops.log.record import FIELDS
from osops.log.redact import Redact
from osops.log.redaction import Scanner, continues_key, mask, prefilter, redact_bytes
from osops.log.window import Window
from osops_logging.enrich import Enrich
from osops_logging.lines import LineParser
from osops_logging.names import END, RAW
from osops_logging.parse import Parse

# Bytes read, redacted and serialized at a time: a block's transient memory
# (about four times this) fits in the freed heap glibc is asked to keep
# (osops.log.worker.keep_freed_memory), so its pages are reused, not faulted in.
BLOCK: Final = 1 << 18
# Records serialized before they are joined and given out. Each is about a
# kilobyte that orjson grew by realloc; a few dozen alive at a time keep the heap
# they come from small and in cache: a tenth less time per line than a whole
# block's (measured whole processes, interleaved, on bench/make_corpus.py's logs).
RECORDS: Final = 32
SERVICE: Final = FIELDS["service"]
HOST: Final = FIELDS["host"]
MESSAGE: Final = FIELDS["message"]
TIMESTAMP: Final = FIELDS["timestamp"]
LEVEL: Final = FIELDS["level"]


def fuse(steps: Sequence[Step]) -> DefaultChain | None:
    """The fused chain, when ``steps`` is exactly redact, parse, enrich (not subclasses),
    and maybe the window of ``--since/--until/--level`` after them."""
    classes = [cls for _, cls, _ in steps]
    if classes not in ([Redact, Parse, Enrich], [Redact, Parse, Enrich, Window]):
        return None
    # Compiled here, before osops log parse forks its workers, they inherit it.
    prefilter()
    window = steps[3][2] if len(steps) == 4 else None
    return DefaultChain(steps[1][2], steps[2][2], window)


class DefaultChain(Fused):
    """redact, parse, enrich (and window) over byte ranges of plain files; picklable."""

    def __init__(
        self,
        parse_options: Mapping[str, Any],
        enrich_options: Mapping[str, Any],
        window_options: Mapping[str, Any] | None = None,
    ):
        self.parse_options = dict(parse_options)
        self.enrich_options = dict(enrich_options)
        self.window_options = dict(window_options) if window_options is not None else None

    def _parser(self, path: str) -> LineParser:
        options = self.parse_options
        return LineParser(path, options.get("format") or "auto", options.get("year"), False)

    def starts_record(self, path: str, line: bytes) -> bool:
        if continues_key(line.rstrip(b"\n").lower()):
            # Never cut where a private key block may go on: every piece then
            # starts outside one, as the record-by-record chain would be there.
            return False
        text = redact_bytes(line).decode("utf-8", "replace").rstrip("\r\n")
        return self._parser(path).starts_record(text)

    def serialize(self, path: str, start: int, stop: int, line: int) -> Iterator[bytes]:
        parser = self._parser(path)
        service, host = Enrich(self.enrich_options).names(path)
        dumps = orjson.dumps
        # The window's own test, on each record's time and level (as Window.process).
        window = Window(self.window_options) if self.window_options is not None else None
        scanner = Scanner()  # a private key block may go on from one block to the next
        offset, number = start, line
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed below, opened here to name the path
        except OSError as exc:
            raise LogError(f"{path}: {exc.strerror or exc}") from None
        limit: int = self.max_line
        with fh:
            fh.seek(start)
            for data, whole in _blocks(fh, stop - start, limit):
                out: list[bytes] = []
                lines, sizes = _lines(data, scanner)
                if whole >= 0:
                    sizes = [whole]  # one line cut short: its length in the file
                for raw, size in zip(lines, sizes, strict=True):
                    number += 1
                    # "end" is one past a last line with no newline; it is not written.
                    end = offset + size + 1
                    done = parser.feed(raw, offset, number, end)
                    offset = end
                    if done is not None and (
                        window is None or window.admits(done.get(TIMESTAMP), done.get(LEVEL))
                    ):
                        out.append(dumps(_finish(done, service, host)))
                        if len(out) >= RECORDS:
                            out.append(b"")
                            yield b"\n".join(out)
                            out = []
                if out:
                    out.append(b"")
                    yield b"\n".join(out)
        for done in parser.flush():
            if window is None or window.admits(done.get(TIMESTAMP), done.get(LEVEL)):
                yield dumps(_finish(done, service, host)) + b"\n"


def _blocks(fh: Any, remaining: int, limit: int) -> Iterator[tuple[bytes, int]]:
    """A byte range as blocks of whole lines, in time and memory linear in its size.

    A line of more than ``limit`` bytes comes alone, :func:`cut` as every
    reader cuts it, with its length in the file; only its head is ever held.

    :returns: (block, -1) or (one cut line, the line's length without newline)
    """
    carry = b""  # the start of a line the last block did not end
    skipped = -1  # inside a line longer than the cap (carry is its head): bytes past it
    while remaining > 0 or carry:
        block = fh.read(min(BLOCK, remaining)) if remaining > 0 else b""
        remaining = remaining - len(block) if block else 0  # 0: the file shrank
        if skipped >= 0:
            newline = block.find(b"\n")
            if newline < 0 and remaining > 0:
                skipped += len(block)
                continue
            length = limit + skipped + (newline if newline >= 0 else len(block))
            yield cut(carry, length), length
            carry, skipped = b"", -1
            block = block[newline + 1 :] if newline >= 0 else b""
        data = carry + block
        if remaining > 0 and block:
            at = data.rfind(b"\n") + 1
            data, carry = data[:at], data[at:]
            if len(carry) > limit:
                skipped = len(carry) - limit
                carry = carry[:limit]
        else:
            carry = b""  # the range's end: a last line may lack its newline
        if len(data) > limit:
            yield from _long_lines(data, limit)
        elif data:
            yield data, -1


def _long_lines(data: bytes, limit: int) -> Iterator[tuple[bytes, int]]:
    """A block's lines, those longer than ``limit`` alone and cut (see :func:`_blocks`)."""
    size = len(data)
    start = begin = 0  # the line looked at; the first line not yet given out
    while start < size:
        newline = data.find(b"\n", start)
        stop = size if newline < 0 else newline
        if stop - start > limit:
            if begin < start:
                yield data[begin:start], -1
            yield cut(data[start : start + limit], stop - start), stop - start
            begin = stop + 1
        start = stop + 1
    if begin < size:
        yield data[begin:], -1


def _lines(data: bytes, scanner: Scanner) -> tuple[list[str], list[int]]:
    """A block's lines, redacted and decoded, and each one's length in the file.

    The lengths leave out the newline. Mostly the block is ASCII: then it is
    decoded once, and its characters are its bytes.
    """
    spans = scanner.spans(data)
    lines: list[str]
    if data.isascii():
        lines = data.decode("ascii").split("\n")
        if not lines[-1]:
            lines.pop()  # data ends with a newline
        sizes = [len(text) for text in lines]
        for at, local in _secrets_by_line(spans, sizes):
            lines[at] = mask(lines[at].encode(), local).decode()
    else:
        encoded = data.split(b"\n")
        if not encoded[-1]:
            encoded.pop()
        sizes = [len(text) for text in encoded]
        for at, local in _secrets_by_line(spans, sizes):
            encoded[at] = mask(encoded[at], local)
        lines = [text.decode("utf-8", "replace") for text in encoded]
    if b"\r" in data:
        lines = [text.rstrip("\r") for text in lines]
    return lines, sizes


def _secrets_by_line(
    spans: list[tuple[int, int]], sizes: list[int]
) -> Iterator[tuple[int, list[tuple[int, int]]]]:
    """Each secret (none spans a line end) as its line's index and its span there.

    The last comes first, so that masking one leaves the spans before it in place.
    """
    if spans:
        starts = list(itertools.accumulate([size + 1 for size in sizes], initial=0))
        for begin, end in reversed(spans):
            at = bisect.bisect_right(starts, begin) - 1
            yield at, [(begin - starts[at], end - starts[at])]


def _finish(fields: dict[str, Any], service: str | None, host: str | None) -> dict[str, Any]:
    """An ECS-keyed field dict as :func:`osops.log.record.ecs` would give it, enriched."""
    # Without keep_raw, only a line no grammar knows carries its raw text (and end).
    unparsed = RAW in fields
    if unparsed:
        raw = fields.pop(RAW)
        del fields[END]
    if service and SERVICE not in fields:  # as Enrich.process: a name from the line wins
        fields[SERVICE] = service
    if host and HOST not in fields:
        fields[HOST] = host
    if unparsed:
        fields[MESSAGE] = raw
        fields["tags"] = ["unparsed"]
    return fields
